/**
 * What the end-to-end service tests share: a config pointed at the real stack and the Slack stand-in,
 * a consumer group that starts exactly at the topic's end (so a test sees only its own changes and
 * what other tests write meanwhile, which it ignores by listing id), listing rows the test owns, the
 * service started in-process (src/main.ts's start) or as a child process (child-service.ts, re-exported
 * here), and bounded waits.
 *
 * Listing ids 810000-819999 belong to these tests (seed: 1..1200, chain test 800001, fixtures 900001..).
 *
 * Records a test produces itself (poison, hand-made envelopes) go to a topic of its own (ownTopic),
 * never to monolith.public.listings: the demo and a developer's own group read that topic too, and
 * would meet them (issue 9, finding 5). Changes made in the database reach the shared topic through
 * Debezium like any other change, on listing ids these tests own.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import type pg from 'pg';
import { createLogger } from '../../../src/adapters/logger.ts';
import { type Config, parseConfig } from '../../../src/config/index.ts';
import { type Service, start } from '../../../src/main.ts';
import {
  type SlackStandin,
  type SlackStandinOptions,
  type StandinMessage,
  startSlackStandin,
} from '../../../tools/slack-standin/server.ts';
import {
  connectJson,
  connectPg,
  keyListingId,
  LISTINGS_TOPIC,
  openTopicReader,
  type StackEndpoints,
  type TopicReader,
  waitUntil,
} from '../../support/stack.ts';

export * from './child-service.ts';
export { LISTINGS_TOPIC, waitUntil };
export const DLQ_TOPIC = `${LISTINGS_TOPIC}.dlq`;

export interface Pace {
  perSecond: number;
  burst: number;
}

export interface TestConfigOptions {
  groupId: string;
  pace: Pace;
  /** Backoff for transient Slack failures; tests keep it short. */
  retry?: { minDelayMs: number; maxDelayMs: number; factor: number; jitter: number };
  shutdownDeadlineMs?: number;
  maxInFlightRecords?: number;
  maxQueuedPerChannel?: number;
  /** The topics the service reads. Default: [LISTINGS_TOPIC]. */
  topics?: string[];
  /**
   * delivery.flood. Default { enabled: false }: the tests that count one message per change (burst,
   * kill, outage, broker restart) run without folding; flood.test.ts and flood-kill.test.ts turn it on.
   */
  flood?: Partial<Config['delivery']['flood']>;
  /** The shared store (config `store`), e.g. `{ url: REDIS_URL, keyPrefix }`. Default: none (in process). */
  store?: { url: string; keyPrefix: string };
  /** delivery.updates (update in place). Default: the config's (off). */
  updates?: Partial<Config['delivery']['updates']>;
  /** Config `rules`, as a rules file writes them (validated like one). Default: the seed rules. */
  rules?: Array<Record<string, unknown>>;
}

/**
 * The default rules (price -> #sales-alerts, stock low/recovered -> #inventory-warnings, unpublished ->
 * #support-heads-up and #marketing-updates) against the stack and the stand-in, the service held to
 * the stand-in's pace. Built as text and parsed, so it passes the same validation as a rules file.
 */
export function testConfig(stack: StackEndpoints, standin: SlackStandin, o: TestConfigOptions): Config {
  const config = {
    source: {
      brokers: stack.kafkaBrokers,
      topics: o.topics ?? [LISTINGS_TOPIC],
      groupId: o.groupId,
      clientId: 'ln-e2e',
      // A killed child's partitions wait this long for their next owner (30 s by default): the kill,
      // quarantine and replica tests restart after SIGKILL and OOM deaths.
      sessionTimeoutMs: 10_000,
    },
    slack: { apiUrl: standin.apiUrl, tokenEnv: 'SLACK_BOT_TOKEN' },
    delivery: {
      perChannel: { intervalMs: 1000, cap: o.pace.perSecond },
      burst: o.pace.burst,
      // The stand-in has no workspace cap; keep ours out of the way of the per-channel pace.
      workspace: { intervalMs: 1000, cap: 1000 },
      maxQueuedPerChannel: o.maxQueuedPerChannel ?? 200,
      maxInFlightRecords: o.maxInFlightRecords ?? 1000,
      retry: o.retry ?? { minDelayMs: 200, maxDelayMs: 2000, factor: 2, jitter: 0.2 },
      shutdownDeadlineMs: o.shutdownDeadlineMs ?? 10_000,
      flood: o.flood ?? { enabled: false },
      ...(o.updates === undefined ? {} : { updates: o.updates }),
    },
    http: { host: '127.0.0.1', port: 0 },
    ...(o.store === undefined ? {} : { store: o.store }),
    ...(o.rules === undefined ? {} : { rules: o.rules }),
  };
  return parseConfig(JSON.stringify(config), 'e2e-config.json');
}

