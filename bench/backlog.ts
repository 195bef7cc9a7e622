/**
 * Memory under a Kafka backlog: the service's heap and RSS stay flat whatever the backlog, because the
 * record loop pauses fetching once delivery.maxInFlightRecords records are in flight or a channel's
 * queue holds delivery.maxQueuedPerChannel messages (src/app/record-loop.ts), so the backlog stays in
 * Kafka instead of in the process.
 *
 * Each phase: the Slack stand-in at Slack's real pace (1 message per second per channel, burst 3), the
 * service in-process with the default delivery limits (parsed from an empty config), a fresh group at
 * the topic's end; once the service has joined and is idle, a GC'd baseline of heapUsed/rss; then N
 * listings get their price changed in ONE transaction, so Debezium emits N routed events at once
 * (all to #sales-alerts) which the service can drain at only about 1 per second. For BENCH_SECONDS
 * memory and the loop's status are sampled every second. A second phase with a backlog five times
 * smaller shows whether the peak follows the backlog's size (it should not).
 *
 * The figures are of this whole process (service + stand-in + this script); the bench's own share is
 * small and the same in both phases. Not a test: it prints figures and asserts nothing.
 *
 * Needs the stack (scripts/stack.sh up). Run: npm exec -- node --expose-gc bench/backlog.ts
 * (--expose-gc lets the baseline and the after-GC figure be taken after a full collection; without it
 * they are whatever the heap holds at that moment). BENCH_BACKLOG, default 5000; BENCH_SECONDS per
 * phase, default 40; BENCH_SMALL_BACKLOG, default BENCH_BACKLOG / 5, 0 to skip the second phase;
 * BENCH_VERBOSE=1 prints every sample.
 * Listing ids 870000.. belong to this bench.
 */

import { Kafka, logLevel } from 'kafkajs';
import type pg from 'pg';
import { parseConfig } from '../src/config/index.ts';
import {
  committedOffsets,
  deleteListings,
  LISTINGS_TOPIC,
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
  connectPg,
  endpointsFromEnv,
  keyListingId,
  localStackEndpoints,
  openTopicReader,
  type StackEndpoints,
} from '../test/support/stack.ts';

const backlog = Number(process.env.BENCH_BACKLOG ?? 5000);
const seconds = Number(process.env.BENCH_SECONDS ?? 40);
const smallBacklog = Number(process.env.BENCH_SMALL_BACKLOG ?? Math.floor(backlog / 5));
const firstId = 870_000;

const gc = (globalThis as { gc?: () => void }).gc;
const slackPace = { perSecond: 1, burst: 3 };
// The service's defaults, as an empty rules file gives them.
const defaults = parseConfig('{}', 'defaults').delivery;

const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);
const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Sample {
  heapUsed: number;
  rss: number;
}

interface PhaseResult {
  backlog: number;
  /** Key + value bytes of the backlog's create events (each update event carries before and after too). */
  createBytes: number;
  baseline: Sample;
  max: Sample;
  last: Sample;
  afterGc: Sample;
  maxInFlight: number;
  maxPaused: number;
  pausedSamples: number;
  samples: number;
  accepted: number;
  lag: number;
}

async function baselineOf(): Promise<Sample> {
  const samples: Sample[] = [];
  for (let i = 0; i < 5; i++) {
    gc?.();
    const { heapUsed, rss } = process.memoryUsage();
    samples.push({ heapUsed, rss });
    await tick(200);
  }
  const median = (k: keyof Sample) => samples.map((s) => s[k]).sort((a, b) => a - b)[2] ?? Number.NaN;
  return { heapUsed: median('heapUsed'), rss: median('rss') };
}

