/**
 * The real stack (PostgreSQL + Kafka + Kafka Connect/Debezium) as integration tests and
 * scripts/capture-fixtures.ts see it: where it is, a pg client factory, and a topic reader that
 * starts at the topic's current end and waits (with a deadline) for records matching a predicate.
 *
 * Which stack is used is decided once, in test/integration/global-setup.ts; tests read the endpoints
 * with `inject('stack')`.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { fixKafkajsIdleLoop } from '../../src/adapters/kafkajs-idle-loop.ts';
import type { SourceRecord } from '../../src/domain/record.ts';

export interface StackEndpoints {
  /** How the stack was found: from the environment, started in containers, or scripts/stack.sh. */
  source: 'env' | 'testcontainers' | 'native';
  kafkaBrokers: string[];
  databaseUrl: string;
  connectUrl: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackEndpoints;
  }
}

/** Debezium's topic for the monolith's table: <topic.prefix>.<schema>.<table> (debezium/connector.json). */
export const LISTINGS_TOPIC = 'monolith.public.listings';
export const CONNECTOR_NAME = 'listings-connector';
/** The MariaDB source (debezium/mariadb/connector.json): <topic.prefix>.<database>.<table>. */
export const MARIADB_LISTINGS_TOPIC = 'monolith-mariadb.monolith.listings';
export const MARIADB_CONNECTOR_NAME = 'listings-mariadb-connector';
/** The MariaDB table's column names -> the names the rules file uses (source.columns; debezium/mariadb/schema.sql). */
export const MARIADB_COLUMNS = { lst_stat_cd: 'LST_STAT_CD', stk_qty: 'prod_stk_qty', upd_dt: 'upd_ts' };

const repoRoot = new URL('../../', import.meta.url);

/** scripts/stack/versions.env as a map (the one place versions and ports are kept). */
export function readVersionsEnv(
  path: URL = new URL('scripts/stack/versions.env', repoRoot),
): Record<string, string> {
  const entries: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match?.[1] !== undefined && match[2] !== undefined) entries[match[1]] = match[2];
  }
  return entries;
}

/** The endpoints of scripts/stack.sh (and docker-compose.yml, which publishes the same host ports). */
export function localStackEndpoints(source: 'testcontainers' | 'native'): StackEndpoints {
  const v = readVersionsEnv();
  return {
    source,
    kafkaBrokers: [`127.0.0.1:${v.KAFKA_PORT ?? '9092'}`],
    databaseUrl: `postgres://postgres:postgres@127.0.0.1:${v.POSTGRES_PORT ?? '5433'}/monolith`,
    connectUrl: `http://127.0.0.1:${v.CONNECT_PORT ?? '8083'}`,
  };
}

/** The stack's MariaDB (scripts/stack.sh, the monolith role): MARIADB_URL, else the versions.env port. */
export function mariadbUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return (
    env.MARIADB_URL ??
    `mysql://monolith:monolith@127.0.0.1:${readVersionsEnv().MARIADB_PORT ?? '3307'}/monolith`
  );
}

/** KAFKA_BROKERS (comma-separated), DATABASE_URL and CONNECT_URL, when all three are set. */
export function endpointsFromEnv(env: NodeJS.ProcessEnv = process.env): StackEndpoints | null {
  const { KAFKA_BROKERS, DATABASE_URL, CONNECT_URL } = env;
  if (!KAFKA_BROKERS || !DATABASE_URL || !CONNECT_URL) return null;
  return {
    source: 'env',
    kafkaBrokers: KAFKA_BROKERS.split(',').map((broker) => broker.trim()),
    databaseUrl: DATABASE_URL,
    connectUrl: CONNECT_URL,
  };
}

/** A connected pg client; the caller ends it (`await client.end()`). */
export async function connectPg(databaseUrl: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'listing-notifier-tests' });
  await client.connect();
  return client;
}