export const uniqueGroupId = (name: string): string => `ln-e2e-${name}-${randomUUID().slice(0, 8)}`;

function admin(stack: StackEndpoints) {
  return new Kafka({
    clientId: 'ln-e2e-admin',
    brokers: stack.kafkaBrokers,
    logLevel: logLevel.NOTHING,
  }).admin();
}

export interface OwnTopic {
  topic: string;
  /** Deletes the topic and its dead-letter topic (`<topic>.dlq`), whichever exist. */
  remove(): Promise<void>;
}

/** A fresh one-partition topic `ln-e2e-<name>-<random>` for records the test produces itself. */
export async function createOwnTopic(stack: StackEndpoints, name: string): Promise<OwnTopic> {
  const topic = `ln-e2e-${name}-${randomUUID().slice(0, 8)}`;
  const a = admin(stack);
  await a.connect();
  try {
    await a.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  } finally {
    await a.disconnect();
  }
  return {
    topic,
    remove: async () => {
      const b = admin(stack);
      await b.connect();
      try {
        const existing = new Set(await b.listTopics());
        const topics = [topic, `${topic}.dlq`].filter((t) => existing.has(t));
        if (topics.length > 0) await b.deleteTopics({ topics });
      } finally {
        await b.disconnect();
      }
    },
  };
}

/** Commits the topic's current end for a new group, so the service starts there. Returns the offsets. */
export async function seedGroupAtEnd(stack: StackEndpoints, groupId: string, topic = LISTINGS_TOPIC) {
  const a = admin(stack);
  await a.connect();
  try {
    const ends = await a.fetchTopicOffsets(topic);
    await a.setOffsets({
      groupId,
      topic,
      partitions: ends.map(({ partition, offset }) => ({ partition, offset })),
    });
    return ends;
  } finally {
    await a.disconnect();
  }
}

/** The group's committed offsets (for after-the-fact checks). */
export async function committedOffsets(stack: StackEndpoints, groupId: string, topic = LISTINGS_TOPIC) {
  const a = admin(stack);
  await a.connect();
  try {
    const [entry] = await a.fetchOffsets({ groupId, topics: [topic] });
    return entry?.partitions ?? [];
  } finally {
    await a.disconnect();
  }
}

export interface ListingRow {
  id: number;
  price?: string;
  status?: 'A' | 'U' | 'D' | 'S';
  stock?: number;
  title?: string;
}

/**
 * Inserts (replacing) the rows, then waits until their create events are on the topic, so that a group
 * seeded at the end afterwards sees only the updates that follow.
 */
/**
 * Runs `write` (a statement on the listings' rows) and waits until Debezium streamed `count(written)`
 * events of operation `op` for those ids: a reader opened before the write sees exactly them.
 */
async function streamed(
  stack: StackEndpoints,
  ids: number[],
  op: 'c' | 'd',
  write: () => Promise<number>,
): Promise<void> {
  const reader = await openTopicReader({ brokers: stack.kafkaBrokers, topics: [LISTINGS_TOPIC] });
  try {
    const written = await write();
    const wanted = new Set(ids.map(String));
    // Debezium streams a large insert at a few thousand rows a second on a quiet machine.
    await reader.take((r) => wanted.has(keyListingId(r) ?? '') && opOf(r) === op, written, {
      timeoutMs: 60_000 + ids.length * 30,
    });
  } finally {
    await reader.close();
  }
}

