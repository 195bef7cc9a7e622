/**
 * `listing-notifier <command> [...]`. Each command lives in its own file and exports
 * `run(argv, io): Promise<number>` (the exit code) and `help` (its usage, options and exit codes).
 * Commands are loaded lazily so that `check-config` does not pay for kafkajs.
 *
 * `<command> --help` (or -h) prints the command's help on stdout and exits 0, whatever else is on the
 * line (before a `--`): it is answered here, once, so that no command can forget it.
 *
 * Exit codes, the same for every command: 0 ok; 2 bad usage or configuration; 1 Kafka, Slack or
 * another runtime failure.
 */
import type { CliIo } from './io.ts';

type Command = (argv: string[], io: CliIo) => Promise<number>;
interface CommandModule {
  run: Command;
  help: string;
}

const commands: Record<string, { summary: string; load: () => Promise<CommandModule> }> = {
  'check-config': {
    summary: 'check-config FILE                 validate a rules file (exit 2 with path-precise errors)',
    load: () => import('./check-config.ts'),
  },
  render: {
    summary: 'render --config FILE EVENT...     render Debezium record values to Slack payloads (JSON lines)',
    load: () => import('./render.ts'),
  },
  run: {
    summary: 'run --config FILE                 consume, render and deliver (the service)',
    load: () => import('./run.ts'),
  },
  replay: {
    summary: "replay --config FILE --to-…       reset the consumer group's offsets (service stopped)",
    load: () => import('./replay.ts'),
  },
  dlq: {
    summary: "dlq list|show|redrive --config …  look at dead letters; redrive them through today's rules",
    load: () => import('./dlq.ts'),
  },
  store: {
    summary:
      'store warm --config FILE …         fill the last-values store from the table or a snapshot topic',
    load: () => import('./store-warm.ts'),
  },
  explain: {
    summary: "explain --config FILE …           why a record did (not) notify: every stage's decision",
    load: () => import('./explain.ts'),
  },
  mute: {
    summary: 'mute list|add|remove --config …   mute a listing or a rule for a while (in the shared store)',
    load: () => import('./mute.ts'),
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
    '',
    "listing-notifier <command> --help shows a command's options.",
    'Exit codes: 0 ok; 2 bad usage or configuration; 1 Kafka, Slack or another runtime failure.',
  ].join('\n');

/** Whether the arguments ask for help (an option before any `--`). */
export function wantsHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  const options = end === -1 ? argv : argv.slice(0, end);
  return options.includes('--help') || options.includes('-h');
}

export async function main(argv: string[], io: CliIo = defaultIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(usage());
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (command === undefined) {
    io.stderr(`unknown command: ${name}\n${usage()}`);
    return 2;
  }
  const module = await command.load();
  if (wantsHelp(rest)) {
    io.stdout(module.help);
    return 0;
  }
  return module.run(rest, io);
}
