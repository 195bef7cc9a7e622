/**
 * End-to-end latency under a steady load: Debezium's source.ts_ms (the commit in PostgreSQL) to the
 * moment the Slack stand-in accepted the message, for a steady 10 price updates per second for 30 s
 * (300 updates, one per listing, all routed to #sales-alerts).
 *
 * Slack's real pace (1 message per second per channel) cannot carry 10 messages per second to one
 * channel, so both the stand-in and the service run at 20 per second per channel here; the figure
 * measured is the pipeline's own latency (Debezium, Kafka, the service, one HTTP call), not queueing
 * behind Slack's pace. Not a test: it prints p50/p90/p99/max and asserts nothing.
 *
 * The shared topic also carries whatever other tests and benches write meanwhile (bulk creates and
 * deletes that notify the same channels): behind them, the service's leg would measure their queue.
 * So the bench forwards Debezium's records of its own updates, as they arrive, into a topic of its
 * own (bench.latency.listings) that the service reads; the forwarding hop is measured and reported
 * apart, and left out of the end-to-end figure (commit -> Debezium's record + that record in the
 * service's topic -> the stand-in accepting).
 *
 * Needs the stack (scripts/stack.sh up; its connector config sets poll.interval.ms, which this
 * bench's Debezium leg depends on). Run: npm exec -- node bench/latency.ts
 * (BENCH_RATE updates per second, default 10; BENCH_SECONDS, default 30).
 */

import { Kafka, logLevel } from 'kafkajs';
import {
  deleteListings,
  insertListings,
  listingIdOf,
  opOf,
  seedGroupAtEnd,
  startInProcess,
  startSlackStandin,
  testConfig,
  uniqueGroupId,
  waitUntil,
} from '../test/integration/service/harness.ts';
import {
  connectJson,
  connectPg,
  endpointsFromEnv,
  keyListingId,
  LISTINGS_TOPIC,
  localStackEndpoints,
  openTopicReader,
} from '../test/support/stack.ts';

const rate = Number(process.env.BENCH_RATE ?? 10);
const seconds = Number(process.env.BENCH_SECONDS ?? 30);
const count = rate * seconds;
const ids = Array.from({ length: count }, (_, i) => 816_000 + i);

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;

const FORWARD_TOPIC = 'bench.latency.listings';

/** The listing id in a Debezium key ({schema, payload: {lst_id}}). */
const idOf = (key: Buffer | null): string =>
  key === null
    ? ''
    : String((JSON.parse(key.toString('utf8')) as { payload?: { lst_id?: unknown } }).payload?.lst_id);

/**
 * Copies Debezium's records of `wanted` listings from the shared topic into FORWARD_TOPIC as they
 * arrive, keeping key, value and headers; forwardedAt holds each copy's Kafka timestamp.
 */
async function startForwarder(brokers: string[], wanted: Set<string>) {
  const kafka = new Kafka({ clientId: 'ln-bench-forward', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  if (!(await admin.listTopics()).includes(FORWARD_TOPIC))
    await admin.createTopics({ topics: [{ topic: FORWARD_TOPIC, numPartitions: 1 }], waitForLeaders: true });
  const groupId = uniqueGroupId('latency-forward');
  const ends = await admin.fetchTopicOffsets(LISTINGS_TOPIC);
  await admin.setOffsets({
    groupId,
    topic: LISTINGS_TOPIC,
    partitions: ends.map(({ partition, offset }) => ({ partition, offset })),
  });
  await admin.disconnect();
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [LISTINGS_TOPIC] });
  const forwardedAt = new Map<number, number>();
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joined = true;
  });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const mine = batch.messages.filter((m) => m.key !== null && wanted.has(idOf(m.key)));
      if (mine.length === 0) return;
      const now = Date.now();
      await producer.send({
        topic: FORWARD_TOPIC,
        messages: mine.map((m) => ({
          key: m.key,
          value: m.value,
          headers: m.headers ?? {},
          timestamp: String(now),
        })),
      });
      for (const m of mine) if (opOf(m) === 'u') forwardedAt.set(Number(idOf(m.key)), now);
    },
  });
  await waitUntil('the forwarder to join', async () => (joined ? true : undefined));
  return {
    forwardedAt,
    stop: async () => {
      await consumer.disconnect();
      await producer.disconnect();
    },
  };
}