export async function insertListings(
  db: pg.Client,
  stack: StackEndpoints,
  rows: ListingRow[],
): Promise<void> {
  const ids = rows.map((r) => r.id);
  await db.query('DELETE FROM public.listings WHERE lst_id = ANY($1::bigint[])', [ids]);
  await streamed(stack, ids, 'c', async () => {
    await db.query(
      `INSERT INTO public.listings (lst_id, "LST_STAT_CD", lst_ttl, prc_amt, crncy_cd, prod_stk_qty)
       SELECT * FROM unnest($1::bigint[], $2::char(1)[], $3::varchar[], $4::numeric[], $5::char(3)[], $6::int[])`,
      [
        ids,
        rows.map((r) => r.status ?? 'A'),
        rows.map((r) => r.title ?? `E2E listing ${r.id}`),
        rows.map((r) => r.price ?? '100.00'),
        rows.map(() => 'EUR'),
        rows.map((r) => r.stock ?? 50),
      ],
    );
    return ids.length;
  });
}

export async function deleteListings(db: pg.Client, ids: number[]): Promise<void> {
  await db.query('DELETE FROM public.listings WHERE lst_id = ANY($1::bigint[])', [ids]);
}

/**
 * Deletes the listings and waits until Debezium streamed every delete, so that a large cleanup is
 * not still arriving when the next test file seeds its group at the topic's end.
 */
export async function deleteListingsStreamed(
  db: pg.Client,
  stack: StackEndpoints,
  ids: number[],
): Promise<void> {
  await streamed(stack, ids, 'd', async () => {
    const { rowCount } = await db.query('DELETE FROM public.listings WHERE lst_id = ANY($1::bigint[])', [
      ids,
    ]);
    return rowCount ?? 0;
  });
}

export function opOf(record: { value: Buffer | null }): string | undefined {
  try {
    const payload = connectJson(record.value)?.payload as { op?: string } | undefined;
    return payload?.op;
  } catch {
    return undefined;
  }
}

/** Messages the stand-in accepted for a listing (its "View listing" button names the id). */
export function messagesFor(standin: SlackStandin, listingId: number, channel?: string): StandinMessage[] {
  const needle = `/listings/${listingId}"`;
  return standin.messages(channel).filter((m) => JSON.stringify(m.blocks).includes(needle));
}

export const listingIdOf = (m: StandinMessage): number | undefined => {
  const match = /\/listings\/(\d+)"/.exec(JSON.stringify(m.blocks));
  return match?.[1] === undefined ? undefined : Number(match[1]);
};

export interface Conveyance {
  how: 'message' | 'csv' | 'thread';
  /** The message's text, or the CSV row / thread line naming the listing. */
  text: string;
}

/**
 * Every listing the channel was told about, however: its own message (the "View listing" button names
 * it), a row of a digest's CSV (first cell), or a line of a digest's thread reply (it names "#<id>").
 */
/** A digest's head: the message with the digest's header block (top-level, or a later part in its thread). */
function isDigestHead(m: { blocks?: unknown }): boolean {
  return Array.isArray(m.blocks) && m.blocks.some((b) => (b as { type?: unknown } | null)?.type === 'header');
}

