/**
 * `listing-notifier explain`: "why did I (not) get a notification?". Fetches a record by topic,
 * partition and offset, or every record of a listing in a time range, and prints each pipeline
 * stage's decision with today's rules (src/pipeline/explain.ts), plus where the service's consumer
 * group stands on that partition and the mutes in force that apply (the shared store's). Reads through a throw-away consumer group; changes nothing.
 */
import { parseArgs } from 'node:util';
import type { Connections } from '../config/connections.ts';
import type { Config } from '../config/index.ts';
import type { SourceRecord } from '../domain/record.ts';
import { decodeRecord } from '../pipeline/decode/index.ts';
import { explainRecord } from '../pipeline/explain.ts';
import { decimalColumnsOf } from '../pipeline/index.ts';
import { normalize } from '../pipeline/normalize.ts';
import type { Clock, SchemaRegistryPort, TopicReader } from '../ports/index.ts';
import {
  commandLogger,
  kafkaFailure,
  openReader,
  parseWhen,
  startCommand,
  whenHelp,
} from './command-context.ts';
import { explanationJson, explanationLines, type GroupPosition, type MuteFacts } from './explain-text.ts';
import type { CliIo } from './io.ts';
import { type OpenedMutes, openRedisMutes } from './mute.ts';

const usage = `usage: listing-notifier explain --config FILE --partition P --offset O [--topic T] [--json]
       listing-notifier explain --config FILE --listing ID [--since WHEN] [--until WHEN] [--topic T]...
                                [--limit N] [--json]`;

export const help = `${usage}

Runs records of the source topic through today's rules and prints every stage's decision: the decoded
fields (before -> after), the columns that changed, significance (or why the change is not
significant), each rule and why it matched or not, the channels, the rendered text, and the outcome
the service acts on. Also says whether the service's group (source.groupId) has processed the record,
and which mutes in force (read from the shared store, store.url) make the service drop its messages
("muted by @ana until ...").

Options:
  -c, --config FILE   the rules file (required)
      --topic T       the source topic (default: source.topics; needed with --offset when there are several)
      --partition P   with --offset: one record
      --offset O
      --listing ID    every record of this listing (by its key) between --since and --until
      --since WHEN    default 24h ago: ${whenHelp}
      --until WHEN    default now
      --limit N       --listing: explain the last N records found; default 20
      --json          one JSON object per record
  -h, --help          this text

Environment: KAFKA_BROKERS, LOG_LEVEL (unset: one "waiting for Kafka" line while a broker is
unreachable; set: JSON log lines on stderr at that level).

Exit codes:
  0  explained (whatever the outcome)
  2  usage or configuration error, a topic, partition or offset with no record, no record of the listing
  1  Kafka error, or the schema registry unavailable`;

export type ExplainArgs = {
  config: string;
  topics: string[] | undefined;
  json: boolean;
} & (
  | { mode: 'offset'; partition: number; offset: string }
  | { mode: 'listing'; listing: string; sinceMs: number; untilMs: number | null; limit: number }
);