export interface ConnectorStatus {
  connector: { state: string; trace?: string };
  tasks: { id: number; state: string; trace?: string }[];
}

/** GET /connectors/<name>/status, or null when the connector does not exist. */
export async function connectorStatus(connectUrl: string, name: string): Promise<ConnectorStatus | null> {
  const response = await fetch(`${connectUrl}/connectors/${encodeURIComponent(name)}/status`);
  if (response.status === 404) return null;
  if (!response.ok) throw new Error(`GET ${name}/status: HTTP ${response.status}`);
  return (await response.json()) as ConnectorStatus;
}

/** Polls `probe` until it returns a value other than undefined; throws `what` after `timeoutMs`. */
export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  { timeoutMs = 60_000, intervalMs = 250 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (performance.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Waits until the connector and all its tasks are RUNNING; fails at once when one FAILED. */
export async function waitForConnectorRunning(
  connectUrl: string,
  name: string,
  timeoutMs = 120_000,
): Promise<ConnectorStatus> {
  return waitUntil(
    `connector ${name} RUNNING`,
    async () => {
      const status = await connectorStatus(connectUrl, name);
      const failed = status && [status.connector, ...status.tasks].find((s) => s.state === 'FAILED');
      if (failed) throw new Error(`connector ${name} FAILED: ${failed.trace ?? ''}`.slice(0, 2000));
      const running =
        status?.connector.state === 'RUNNING' &&
        status.tasks.length > 0 &&
        status.tasks.every((t) => t.state === 'RUNNING');
      return running ? status : undefined;
    },
    { timeoutMs },
  );
}

export interface TopicReader {
  /** The first not yet taken record matching `predicate`, waiting up to timeoutMs (default 60 s). */
  waitFor(
    predicate: (record: SourceRecord) => boolean,
    options?: { timeoutMs?: number },
  ): Promise<SourceRecord>;
  /** The next `count` not yet taken records matching `predicate`, in topic order. */
  take(
    predicate: (record: SourceRecord) => boolean,
    count: number,
    options?: { timeoutMs?: number },
  ): Promise<SourceRecord[]>;
  /** Everything received so far (taken or not). */
  received(): readonly SourceRecord[];
  /** Marks everything received so far as taken (a barrier: later take/waitFor see only newer records). */
  drain(): SourceRecord[];
  close(): Promise<void>;
}

/**
 * Reads `topics` from the end they have when this resolves: records written afterwards are seen,
 * earlier ones never are. Each reader has its own consumer group and commits nothing.
 */
export async function openTopicReader(options: {
  brokers: string[];
  topics: string[];
  clientId?: string;
  joinTimeoutMs?: number;
}): Promise<TopicReader> {
  const { brokers, topics, clientId = 'listing-notifier-test-reader', joinTimeoutMs = 30_000 } = options;
  fixKafkajsIdleLoop(); // as the service's own client does (src/adapters/kafka-client.ts)
  const kafka = new Kafka({ clientId, brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  // The topic may not exist before the connector's first write; create it like the broker would.
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !existing.has(t));
  if (missing.length > 0) {
    await admin.createTopics({ topics: missing.map((topic) => ({ topic })), waitForLeaders: true });
  }
  const ends = new Map<string, { partition: number; offset: string }[]>();
  for (const topic of topics) ends.set(topic, await admin.fetchTopicOffsets(topic));
  await admin.disconnect();

  const groupId = `${clientId}-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
  const buffer: SourceRecord[] = [];
  const seen = new Set<string>();
  const taken = new Set<SourceRecord>();
  const waiters = new Set<() => void>();

  await consumer.connect();
  const joined = new Promise<void>((resolve) => {
    consumer.on(consumer.events.GROUP_JOIN, () => resolve());
  });
  for (const topic of topics) await consumer.subscribe({ topic, fromBeginning: false });
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ topic, partition, message }) => {
      // The seek below can hand out a record fetched just before it a second time.
      const id = `${topic}/${partition}/${message.offset}`;
      if (seen.has(id)) return;
      seen.add(id);
      const headers: SourceRecord['headers'] = {};
      for (const [name, value] of Object.entries(message.headers ?? {})) {
        headers[name] = Array.isArray(value) ? value[0] : value;
      }
      buffer.push({
        topic,
        partition,
        offset: message.offset,
        key: message.key,
        value: message.value,
        headers,
        timestamp: message.timestamp,
      });
      for (const wake of waiters) wake();
    },
  });
  let joinTimer: NodeJS.Timeout | undefined;
  await Promise.race([
    joined,
    new Promise((_, reject) => {
      joinTimer = setTimeout(
        () => reject(new Error(`reader did not join within ${joinTimeoutMs} ms`)),
        joinTimeoutMs,
      );
    }),
  ]).finally(() => clearTimeout(joinTimer));
  // Start exactly where the topics ended before we joined, so nothing written meanwhile is lost.
  for (const [topic, partitions] of ends) {
    for (const { partition, offset } of partitions) consumer.seek({ topic, partition, offset });
  }

  const take: TopicReader['take'] = (predicate, count, { timeoutMs = 60_000 } = {}) =>
    new Promise((resolve, reject) => {
      let found: SourceRecord[] = [];
      // Each wake-up scans only what arrived since the last one (a rescan per record is quadratic:
      // thousands of rows took minutes).
      let scanned = 0;
      const check = () => {
        // A concurrent take may have claimed some of ours meanwhile.
        found = found.filter((record) => !taken.has(record));
        for (; scanned < buffer.length && found.length < count; scanned += 1) {
          const record = buffer[scanned] as SourceRecord;
          if (!taken.has(record) && predicate(record)) found.push(record);
        }
        if (found.length < count) return;
        for (const record of found) taken.add(record);
        clearTimeout(timer);
        waiters.delete(check);
        resolve([...found]);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${count} record(s) on ${topics.join(', ')} ` +
              `(${buffer.length} received since the reader opened)`,
          ),
        );
      }, timeoutMs);
      waiters.add(check);
      check();
    });

  return {
    take,
    waitFor: async (predicate, opts) => {
      const [record] = await take(predicate, 1, opts);
      if (!record) throw new Error('unreachable: take(1) resolved without a record');
      return record;
    },
    received: () => buffer,
    drain: () => {
      const fresh = buffer.filter((record) => !taken.has(record));
      for (const record of fresh) taken.add(record);
      return fresh;
    },
    close: async () => {
      await consumer.disconnect();
    },
  };
}

/** Parses a Kafka Connect JsonConverter message; `payload` when schemas are enabled, else the whole. */
export function connectJson(buffer: Buffer | null): { schema?: unknown; payload: unknown } | null {
  if (buffer === null) return null;
  const parsed = JSON.parse(buffer.toString('utf8')) as unknown;
  if (parsed !== null && typeof parsed === 'object' && 'schema' in parsed && 'payload' in parsed) {
    return parsed as { schema: unknown; payload: unknown };
  }
  return { payload: parsed };
}

/** The listing id in a Debezium record key ({lst_id}), with or without the schema envelope. */
export function keyListingId(record: SourceRecord): string | null {
  const key = connectJson(record.key)?.payload;
  if (key === null || typeof key !== 'object' || !('lst_id' in key)) return null;
  return String((key as { lst_id: unknown }).lst_id);
}

/** The topic's end offsets per partition (where the next record goes). */
export async function endOffsets(
  stack: StackEndpoints,
  topic: string,
): Promise<Array<{ partition: number; offset: string }>> {
  const admin = new Kafka({
    clientId: 'ln-test-offsets',
    brokers: stack.kafkaBrokers,
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).map(({ partition, offset }) => ({ partition, offset }));
  } finally {
    await admin.disconnect();
  }
}