export function conveyedListings(standin: SlackStandin, channel: string): Map<number, Conveyance[]> {
  const out = new Map<number, Conveyance[]>();
  const add = (id: number, c: Conveyance): void => {
    out.set(id, [...(out.get(id) ?? []), c]);
  };
  for (const m of standin.messages(channel)) {
    for (const file of m.files ?? []) {
      for (const line of file.content.split(/\r?\n/).slice(1)) {
        const id = /^"?(\d+)"?,/.exec(line)?.[1];
        if (id !== undefined) add(Number(id), { how: 'csv', text: line });
      }
    }
    if (m.files !== undefined) continue;
    const own = listingIdOf(m);
    if (own !== undefined && m.threadTs === undefined) {
      add(own, { how: 'message', text: m.text });
      continue;
    }
    if (m.threadTs === undefined) continue;
    // A digest's head posted in a thread (a later part of one flood's digest) previews some lines; its
    // complete list is its CSV or its reply pages, counted on their own.
    if (own === undefined && isDigestHead(m)) continue;
    for (const text of JSON.stringify(m.blocks).split('\\n')) {
      for (const id of text.matchAll(/#(\d+)\b/g)) add(Number(id[1]), { how: 'thread', text });
    }
  }
  return out;
}

export interface InProcessService {
  service: Service;
  /** pino JSON lines, as written. */
  logLines: string[];
  logs(): Array<Record<string, unknown>>;
  stop(): Promise<number>;
}

/** The service in this process, through src/main.ts's start, with its log lines captured. */
export async function startInProcess(config: Config, standin: SlackStandin): Promise<InProcessService> {
  const logLines: string[] = [];
  const logger = createLogger({
    // debug: dropped records log their "record finished" line at debug (tests read those too).
    level: 'debug',
    destination: { write: (line: string) => logLines.push(line) },
  });
  const service = await start({ config, token: standin.token, logger, http: { port: 0 } });
  let stopped: Promise<number> | undefined;
  return {
    service,
    logLines,
    logs: () => logLines.map((l) => JSON.parse(l) as Record<string, unknown>),
    stop: () => {
      stopped ??= service.stop('test finished');
      return stopped;
    },
  };
}

/** A reader of a dead-letter topic (default the shared one) from its current end (created first if missing). */
export function openDeadLetterReader(stack: StackEndpoints, topic = DLQ_TOPIC): Promise<TopicReader> {
  return openTopicReader({ brokers: stack.kafkaBrokers, topics: [topic], clientId: 'ln-e2e-dlq-reader' });
}

export type { SlackStandin, StandinMessage };
export { startSlackStandin };

export interface Scenario {
  db: pg.Client;
  standin: SlackStandin;
  running: InProcessService;
  /** Reads the service's dead-letter topic (`<topic>.dlq`) from where it ended before the service started. */
  dlq: TopicReader;
  groupId: string;
  /** The topic the service reads: LISTINGS_TOPIC, or with ScenarioOptions.ownTopic the test's own. */
  topic: string;
  /** Stops and removes everything started, in reverse order; safe after a failed start. */
  close(): Promise<void>;
}

export interface ScenarioOptions {
  /** Names the consumer group (ln-e2e-<name>-<random>). */
  name: string;
  /** Listing rows the test owns: inserted (and their create events awaited) first, deleted at close. */
  listings: ListingRow[];
  standin?: SlackStandinOptions;
  config: Omit<TestConfigOptions, 'groupId' | 'topics'>;
  /**
   * The service reads a topic of the test's own (one partition, `ln-e2e-<name>-<random>`, deleted with
   * its dead letters at close) instead of LISTINGS_TOPIC: for tests that produce their records
   * themselves. It sees nothing of anyone else's changes. Default: false.
   */
  ownTopic?: boolean;
}

/**
 * What most service tests start with: Postgres, the stand-in, the test's own listings, a dead-letter
 * reader, a fresh group at the topic's end, and the service in-process, joined.
 */
export async function startScenario(stack: StackEndpoints, o: ScenarioOptions): Promise<Scenario> {
  const cleanups: Array<() => Promise<unknown>> = [];
  const close = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups.length = 0;
  };
  try {
    const db = await connectPg(stack.databaseUrl);
    cleanups.push(() => db.end());
    const standin = await startSlackStandin(o.standin);
    cleanups.push(() => standin.close());
    const ids = o.listings.map((row) => row.id);
    if (ids.length > 0) {
      cleanups.push(() => deleteListings(db, ids));
      await insertListings(db, stack, o.listings);
    }
    let topic = LISTINGS_TOPIC;
    if (o.ownTopic === true) {
      const own = await createOwnTopic(stack, o.name);
      cleanups.push(() => own.remove());
      topic = own.topic;
    }
    const dlq = await openDeadLetterReader(stack, `${topic}.dlq`);
    cleanups.push(() => dlq.close());
    const groupId = uniqueGroupId(o.name);
    await seedGroupAtEnd(stack, groupId, topic);
    const running = await startInProcess(
      testConfig(stack, standin, { ...o.config, groupId, topics: [topic] }),
      standin,
    );
    cleanups.push(() => running.stop());
    await waitUntil('the service to join its group', async () =>
      running.service.readiness().ready ? true : undefined,
    );
    return { db, standin, running, dlq, groupId, topic, close };
  } catch (error) {
    await close();
    throw error;
  }
}