async function phase(db: pg.Client, stack: StackEndpoints, n: number, from: number): Promise<PhaseResult> {
  const ids = Array.from({ length: n }, (_, i) => from + i);
  const standin = await startSlackStandin({ pace: slackPace });
  const createBytes = await insertBacklog(db, stack, ids);
  const groupId = uniqueGroupId('backlog');
  await seedGroupAtEnd(stack, groupId);
  const running = await startInProcess(
    testConfig(stack, standin, {
      groupId,
      pace: slackPace,
      maxInFlightRecords: defaults.maxInFlightRecords,
      maxQueuedPerChannel: defaults.maxQueuedPerChannel,
    }),
    standin,
  );
  let sampler: ReturnType<typeof setInterval> | undefined;
  try {
    await waitUntil('the service to join', async () =>
      running.service.readiness().ready ? true : undefined,
    );
    const baseline = await baselineOf();

    // One statement, one transaction: Debezium emits all n update events at once.
    await db.query('UPDATE public.listings SET prc_amt = 77.00 WHERE lst_id = ANY($1::bigint[])', [ids]);

    const max: Sample = { heapUsed: 0, rss: 0 };
    let last: Sample = max;
    let maxInFlight = 0;
    let maxPaused = 0;
    let pausedSamples = 0;
    let samples = 0;
    sampler = setInterval(() => {
      const { heapUsed, rss } = process.memoryUsage();
      const status = running.service.status();
      last = { heapUsed, rss };
      max.heapUsed = Math.max(max.heapUsed, heapUsed);
      max.rss = Math.max(max.rss, rss);
      maxInFlight = Math.max(maxInFlight, status.inFlight);
      maxPaused = Math.max(maxPaused, status.paused.length);
      if (status.paused.length > 0) pausedSamples++;
      samples++;
      if (process.env.BENCH_VERBOSE)
        console.log(
          `  t=${samples}s heap ${mb(heapUsed)} MB rss ${mb(rss)} MB inFlight ${status.inFlight} paused ${status.paused.length}`,
        );
    }, 1000);
    await waitUntil('the sampling window', async () => (samples >= seconds ? true : undefined), {
      timeoutMs: (seconds + 30) * 1000,
    });
    clearInterval(sampler);
    sampler = undefined;
    gc?.();
    const afterGcUsage = process.memoryUsage();

    const wanted = new Set(ids);
    const accepted = standin.messages().filter((m) => wanted.has(listingIdOf(m) ?? -1)).length;
    // What is still in Kafka for this group: the topic's end minus the group's committed offsets (other
    // writers' records count too, but they are few next to the backlog).
    const ends = await topicEnds(stack);
    const committed = await committedOffsets(stack, groupId);
    const lag = ends.reduce((sum, e) => {
      const c = committed.find((p) => p.partition === e.partition);
      return sum + Number(e.offset) - Math.max(0, Number(c?.offset ?? 0));
    }, 0);
    return {
      backlog: n,
      createBytes,
      baseline,
      max,
      last,
      afterGc: { heapUsed: afterGcUsage.heapUsed, rss: afterGcUsage.rss },
      maxInFlight,
      maxPaused,
      pausedSamples,
      samples,
      accepted,
      lag,
    };
  } finally {
    if (sampler !== undefined) clearInterval(sampler);
    await running.stop();
    await standin.close();
    await deleteListings(db, ids);
  }
}

/**
 * Inserts the rows and waits until their create events are on the topic, so that a group seeded at the
 * end afterwards sees only the updates. (The harness's insertListings rescans the reader's whole buffer
 * on every record, which is quadratic and too slow for thousands of rows; this counts incrementally.)
 */
async function insertBacklog(db: pg.Client, stack: StackEndpoints, ids: number[]): Promise<number> {
  await deleteListings(db, ids);
  const reader = await openTopicReader({ brokers: stack.kafkaBrokers, topics: [LISTINGS_TOPIC] });
  try {
    await db.query(
      `INSERT INTO public.listings (lst_id, "LST_STAT_CD", lst_ttl, prc_amt, crncy_cd, prod_stk_qty)
       SELECT id, 'A', 'Backlog bench listing ' || id, 100.00, 'EUR', 50 FROM unnest($1::bigint[]) AS id`,
      [ids],
    );
    const wanted = new Set(ids.map(String));
    let scanned = 0;
    let created = 0;
    let bytes = 0;
    await waitUntil(
      `${ids.length} create events`,
      async () => {
        const received = reader.received();
        for (; scanned < received.length; scanned++) {
          const record = received[scanned];
          if (record === undefined || !wanted.has(keyListingId(record) ?? '') || opOf(record) !== 'c')
            continue;
          created++;
          bytes += (record.key?.length ?? 0) + (record.value?.length ?? 0);
        }
        return created >= ids.length ? true : undefined;
      },
      { timeoutMs: 120_000 },
    );
    return bytes;
  } finally {
    await reader.close();
  }
}