export function parseExplainArgs(argv: string[], nowMs: number): ExplainArgs | { error: string } {
  let values: Record<string, string | string[] | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        config: { type: 'string', short: 'c' },
        topic: { type: 'string', multiple: true },
        partition: { type: 'string' },
        offset: { type: 'string' },
        listing: { type: 'string' },
        since: { type: 'string' },
        until: { type: 'string' },
        limit: { type: 'string' },
        json: { type: 'boolean' },
      },
    }));
  } catch (error) {
    return { error: (error as Error).message };
  }
  const str = (k: string): string | undefined => values[k] as string | undefined;
  const config = str('config');
  if (config === undefined || config === '') return { error: '--config: missing FILE' };
  const base = { config, topics: values.topic as string[] | undefined, json: values.json === true };
  const byOffset = str('partition') !== undefined || str('offset') !== undefined;
  const byListing = str('listing') !== undefined;
  if (byOffset === byListing) return { error: 'give either --partition and --offset, or --listing' };
  if (byOffset) {
    const partition = Number(str('partition'));
    if (!Number.isInteger(partition) || partition < 0)
      return { error: `--partition: expected a whole number >= 0, got ${JSON.stringify(str('partition'))}` };
    const offset = str('offset') ?? '';
    if (!/^\d{1,19}$/.test(offset))
      return { error: `--offset: expected an offset, got ${JSON.stringify(offset)}` };
    for (const k of ['since', 'until', 'limit'])
      if (str(k) !== undefined) return { error: `--${k}: only with --listing` };
    return { ...base, mode: 'offset', partition, offset };
  }
  const when = (k: 'since' | 'until'): number | null | { error: string } => {
    const text = str(k);
    if (text === undefined) return null;
    return parseWhen(text, nowMs) ?? { error: `--${k}: expected ${whenHelp}, got ${JSON.stringify(text)}` };
  };
  const since = when('since');
  const until = when('until');
  if (since !== null && typeof since === 'object') return since;
  if (until !== null && typeof until === 'object') return until;
  const limit = str('limit') === undefined ? 20 : Number(str('limit'));
  if (!Number.isSafeInteger(limit) || limit < 1)
    return { error: `--limit: expected a positive whole number, got ${JSON.stringify(str('limit'))}` };
  return {
    ...base,
    mode: 'listing',
    listing: str('listing') ?? '',
    sinceMs: since ?? nowMs - 86_400_000,
    untilMs: until,
    limit,
  };
}

export interface ExplainDeps {
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
  /** The mute store at store.url (default: the Redis one, as `mute` opens it; tests hand in another). */
  openMutes?: (config: Config, connections: Connections, url: string) => Promise<OpenedMutes>;
}

/**
 * The mutes in force, read once (issue 17, item 2: explain says when the service drops a message
 * because its listing or rules are muted). Never fails the command: a store that does not answer, or
 * none, is said in the output.
 */
async function readMutes(
  config: Config,
  connections: Connections,
  now: number,
  open: NonNullable<ExplainDeps['openMutes']>,
): Promise<MuteFacts> {
  const url = config.store.url;
  if (url === null)
    return { unknown: "no shared store (store.url null): mutes live in the service's own process" };
  let opened: OpenedMutes | undefined;
  try {
    opened = await open(config, connections, url);
    return { mutes: await opened.mutes.list(now), now };
  } catch (error) {
    return { unknown: `the store did not answer: ${error instanceof Error ? error.message : String(error)}` };
  } finally {
    await opened?.close().catch(() => {});
  }
}

export async function run(argv: string[], io: CliIo, deps: ExplainDeps = {}): Promise<number> {
  const started = await startCommand(argv, io, deps, usage, parseExplainArgs);
  if ('exit' in started) return started.exit;
  const { args, config, connections, env } = started;
  const topics = args.topics ?? config.source.topics;
  if (args.mode === 'offset' && topics.length !== 1)
    return usageError(io, `--topic: give one topic with --offset (source.topics has ${topics.length})`);
  let registry: SchemaRegistryPort | undefined;
  if (config.source.registryUrl !== null) {
    const { createSchemaRegistry } = await import('../adapters/schema-registry.ts');
    registry = createSchemaRegistry({ host: config.source.registryUrl, ...connections.registry });
  }
  const deps2 = registry === undefined ? {} : { registry };
  const logger = commandLogger(env, io);
  const mutes = await readMutes(config, connections, started.clock.now(), deps.openMutes ?? openRedisMutes);
  let reader: TopicReader | undefined;
  try {
    reader = await openReader(config, connections, logger, 'explain');
    for (const topic of topics)
      if (!(await reader.topicExists(topic))) return usageError(io, `${topic}: no such topic`);
    const records =
      args.mode === 'offset'
        ? await one(reader, topics[0] ?? '', args)
        : await ofListing(reader, topics, args, config, deps2);
    if (typeof records === 'string') return usageError(io, records);
    const positions = new Map<string, GroupPosition>();
    for (const record of records) {
      const key = `${record.topic}:${record.partition}`;
      if (!positions.has(key)) {
        const committed = (await reader.committed(config.source.groupId, record.topic)).find(
          (c) => c.partition === record.partition,
        )?.offset;
        positions.set(key, {
          groupId: config.source.groupId,
          committed: committed === undefined || BigInt(committed) < 0n ? null : committed,
        });
      }
      const explanation = await explainRecord(record, config, deps2);
      const position = positions.get(key);
      if (args.json) io.stdout(explanationJson(record, explanation, position, mutes));
      else for (const line of explanationLines(record, explanation, position, mutes)) io.stdout(line);
    }
    return 0;
  } catch (error) {
    return kafkaFailure(io, 'explain', error);
  } finally {
    await reader?.close();
  }
}

