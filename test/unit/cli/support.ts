import type { CliIo } from '../../../src/cli/io.ts';

/** A CliIo that keeps what a command prints. */
export function captureIo(): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (line) => out.push(line), stderr: (line) => err.push(line) };
}