/** The topic's end offsets. */
async function topicEnds(stack: StackEndpoints) {
  const admin = new Kafka({
    clientId: 'ln-bench-admin',
    brokers: stack.kafkaBrokers,
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    return await admin.fetchTopicOffsets(LISTINGS_TOPIC);
  } finally {
    await admin.disconnect();
  }
}

function report(results: PhaseResult[]): void {
  const ratio = (a: number, b: number) => `x${(a / b).toFixed(2)}`;
  const rows: string[][] = [
    ['', ...results.map((r) => `backlog ${r.backlog}`)],
    ['create events on the topic (MB)', ...results.map((r) => mb(r.createBytes))],
    [
      'baseline heapUsed / rss (MB)',
      ...results.map((r) => `${mb(r.baseline.heapUsed)} / ${mb(r.baseline.rss)}`),
    ],
    ['max heapUsed / rss (MB)', ...results.map((r) => `${mb(r.max.heapUsed)} / ${mb(r.max.rss)}`)],
    ['last heapUsed / rss (MB)', ...results.map((r) => `${mb(r.last.heapUsed)} / ${mb(r.last.rss)}`)],
    [
      'after GC heapUsed / rss (MB)',
      ...results.map((r) => `${mb(r.afterGc.heapUsed)} / ${mb(r.afterGc.rss)}`),
    ],
    [
      'max / baseline heapUsed, rss',
      ...results.map(
        (r) => `${ratio(r.max.heapUsed, r.baseline.heapUsed)}, ${ratio(r.max.rss, r.baseline.rss)}`,
      ),
    ],
    ['after GC / baseline heapUsed', ...results.map((r) => ratio(r.afterGc.heapUsed, r.baseline.heapUsed))],
    ['max records in flight', ...results.map((r) => String(r.maxInFlight))],
    ['samples with a paused partition', ...results.map((r) => `${r.pausedSamples}/${r.samples}`)],
    ['messages the stand-in accepted', ...results.map((r) => String(r.accepted))],
    ['left in Kafka (end - committed)', ...results.map((r) => String(r.lag))],
  ];
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((row) => row[c]?.length ?? 0))) ?? [];
  const line = (row: string[]) => row.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('   ');
  console.log(
    [
      `memory under a Kafka backlog, ${seconds} s per phase, Slack pace ${slackPace.perSecond}/s/channel burst ${slackPace.burst},`,
      `default limits: maxInFlightRecords ${defaults.maxInFlightRecords}, maxQueuedPerChannel ${defaults.maxQueuedPerChannel}; ` +
        `GC ${gc === undefined ? 'NOT exposed (run node with --expose-gc)' : 'forced for baseline and after-GC'}`,
      ...rows.map(line),
    ].join('\n'),
  );
  const [big, small] = results;
  if (big !== undefined && small !== undefined)
    console.log(
      `backlog ${big.backlog} vs ${small.backlog} (x${(big.backlog / small.backlog).toFixed(1)}): ` +
        `max heapUsed over baseline ${mb(big.max.heapUsed - big.baseline.heapUsed)} vs ${mb(small.max.heapUsed - small.baseline.heapUsed)} MB, ` +
        `after GC over baseline ${mb(big.afterGc.heapUsed - big.baseline.heapUsed)} vs ${mb(small.afterGc.heapUsed - small.baseline.heapUsed)} MB`,
    );
}

async function main(): Promise<void> {
  const stack = endpointsFromEnv() ?? localStackEndpoints('native');
  const db = await connectPg(stack.databaseUrl);
  try {
    const results = [await phase(db, stack, backlog, firstId)];
    if (smallBacklog > 0) results.push(await phase(db, stack, smallBacklog, firstId + backlog));
    report(results);
  } finally {
    await db.end();
  }
}

await main();