async function main(): Promise<void> {
  const stack = endpointsFromEnv() ?? localStackEndpoints('native');
  const db = await connectPg(stack.databaseUrl);
  const standin = await startSlackStandin({ pace: { perSecond: 20, burst: 5 } });
  await insertListings(
    db,
    stack,
    ids.map((id) => ({ id, price: '100.00' })),
  );
  const reader = await openTopicReader({
    brokers: stack.kafkaBrokers,
    topics: [LISTINGS_TOPIC],
    clientId: 'ln-bench',
  });
  const forwarder = await startForwarder(stack.kafkaBrokers, new Set(ids.map(String)));
  const groupId = uniqueGroupId('latency');
  await seedGroupAtEnd(stack, groupId, FORWARD_TOPIC);
  const config = testConfig(stack, standin, { groupId, pace: { perSecond: 20, burst: 3 } });
  const running = await startInProcess(
    { ...config, source: { ...config.source, topics: [FORWARD_TOPIC] } },
    standin,
  );
  try {
    await waitUntil('the service to join', async () =>
      running.service.readiness().ready ? true : undefined,
    );

    // Steady load: update i is due at start + i / rate, whatever the previous one cost.
    const start = performance.now();
    for (const [i, id] of ids.entries()) {
      const due = start + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      await db.query('UPDATE public.listings SET prc_amt = 77.00 WHERE lst_id = $1', [id]);
    }
    const loadSeconds = (performance.now() - start) / 1000;

    const wanted = new Set(ids);
    const delivered = () => standin.messages().filter((m) => wanted.has(listingIdOf(m) ?? -1));
    await waitUntil('every message', async () => (delivered().length >= count ? true : undefined), {
      timeoutMs: 120_000,
    });
    const updates = await reader.take((r) => wanted.has(Number(keyListingId(r))) && opOf(r) === 'u', count, {
      timeoutMs: 60_000,
    });
    const committedAt = new Map<number, number>();
    const producedAt = new Map<number, number>();
    for (const r of updates) {
      const payload = connectJson(r.value)?.payload as { source?: { ts_ms?: number } };
      committedAt.set(Number(keyListingId(r)), Number(payload.source?.ts_ms));
      producedAt.set(Number(keyListingId(r)), Number(r.timestamp));
    }
    // The two legs: Debezium (commit -> record timestamp in Kafka) and the service (-> stand-in accept).
    const leg = (from: Map<number, number>, to: (id: number) => number) =>
      [...from.keys()]
        .map((id) => to(id) - (from.get(id) ?? Number.NaN))
        .filter(Number.isFinite)
        .sort((a, b) => a - b);
    const acceptedAt = new Map(delivered().map((m) => [listingIdOf(m) ?? -1, m.receivedAt]));
    const forwardedAt = forwarder.forwardedAt;
    const debeziumLeg = leg(committedAt, (id) => producedAt.get(id) ?? Number.NaN);
    const forwardHop = leg(producedAt, (id) => forwardedAt.get(id) ?? Number.NaN);
    const serviceLeg = leg(forwardedAt, (id) => acceptedAt.get(id) ?? Number.NaN);
    // End to end without the bench's own forwarding hop.
    const latencies = [...acceptedAt.keys()]
      .filter((id) => committedAt.has(id))
      .map(
        (id) =>
          (producedAt.get(id) ?? Number.NaN) -
          (committedAt.get(id) ?? Number.NaN) +
          (acceptedAt.get(id) ?? Number.NaN) -
          (forwardedAt.get(id) ?? Number.NaN),
      )
      .filter(Number.isFinite)
      .sort((a, b) => a - b);

    const metrics = await (await fetch(`${running.service.httpUrl}/metrics`)).text();
    const histogram = metrics
      .split('\n')
      .filter((l) => l.startsWith('listing_notifier_end_to_end_latency_seconds_'))
      .join('\n');
    console.log(
      [
        `end-to-end latency, source.ts_ms -> stand-in accept, ${latencies.length} messages,`,
        `${count} updates at ${rate}/s over ${loadSeconds.toFixed(1)} s (pace 20/s/channel on both sides):`,
        `  p50 ${percentile(latencies, 50)} ms   p90 ${percentile(latencies, 90)} ms   ` +
          `p99 ${percentile(latencies, 99)} ms   max ${latencies.at(-1)} ms   min ${latencies[0]} ms`,
        `  Debezium leg (commit -> Kafka record timestamp): p50 ${percentile(debeziumLeg, 50)} ms, p99 ${percentile(debeziumLeg, 99)} ms`,
        `  service leg (record in the service's topic -> stand-in accept): p50 ${percentile(serviceLeg, 50)} ms, p99 ${percentile(serviceLeg, 99)} ms`,
        `  (left out: the bench's forwarding hop, shared topic -> its own: p50 ${percentile(forwardHop, 50)} ms, p99 ${percentile(forwardHop, 99)} ms)`,
        `  stand-in 429s: ${standin.stats().rateLimited.total}`,
        "the service's own histogram (source.ts_ms -> Slack's ok):",
        histogram,
      ].join('\n'),
    );
  } finally {
    await running.stop();
    await forwarder.stop();
    await reader.close();
    await standin.close();
    await deleteListings(db, ids);
    await db.end();
  }
}

await main();
