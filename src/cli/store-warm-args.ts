/**
 * What the two sources of `listing-notifier store warm` are handed (the table, store-warm-table.ts; a
 * snapshot topic, store-warm-topic.ts): their arguments, parsed and checked (their meaning:
 * store-warm.ts `help`), and the command's surroundings. Apart from the command so that the sources
 * need not import the command that loads them.
 */
import { parseArgs } from 'node:util';
import type { RedisStore } from '../adapters/redis-store.ts';
import type { Connections } from '../config/connections.ts';
import type { Config } from '../config/index.ts';
import type { Clock } from '../ports/index.ts';
import type { CliIo } from './io.ts';

interface CommonArgs {
  config: string;
  batch: number;
  progress: number;
}

export type TableArgs = CommonArgs & { source: 'table'; table: string; urlEnv: string };
export type TopicArgs = CommonArgs & { source: 'topic'; topic: string; columnsOf: string };
export type WarmArgs = TableArgs | TopicArgs;

const whole = (text: string | undefined, fallback: number, min: number, max: number): number | undefined => {
  const n = Number(text ?? fallback);
  return Number.isInteger(n) && n >= min && n <= max ? n : undefined;
};

export function parseWarmArgs(argv: string[]): WarmArgs | { error: string } {
  const [sub, ...rest] = argv;
  if (sub !== 'warm') return { error: `expected the subcommand "warm", got ${JSON.stringify(sub ?? '')}` };
  let values: Partial<
    Record<
      'config' | 'table' | 'database-url-env' | 'from-topic' | 'columns-of' | 'batch' | 'progress',
      string
    >
  >;
  try {
    ({ values } = parseArgs({
      args: rest,
      strict: true,
      allowPositionals: false,
      options: {
        config: { type: 'string', short: 'c' },
        table: { type: 'string' },
        'database-url-env': { type: 'string' },
        'from-topic': { type: 'string' },
        'columns-of': { type: 'string' },
        batch: { type: 'string' },
        progress: { type: 'string' },
      },
    }));
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
  if (values.config === undefined || values.config === '') return { error: '--config: missing FILE' };
  const batch = whole(values.batch, 1000, 1, 100_000);
  if (batch === undefined)
    return { error: `--batch: expected an integer 1..100000, got ${JSON.stringify(values.batch)}` };
  const progress = whole(values.progress, 10_000, 0, Number.MAX_SAFE_INTEGER);
  if (progress === undefined)
    return { error: `--progress: expected a whole number (0: none), got ${JSON.stringify(values.progress)}` };
  const common = { config: values.config, batch, progress };
  const tableOption =
    values.table !== undefined
      ? '--table'
      : values['database-url-env'] !== undefined
        ? '--database-url-env'
        : undefined;
  const topic = values['from-topic'];
  if (topic !== undefined) {
    if (tableOption !== undefined)
      return {
        error: `${tableOption}: not with --from-topic (the source is the table or the topic, not both)`,
      };
    if (topic === '') return { error: '--from-topic: missing TOPIC' };
    const columnsOf = values['columns-of'] ?? topic;
    if (columnsOf === '') return { error: '--columns-of: missing TOPIC' };
    return { ...common, source: 'topic', topic, columnsOf };
  }
  if (values['columns-of'] !== undefined) return { error: '--columns-of: only with --from-topic' };
  // Neither source named: the table, as before the topic source existed (public.listings, DATABASE_URL).
  const table = values.table ?? 'public.listings';
  if (!/^[A-Za-z_][\w$]*\.[A-Za-z_][\w$]*$/.test(table))
    return { error: `--table: expected SCHEMA.TABLE, got ${JSON.stringify(table)}` };
  return { ...common, source: 'table', table, urlEnv: values['database-url-env'] ?? 'DATABASE_URL' };
}

/** What a source module needs: the command's own surroundings and the store it fills. */
export interface WarmContext {
  config: Config;
  /** The secured connections the config names (src/config/connections.ts). */
  connections: Connections;
  env: NodeJS.ProcessEnv;
  io: CliIo;
  clock: Clock;
  /** The store (store.url), connected; rejects when Redis does not answer. Close it when done. */
  openStore(): Promise<RedisStore>;
  /** Ends a topic read early; default SIGINT/SIGTERM. */
  signal?: AbortSignal;
}
