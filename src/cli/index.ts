/**
 * `listing-notifier <command> [...]`. Each command lives in its own file and exports
 * `run(argv, io): Promise<number>` (the exit code). Commands are loaded lazily so that
 * `check-config` does not pay for kafkajs.
 */
export interface CliIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
}

type Command = (argv: string[], io: CliIo) => Promise<number>;

const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  'check-config': {
    summary: 'check-config FILE                 validate a rules file (exit 2 with path-precise errors)',
    load: async () => (await import('./check-config.ts')).run,
  },
  render: {
    summary: 'render --config FILE EVENT...     render Debezium record values to Slack payloads (JSON lines)',
    load: async () => (await import('./render.ts')).run,
  },
  run: {
    summary: 'run --config FILE                 consume, render and deliver (the service)',
    load: async () => (await import('./run.ts')).run,
  },
  replay: {
    summary: "replay --config FILE --to-…       reset the consumer group's offsets (service stopped)",
    load: async () => (await import('./replay.ts')).run,
  },
};

const defaultIo: CliIo = {
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
};

export const usage = (): string =>
  [
    'usage: listing-notifier <command> [options]',
    '',
    ...Object.values(commands).map((c) => `  ${c.summary}`),
  ].join('\n');

export async function main(argv: string[], io: CliIo = defaultIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    io.stdout(usage());
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (command === undefined) {
    io.stderr(`unknown command: ${name}\n${usage()}`);
    return 2;
  }
  return (await command.load())(rest, io);
}
