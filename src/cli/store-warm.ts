/**
 * `listing-notifier store warm --config FILE ([--table T] [--database-url-env VAR] | --from-topic TOPIC)`:
 * fills the last-values store (store.url, Redis) with the current values of the watched columns, so
 * that the first change after a deploy on a table at REPLICA IDENTITY DEFAULT already reads "from X to
 * Y" (issue 18). Two sources, the DBA's choice:
 * - the table over a read-only connection (store-warm-table.ts);
 * - a snapshot topic: Debezium's topic after an initial or incremental snapshot, or a compacted copy of
 *   it (store-warm-topic.ts).
 * The service itself also stores snapshot reads (op r) without notifying.
 *
 * Exit codes: 0 done; 2 usage or configuration (no store.url, no such table or topic, ...); 1 database,
 * Kafka or store failure.
 */
import { parseArgs } from 'node:util';
import type { RedisStore } from '../adapters/redis-store.ts';
import type { Connections } from '../config/connections.ts';
import type { Config } from '../config/index.ts';
import { type Clock, noopLogger } from '../ports/index.ts';
import { startCommand } from './command-context.ts';
import type { CliIo } from './io.ts';

const usage = `usage: listing-notifier store warm --config FILE [--table SCHEMA.TABLE] [--database-url-env VAR] [--batch N] [--progress N]
       listing-notifier store warm --config FILE --from-topic TOPIC [--columns-of TOPIC] [--batch N] [--progress N]`;

export const help = `${usage}

Fills the last-values store (store.url) with the watched columns' current values (the rules' fields:
each column and a money field's currency column), so the first change after a deploy reads "from X to
Y" even at REPLICA IDENTITY DEFAULT (or binlog_row_image=MINIMAL). The source is the DBA's choice:

  --table: the table over a read-only connection (one REPEATABLE READ READ ONLY transaction, paged
  by primary key). Its values count as older than any change (position "0"): they never replace a
  value the service learned from the change stream, and every change replaces them.

  --from-topic: a snapshot topic, read from its earliest offsets up to the end offsets taken at
  start (it ends; it does not follow the topic), through a throw-away consumer group that commits
  nothing. Either Debezium's own topic after an initial or incremental snapshot (its op r records
  hold every row; later creates and updates are newer still), or a compacted copy of it (the latest
  record per key). Each record is decoded as the service decodes it and stored with its own source
  position (LSN, binlog file/pos): the store keeps a value only if it is newer than the stored one,
  so running this while the service runs is safe. Snapshot reads, creates and updates store their
  after image; deletes remove nothing (a deleted listing's values stay until store.lastValues.ttlMs
  expires them); tombstones, control records and records that do not decode are skipped and counted.

Options:
  -c, --config FILE          the rules file (required): fields, store.url, store.keyPrefix; with
                             --from-topic also source.brokers and the registry, as the service reads
      --table T              read the table T (SCHEMA.TABLE, e.g. public.listings); its primary key
                             names the listing
      --database-url-env V   with --table: the environment variable holding the database URL
                             (default DATABASE_URL); give it a read-only role (SELECT on the table)
      --from-topic TOPIC     read the snapshot topic TOPIC instead of the table
      --columns-of TOPIC     with --from-topic: decode with source.columns of this source topic
                             (default TOPIC itself; for a compacted copy under another name)
      --batch N              rows per page, or store writes per round trip (default 1000)
      --progress N           a progress line on stderr every N records or rows (default 10000; 0: none)
  -h, --help                 this text

Environment: KAFKA_BROKERS, LOG_LEVEL (as for the other commands reading Kafka).

Exit codes:
  0  done
  2  usage or configuration error (no store.url, no such table or topic, no single-column primary key,
     the URL variable unset)
  1  database, Kafka, schema registry or store failure`;

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

/** Longest wait for Redis to accept commands (the store adapter queues none before it is ready). */
const STORE_CONNECT_MS = 5000;

async function openStore(config: Config, connections: Connections, url: string): Promise<RedisStore> {
  const { createRedisStore } = await import('../adapters/redis-store.ts');
  const { password } = connections.store;
  const store = createRedisStore({
    url,
    keyPrefix: config.store.keyPrefix,
    ledgerRetentionMs: config.store.ledger.retentionMs,
    lastValuesTtlMs: config.store.lastValues.ttlMs,
    commandTimeoutMs: 5000,
    ...(password === undefined ? {} : { password }),
    logger: noopLogger,
  });
  if (!(await store.whenReady(STORE_CONNECT_MS))) {
    await store.close();
    throw new Error(`store.url: Redis did not accept a connection within ${STORE_CONNECT_MS} ms`);
  }
  return store;
}

export async function run(
  argv: string[],
  io: CliIo,
  deps: { env?: NodeJS.ProcessEnv; clock?: Clock; signal?: AbortSignal } = {},
): Promise<number> {
  const started = await startCommand(argv, io, deps, usage, parseWarmArgs);
  if ('exit' in started) return started.exit;
  const { args, config, connections, env, clock } = started;
  const url = config.store.url;
  if (url === null) {
    io.stderr(
      'store.url: null; store warm fills a shared store (Redis). Without one the service keeps the values in its own process and its snapshot reads fill them.',
    );
    return 2;
  }
  const context: WarmContext = {
    config,
    connections,
    env,
    io,
    clock,
    openStore: () => openStore(config, connections, url),
    ...(deps.signal === undefined ? {} : { signal: deps.signal }),
  };
  if (args.source === 'table') return (await import('./store-warm-table.ts')).warmFromTable(args, context);
  return (await import('./store-warm-topic.ts')).warmFromTopic(args, context);
}
