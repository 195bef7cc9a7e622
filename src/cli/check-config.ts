/**
 * `listing-notifier check-config FILE`: validates a rules file with the same function the service
 * uses at start (checkConfig). Exit 0 and "ok: FILE" when valid; exit 2 with one problem per line
 * (`path: problem, got <value>`) when not, or on a usage error.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { checkConfig } from '../config/index.ts';
import type { CliIo } from './io.ts';

const usage = 'usage: listing-notifier check-config FILE';

export const help = `${usage}

Validates a rules file with the same function the service uses at start. Prints "ok: FILE", or one
problem per line as \`path: problem, got <value>\` (e.g. rules[3].channels[0]: unknown channel, ...).

Options:
  -h, --help   this text

Exit codes:
  0  the file is valid
  2  the file is invalid or cannot be read, or a usage error`;

export async function run(argv: string[], io: CliIo): Promise<number> {
  let file: string | undefined;
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    if (values.help) {
      io.stdout(help);
      return 0;
    }
    if (positionals.length !== 1)
      throw new Error(positionals.length === 0 ? 'missing FILE' : 'give exactly one FILE');
    file = positionals[0];
  } catch (error) {
    io.stderr(`${(error as Error).message}\n${usage}`);
    return 2;
  }
  if (file === undefined) return 2;

  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    io.stderr(`${file}: cannot read: ${(error as Error).message}`);
    return 2;
  }
  const result = checkConfig(text, file);
  if (result.ok) {
    io.stdout(`ok: ${file}`);
    return 0;
  }
  for (const line of result.errors) io.stderr(line);
  return 2;
}
