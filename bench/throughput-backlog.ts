/**
 * The throughput bench's backlog: real Debezium noise updates of the listings table (UPDATEs of
 * etl_batch_id, a column no field watches, on the seed rows 1..1200), about 18 kB each with the full
 * before image. Created once on the shared stack and recorded (topic, per-partition start and end
 * offsets) in the stack's state directory, so later runs drain the very same records; it is created
 * again when the topic no longer holds it or with BENCH_NEW_BACKLOG=1.
 *
 * The shared topic also carries what other tests and benches write meanwhile (creates, deletes that
 * notify and wait on Slack's pace), so Debezium's records of our UPDATEs are copied, byte for byte and
 * partition for partition, into the bench's own topic, and every consumer drains exactly those.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Kafka, type KafkaMessage, logLevel } from 'kafkajs';
import type pg from 'pg';
import { waitUntil } from '../test/support/stack.ts';

export interface Backlog {
  topic: string;
  partitions: Array<{ partition: number; start: string; end: string }>;
  /** Our UPDATEs (records in the range may be a few more). */
  updates: number;
  createdAt: string;
}

const stateDir = process.env.LISTING_NOTIFIER_STACK_DIR ?? join(homedir(), '.local/state/listing-notifier');
/** The bench's own topic: the shared one also carries whatever other tests write. */
export const BENCH_TOPIC = 'bench.throughput.listings-noise';
export const backlogFile = join(stateDir, 'bench-throughput-backlog.json');

export const recordsIn = (b: Backlog): number =>
  b.partitions.reduce((n, p) => n + Number(BigInt(p.end) - BigInt(p.start)), 0);

function admin(brokers: string[]) {
  return new Kafka({ clientId: 'ln-bench-admin', brokers, logLevel: logLevel.NOTHING }).admin();
}

async function topicExists(brokers: string[], topic: string): Promise<boolean> {
  const a = admin(brokers);
  await a.connect();
  try {
    return (await a.listTopics()).includes(topic);
  } finally {
    await a.disconnect();
  }
}

/** The recorded backlog when the topic still holds all of it. */
async function recorded(brokers: string[]): Promise<Backlog | undefined> {
  if (!existsSync(backlogFile)) return undefined;
  const backlog = JSON.parse(readFileSync(backlogFile, 'utf8')) as Backlog;
  const topic = backlog.topic;
  if (topic !== BENCH_TOPIC || !(await topicExists(brokers, topic))) return undefined;
  const a = admin(brokers);
  await a.connect();
  try {
    const offsets = await a.fetchTopicOffsets(topic);
    const held = backlog.partitions.every((p) => {
      const o = offsets.find((x) => x.partition === p.partition);
      return o !== undefined && BigInt(o.low) <= BigInt(p.start) && BigInt(o.high) >= BigInt(p.end);
    });
    return held ? backlog : undefined;
  } finally {
    await a.disconnect();
  }
}

/**
 * Which seed rows to update so that the mean event is about `targetBytes`: all rows whose event is
 * larger than the target (every 10th seed row carries a 12 kB description) and enough small ones.
 * An update event holds the row twice (before and after) plus a ~3.9 kB Connect schema.
 */
async function chooseRows(db: pg.Client, targetBytes: number): Promise<number[]> {
  const { rows } = await db.query<{ id: string; bytes: number }>(
    `SELECT lst_id AS id, octet_length(row_to_json(l)::text) AS bytes
       FROM public.listings l WHERE lst_id BETWEEN 1 AND 1200 ORDER BY lst_id`,
  );
  const estimate = (r: { bytes: number }) => 3900 + 2 * r.bytes;
  const big = rows.filter((r) => estimate(r) > targetBytes);
  const small = rows.filter((r) => estimate(r) <= targetBytes);
  const mean = (xs: typeof rows) => xs.reduce((s, r) => s + estimate(r), 0) / Math.max(1, xs.length);
  const [mb, ms] = [mean(big), mean(small)];
  const fractionBig = mb === ms ? 1 : Math.min(1, Math.max(0, (targetBytes - ms) / (mb - ms)));
  const smallCount = Math.min(small.length, Math.round((big.length * (1 - fractionBig)) / fractionBig));
  return [...big, ...small.slice(0, smallCount)].map((r) => Number(r.id));
}

/**
 * Produces the backlog: `count` UPDATEs of etl_batch_id (one transaction per round over the chosen
 * rows), then copies exactly those Debezium records (bytes, key, headers and partition as Debezium wrote
 * them) from the shared topic, where other tests write meanwhile, into the bench's own topic.
 */