function usageError(io: CliIo, message: string): number {
  io.stderr(`listing-notifier explain: ${message}`);
  return 2;
}

async function one(
  reader: TopicReader,
  topic: string,
  args: Extract<ExplainArgs, { mode: 'offset' }>,
): Promise<SourceRecord[] | string> {
  const mark = (await reader.watermarks(topic)).find((m) => m.partition === args.partition);
  if (mark === undefined) return `${topic} has no partition ${args.partition}`;
  const offset = BigInt(args.offset);
  if (offset < BigInt(mark.low) || offset >= BigInt(mark.high))
    return `${topic}[${args.partition}] holds offsets ${mark.low}..${BigInt(mark.high) - 1n}; no record at ${args.offset}`;
  const found: SourceRecord[] = [];
  await reader.read({
    topic,
    ranges: [{ partition: args.partition, from: args.offset, to: (offset + 1n).toString() }],
    onRecord: async (record) => {
      found.push(record);
    },
  });
  return found;
}

/** The listing's records between since and until: offsets by timestamp, then each record's key. */
async function ofListing(
  reader: TopicReader,
  topics: string[],
  args: Extract<ExplainArgs, { mode: 'listing' }>,
  config: Config,
  deps: { registry?: SchemaRegistryPort },
): Promise<SourceRecord[] | string> {
  const found: SourceRecord[] = [];
  const decodeDeps = { ...deps, decimalColumns: decimalColumnsOf(config) };
  let scanned = 0;
  for (const topic of topics) {
    const [marks, from, to] = await Promise.all([
      reader.watermarks(topic),
      reader.offsetsAt(topic, args.sinceMs),
      args.untilMs === null ? Promise.resolve(null) : reader.offsetsAt(topic, args.untilMs),
    ]);
    const ranges = marks.map(({ partition, high }) => ({
      partition,
      from: from.find((f) => f.partition === partition)?.offset ?? high,
      to: to?.find((t) => t.partition === partition)?.offset ?? high,
    }));
    await reader.read({
      topic,
      ranges,
      onRecord: async (record) => {
        scanned += 1;
        if (!mightHoldListing(record.key, args.listing)) return;
        if ((await listingOf(record, decodeDeps)) !== args.listing) return;
        found.push(record);
        // Only the last --limit are explained: keep no more.
        if (found.length > args.limit) found.shift();
      },
    });
  }
  if (found.length === 0)
    return `no record of listing ${JSON.stringify(args.listing)} among ${scanned} record(s) between ${new Date(args.sinceMs).toISOString()} and ${args.untilMs === null ? 'now' : new Date(args.untilMs).toISOString()}`;
  return found;
}

/**
 * A cheap look at the key's bytes before decoding the record (a day of a busy topic is many records):
 * a JSON key holding listing 42 holds the text "42". Keys that may not show the id as text (Confluent-
 * framed binary, ids with characters JSON may escape, no key) are decoded to be sure.
 */
export function mightHoldListing(key: Buffer | null, listing: string): boolean {
  if (key === null || key[0] === 0 || !/^[A-Za-z0-9._:-]+$/.test(listing)) return true;
  return key.includes(listing);
}

/** The record's listing id, or null when it does not decode (explain still shows those by offset). */
async function listingOf(
  record: SourceRecord,
  deps: Parameters<typeof decodeRecord>[1],
): Promise<string | null> {
  try {
    const decoded = await decodeRecord(record, deps);
    return decoded.kind === 'envelope' ? normalize(decoded).listingId : null;
  } catch {
    return null;
  }
}
