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
import type { Clock } from '../ports/index.ts';
import { openCommandStore, startCommand } from './command-context.ts';
import type { CliIo } from './io.ts';
import { parseWarmArgs, type WarmContext } from './store-warm-args.ts';

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
    openStore: () => openCommandStore(config, connections, url),
    ...(deps.signal === undefined ? {} : { signal: deps.signal }),
  };
  if (args.source === 'table') return (await import('./store-warm-table.ts')).warmFromTable(args, context);
  return (await import('./store-warm-topic.ts')).warmFromTopic(args, context);
}