async function create(db: pg.Client, brokers: string[], source: string, count: number): Promise<Backlog> {
  const kafka = new Kafka({ clientId: 'ln-bench-backlog', brokers, logLevel: logLevel.NOTHING });
  const a = kafka.admin();
  await a.connect();
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const groupId = `ln-bench-copy-${Date.now()}`;
  const consumer = kafka.consumer({ groupId, maxBytes: 16 * 1024 * 1024 });
  try {
    const before = await a.fetchTopicOffsets(source);
    if ((await a.listTopics()).includes(BENCH_TOPIC)) {
      await a.deleteTopics({ topics: [BENCH_TOPIC] });
      await waitUntil('the old bench topic to go', async () =>
        (await a.listTopics()).includes(BENCH_TOPIC) ? undefined : true,
      );
    }
    await a.createTopics({
      topics: [{ topic: BENCH_TOPIC, numPartitions: before.length }],
      waitForLeaders: true,
    });
    await a.setOffsets({
      groupId,
      topic: source,
      partitions: before.map((o) => ({ partition: o.partition, offset: o.high })),
    });

    const ids = await chooseRows(db, 18_000);
    const wanted = new Set(ids.map(String));
    let done = 0;
    const started = performance.now();
    while (done < count) {
      const round = ids.slice(0, Math.min(ids.length, count - done));
      await db.query(
        'UPDATE public.listings SET etl_batch_id = coalesce(etl_batch_id, 0) + 1 WHERE lst_id = ANY($1::bigint[])',
        [round],
      );
      done += round.length;
    }
    console.log(
      `backlog: ${count} UPDATEs of etl_batch_id over ${ids.length} seed rows in ${((performance.now() - started) / 1000).toFixed(1)} s; copying Debezium's records to ${BENCH_TOPIC}`,
    );

    let copied = 0;
    await consumer.connect();
    await consumer.subscribe({ topics: [source] });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const mine = batch.messages.filter((m) => copied < count && isOurUpdate(m, wanted));
        copied += mine.length;
        if (mine.length === 0) return;
        await producer.send({
          topic: BENCH_TOPIC,
          messages: mine.map((m) => ({
            partition: batch.partition,
            key: m.key,
            value: m.value,
            headers: m.headers ?? {},
            timestamp: m.timestamp,
          })),
        });
      },
    });
    await waitUntil(`${count} update events copied`, async () => (copied >= count ? true : undefined), {
      timeoutMs: 600_000,
    });
    await consumer.stop();
    const ends = await a.fetchTopicOffsets(BENCH_TOPIC);
    await a.deleteGroups([groupId]).catch(() => {});
    return {
      topic: BENCH_TOPIC,
      partitions: ends.map((o) => ({ partition: o.partition, start: o.low, end: o.high })),
      updates: count,
      createdAt: new Date().toISOString(),
    };
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
    await a.disconnect();
  }
}

/** An update event of one of `wanted` listings that changed etl_batch_id. */
function isOurUpdate(m: KafkaMessage, wanted: Set<string>): boolean {
  if (m.key === null || m.value === null) return false;
  const key = JSON.parse(m.key.toString('utf8'))?.payload;
  if (!wanted.has(String(key?.lst_id))) return false;
  const payload = JSON.parse(m.value.toString('utf8'))?.payload;
  return payload?.op === 'u' && payload.before?.etl_batch_id !== payload.after?.etl_batch_id;
}

export async function ensureBacklog(
  db: pg.Client,
  brokers: string[],
  topic: string,
  count: number,
): Promise<Backlog> {
  const existing = process.env.BENCH_NEW_BACKLOG === '1' ? undefined : await recorded(brokers);
  if (existing !== undefined) return existing;
  const backlog = await create(db, brokers, topic, count);
  writeFileSync(backlogFile, `${JSON.stringify(backlog, null, 2)}\n`);
  return backlog;
}

/** The large-record variant's topic: the same noise with ~1 MB records. */
export const LARGE_TOPIC = 'bench.throughput.listings-noise-1mb';

/**
 * The backlog with 1 MB records: `count` records of the backlog, each with its description made
 * ~500 kB longer by the same text in before and after (still noise: only etl_batch_id differs), in a
 * topic of its own that accepts 4 MB messages. Synthetic in size only: produced here rather than by
 * Debezium, whose Connect producer refuses records above 1 MB by default (max.request.size).
 */
export async function ensureLargeBacklog(brokers: string[], from: Backlog, count: number): Promise<Backlog> {
  const kafka = new Kafka({ clientId: 'ln-bench-large', brokers, logLevel: logLevel.NOTHING });
  const a = kafka.admin();
  await a.connect();
  try {
    if ((await a.listTopics()).includes(LARGE_TOPIC)) {
      const offsets = await a.fetchTopicOffsets(LARGE_TOPIC);
      const held = offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0);
      if (held >= count && process.env.BENCH_NEW_BACKLOG !== '1')
        return {
          topic: LARGE_TOPIC,
          partitions: offsets.map((o) => ({ partition: o.partition, start: o.low, end: o.high })),
          updates: held,
          createdAt: 'earlier',
        };
      await a.deleteTopics({ topics: [LARGE_TOPIC] });
      await waitUntil('the old large topic to go', async () =>
        (await a.listTopics()).includes(LARGE_TOPIC) ? undefined : true,
      );
    }
    await a.createTopics({
      topics: [
        {
          topic: LARGE_TOPIC,
          numPartitions: from.partitions.length,
          configEntries: [{ name: 'max.message.bytes', value: String(4 * 1024 * 1024) }],
        },
      ],
      waitForLeaders: true,
    });
    const padding = 'Full specification sheet, repeated for size. '.repeat(11_400); // ~513 kB
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const consumer = kafka.consumer({ groupId: `ln-bench-large-${Date.now()}` });
    let produced = 0;
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [from.topic], fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          if (produced >= count || message.value === null) return;
          produced += 1;
          const value = JSON.parse(message.value.toString('utf8'));
          for (const image of [value.payload.before, value.payload.after])
            image.description = `${image.description ?? ''}${padding}`;
          await producer.send({
            topic: LARGE_TOPIC,
            messages: [
              { partition, key: message.key, value: JSON.stringify(value), headers: message.headers ?? {} },
            ],
          });
        },
      });
      await waitUntil(`${count} large records`, async () => (produced >= count ? true : undefined), {
        timeoutMs: 300_000,
      });
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
    }
    const offsets = await a.fetchTopicOffsets(LARGE_TOPIC);
    return {
      topic: LARGE_TOPIC,
      partitions: offsets.map((o) => ({ partition: o.partition, start: o.low, end: o.high })),
      updates: count,
      createdAt: new Date().toISOString(),
    };
  } finally {
    await a.disconnect();
  }
}
