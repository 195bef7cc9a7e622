/**
 * `listing-notifier render --config FILE [--registry URL] EVENT...`: runs the pure pipeline over files
 * holding a Kafka record's value (Debezium JSON, or Confluent-framed bytes with --registry) and prints
 * one JSON line per file:
 *   {"source": FILE, "outcome": "notify"|"dropped"|"dead-letter", "reason": STRING,
 *    "messages": [{"channel": STRING, "payload": {"text": STRING, "blocks": [...]}}]}
 * Dropped and dead-lettered events are outcomes, not failures: exit 0. Exit 2 for a usage or
 * configuration error (or an EVENT file that cannot be read), 1 when the registry is unavailable.
 *
 * An empty file is a tombstone (Kafka's null value). A file inside a captured fixture folder
 * (test/fixtures/debezium/<case>/NN.value.json with meta.json beside it) is rendered with its
 * captured key, headers and topic, so that e.g. a primary-key change is recognised as one.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { checkConfig } from '../config/index.ts';
import { isNotifierError } from '../domain/errors.ts';
import type { Outcome } from '../domain/outcome.ts';
import type { SourceRecord } from '../domain/record.ts';
import type { SchemaRegistryPort } from '../ports/index.ts';
import type { CliIo } from './io.ts';

const usage = 'usage: listing-notifier render --config FILE [--registry URL] EVENT...';

export const help = `${usage}

Runs the pure pipeline (decode -> normalize -> diff -> significance -> route -> render) over files
holding a Kafka record's value and prints one JSON line per file:
  {"source": FILE, "outcome": "notify"|"dropped"|"dead-letter", "reason": ..., "messages": [...]}
An empty file is a tombstone. A file in a captured fixture folder (meta.json beside it) is rendered
with its captured key, headers and topic.

Options:
  -c, --config FILE    the rules file (required)
      --registry URL   schema registry for Confluent-framed values
  -h, --help           this text

Exit codes:
  0  every file rendered (dropped and dead-letter are outcomes, not failures)
  2  usage or configuration error, or an EVENT file that cannot be read
  1  the schema registry is unavailable`;

interface RenderArgs {
  config: string;
  registry: string | undefined;
  events: string[];
}

export function parseRenderArgs(argv: string[]): RenderArgs | { help: true } | { error: string } {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string', short: 'c' },
        registry: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    });
    if (values.help) return { help: true };
    if (values.config === undefined || values.config === '') return { error: 'missing --config FILE' };
    if (positionals.length === 0) return { error: 'missing EVENT file(s)' };
    if (values.registry !== undefined && !URL.canParse(values.registry))
      return { error: `--registry: not a URL: ${values.registry}` };
    return { config: values.config, registry: values.registry, events: positionals };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

interface FixtureRecordMeta {
  topic?: string;
  partition?: number;
  offset?: string | number;
  timestamp?: string | number;
  keyFile?: string | null;
  valueFile?: string | null;
  headers?: Record<string, string | null> | null;
}

/** The captured key, headers and topic for a value file that sits in a fixture folder, if any. */
async function fixtureContext(file: string): Promise<FixtureRecordMeta | undefined> {
  const meta = join(dirname(file), 'meta.json');
  if (!existsSync(meta)) return undefined;
  try {
    const parsed = JSON.parse(await readFile(meta, 'utf8')) as { records?: FixtureRecordMeta[] };
    return parsed.records?.find((r) => r.valueFile === basename(file));
  } catch {
    return undefined;
  }
}

async function recordFor(file: string, value: Buffer, defaultTopic: string): Promise<SourceRecord> {
  const context = await fixtureContext(file);
  const headers: SourceRecord['headers'] = {};
  for (const [name, text] of Object.entries(context?.headers ?? {}))
    if (text !== null) headers[name] = Buffer.from(text);
  const keyFile = context?.keyFile;
  return {
    topic: context?.topic ?? defaultTopic,
    partition: context?.partition ?? 0,
    offset: String(context?.offset ?? 0),
    key: keyFile ? await readFile(join(dirname(file), keyFile)) : null,
    value: value.length === 0 ? null : value,
    headers,
    timestamp: String(context?.timestamp ?? 0),
  };
}

/** The line the command prints: exactly the four documented keys. */
export function outcomeLine(source: string, outcome: Outcome): string {
  return JSON.stringify({
    source,
    outcome: outcome.kind,
    reason: outcome.reason,
    messages:
      outcome.kind === 'notify'
        ? outcome.messages.map((m) => ({ channel: m.channel, payload: m.payload }))
        : [],
  });
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  const args = parseRenderArgs(argv);
  if ('help' in args) {
    io.stdout(help);
    return 0;
  }
  if ('error' in args) {
    io.stderr(`${args.error}\n${usage}`);
    return 2;
  }

  let text: string;
  try {
    text = await readFile(args.config, 'utf8');
  } catch (error) {
    io.stderr(`${args.config}: cannot read: ${(error as Error).message}`);
    return 2;
  }
  const checked = checkConfig(text, args.config);
  if (!checked.ok) {
    io.stderr(`${args.config}: invalid configuration (listing-notifier check-config ${args.config})`);
    for (const line of checked.errors) io.stderr(line);
    return 2;
  }
  const config = checked.config;

  // Loaded only when needed: render without a registry stays free of the registry client.
  let registry: SchemaRegistryPort | undefined;
  if (args.registry !== undefined) {
    const { createSchemaRegistry } = await import('../adapters/schema-registry.ts');
    registry = createSchemaRegistry({ host: args.registry });
  }
  const { createPipeline } = await import('../pipeline/index.ts');
  const pipeline = createPipeline(config, registry === undefined ? {} : { registry });

  let exit = 0;
  for (const file of args.events) {
    let value: Buffer;
    try {
      value = await readFile(file);
    } catch (error) {
      io.stderr(`${file}: cannot read: ${(error as Error).message}`);
      exit = 2;
      continue;
    }
    const record = await recordFor(file, value, config.source.topics[0] ?? 'monolith.public.listings');
    try {
      io.stdout(outcomeLine(file, await pipeline.process(record)));
    } catch (error) {
      // Only 'retry' and 'stop' errors get here (e.g. the registry is unavailable): not an outcome.
      io.stderr(`${file}: ${isNotifierError(error) ? `${error.code}: ${error.message}` : String(error)}`);
      return 1;
    }
  }
  return exit;
}
