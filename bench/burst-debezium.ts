/**
 * Flood control under a nightly repricing, on the real stack: 10,000 listings repriced in one
 * transaction, then one unrelated listing unpublished, with the Slack stand-in at Slack's real pace
 * (1 message per second per channel, burst 3) and the default rules. Run twice in one invocation:
 * with flood control (the default config) and without it (delivery.flood.enabled: false: one message
 * per change, first in first out; the baseline). At 1/s the baseline would take hours, so it stops after
 * BENCH_BASELINE_SECONDS (default 180) and reports what it reached by then.
 *
 * Reports per run: seconds from the unpublish's commit to its arrival; seconds until every changed
 * listing was conveyed (its own message, a digest line or a CSV row: checked by listing id); messages
 * per channel; 429s; seconds until the group's committed offset passed the burst; the service's peak
 * RSS (VmHWM of the child process). Not a test: it prints figures and asserts nothing.
 *
 * Needs the stack (scripts/stack.sh up). Run: npm exec -- node bench/burst.ts
 * (BENCH_ROWS, default 10000; BENCH_BASELINE_SECONDS, default 180; BENCH_FLOOD_SECONDS, default 300;
 * BENCH_RUNS=flood|baseline|both, default both; BENCH_SERVICE_NODE_OPTIONS, node options for the service
 * process only, e.g. --max-old-space-size=128.)
 */
import { readFile } from 'node:fs/promises';
import type pg from 'pg';
import { parseConfig } from '../src/config/index.ts';
import {
  type ChildService,
  committedOffsets,
  conveyedListings,
  deleteListings,
  insertListings,
  listingIdOf,
  seedGroupAtEnd,
  startChild,
  startSlackStandin,
  uniqueGroupId,
  waitUntil,
} from '../test/integration/service/harness.ts';
import {
  connectPg,
  endOffsets,
  endpointsFromEnv,
  keyListingId,
  LISTINGS_TOPIC,
  localStackEndpoints,
  openTopicReader,
  type StackEndpoints,
} from '../test/support/stack.ts';

const rows = Number(process.env.BENCH_ROWS ?? 10_000);
const baselineSeconds = Number(process.env.BENCH_BASELINE_SECONDS ?? 180);
const floodSeconds = Number(process.env.BENCH_FLOOD_SECONDS ?? 300);
const BULK = Array.from({ length: rows }, (_, i) => 2_000_000 + i);
const UNPUBLISHED = 2_100_000;
const slackPace = { perSecond: 1, burst: 3 };
const runs = process.env.BENCH_RUNS ?? 'both';
if (process.env.BENCH_SERVICE_NODE_OPTIONS !== undefined) {
  // Children inherit the environment; this process is already running with its own options.
  process.env.NODE_OPTIONS = process.env.BENCH_SERVICE_NODE_OPTIONS;
}

interface RunResult {
  name: string;
  unpublishSeconds: number | null;
  /** The unpublish's legs: commit -> Kafka (Debezium), Kafka -> the stand-in (the service). */
  unpublishLegs: { debezium: number; service: number } | null;
  conveyedSeconds: number | null;
  conveyed: number;
  missing: number;
  messages: Record<string, { topLevel: number; inThreads: number; files: number }>;
  rateLimited: number;
  committedSeconds: number | null;
  peakRssMb: number;
  stoppedAfterSeconds: number;
}

async function peakRssMb(child: ChildService): Promise<number> {
  const status = await readFile(`/proc/${child.child.pid}/status`, 'utf8').catch(() => '');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

async function run(
  name: string,
  stack: StackEndpoints,
  db: pg.Client,
  flood: boolean,
  price: string,
  limitSeconds: number,
): Promise<RunResult> {
  const standin = await startSlackStandin({ pace: slackPace });
  const groupId = uniqueGroupId(`burst-${name}`);
  await seedGroupAtEnd(stack, groupId);
  // The default rules file, pointed at the stack and the stand-in; only flood.enabled differs.
  const text = await readFile(new URL('../config/listing-notifier.yaml', import.meta.url), 'utf8');
  const base = parseConfig(text, 'config/listing-notifier.yaml');
  const config = {
    ...base,
    source: { ...base.source, brokers: stack.kafkaBrokers, groupId },
    slack: { ...base.slack, apiUrl: standin.apiUrl },
    http: { host: '127.0.0.1', port: 0 },
    delivery: { ...base.delivery, flood: { ...base.delivery.flood, enabled: flood } },
  };
  const child = await startChild(config, standin);
  let peak = 0;
  const sampler = setInterval(() => {
    void peakRssMb(child).then((mb) => {
      if (Number.isFinite(mb)) peak = Math.max(peak, mb);
    });
  }, 200);
  try {
    const url = await waitUntil('the service to run', () =>
      Promise.race([child.ready, child.exited.then(() => undefined)]),
    );
    await waitUntil('the service to join', async () => {
      const response = await fetch(`${url}/readyz`).catch(() => undefined);
      return response?.status === 200 ? true : undefined;
    });

    const reader = await openTopicReader({
      brokers: stack.kafkaBrokers,
      topics: [LISTINGS_TOPIC],
      clientId: 'ln-bench-burst',
    });
    const sum = (offsets: Array<{ offset: string }>): bigint =>
      offsets.reduce((n, o) => n + BigInt(o.offset), 0n);
    const before = sum(await endOffsets(stack, LISTINGS_TOPIC));
    await db.query('UPDATE public.listings SET prc_amt = $2 WHERE lst_id = ANY($1::bigint[])', [BULK, price]);
    await db.query(`UPDATE public.listings SET "LST_STAT_CD" = 'U' WHERE lst_id = $1`, [UNPUBLISHED]);
    const committedAt = Date.now();
    // The burst's end: once Debezium has written all of it (the bulk and the unpublish) to the topic.
    const ends = await waitUntil(
      'the burst on the topic',
      async () => {
        const now = await endOffsets(stack, LISTINGS_TOPIC);
        return sum(now) - before >= BigInt(BULK.length + 1) ? now : undefined;
      },
      { timeoutMs: 300_000, intervalMs: 250 },
    );

    let unpublishSeconds: number | null = null;
    let conveyedSeconds: number | null = null;
    let committedSeconds: number | null = null;
    let conveyed = 0;
    const deadline = committedAt + limitSeconds * 1000;
    while (
      Date.now() < deadline &&
      (conveyedSeconds === null || committedSeconds === null || unpublishSeconds === null)
    ) {
      if (unpublishSeconds === null) {
        const m = standin.messages('support-heads-up').find((x) => listingIdOf(x) === UNPUBLISHED);
        if (m !== undefined) unpublishSeconds = (m.receivedAt - committedAt) / 1000;
      }
      if (conveyedSeconds === null) {
        const seen = conveyedListings(standin, 'sales-alerts');
        conveyed = BULK.filter((id) => seen.has(id)).length;
        if (conveyed === BULK.length) conveyedSeconds = (Date.now() - committedAt) / 1000;
      }
      if (committedSeconds === null) {
        // A broker restart by someone else on the shared stack: ask again on the next turn.
        const committed = await committedOffsets(stack, groupId).catch(() => []);
        const passed = ends.every((e) => {
          const c = committed.find((p) => p.partition === e.partition);
          return c !== undefined && BigInt(c.offset) >= BigInt(e.offset);
        });
        if (passed) committedSeconds = (Date.now() - committedAt) / 1000;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    let unpublishLegs: RunResult['unpublishLegs'] = null;
    const record = reader.received().find((r) => keyListingId(r) === String(UNPUBLISHED));
    const arrival = standin
      .messages('support-heads-up')
      .find((x) => listingIdOf(x) === UNPUBLISHED)?.receivedAt;
    if (record !== undefined && arrival !== undefined) {
      const atKafka = Number(record.timestamp);
      unpublishLegs = { debezium: (atKafka - committedAt) / 1000, service: (arrival - atKafka) / 1000 };
    }
    await reader.close();
    const messages: RunResult['messages'] = {};
    for (const channel of ['sales-alerts', 'inventory-warnings', 'support-heads-up', 'marketing-updates']) {
      const all = standin.messages(channel);
      messages[channel] = {
        topLevel: all.filter((m) => m.threadTs === undefined && m.files === undefined).length,
        inThreads: all.filter((m) => m.threadTs !== undefined && m.files === undefined).length,
        files: all.filter((m) => m.files !== undefined).length,
      };
    }
    peak = Math.max(peak, await peakRssMb(child));
    return {
      name,
      unpublishSeconds,
      unpublishLegs,
      conveyedSeconds,
      conveyed,
      missing: BULK.length - conveyed,
      messages,
      rateLimited: standin.stats().rateLimited.total,
      committedSeconds,
      peakRssMb: peak,
      stoppedAfterSeconds: (Date.now() - committedAt) / 1000,
    };
  } finally {
    clearInterval(sampler);
    // A graceful stop first (a --cpu-prof in BENCH_SERVICE_NODE_OPTIONS is written at exit).
    child.child.kill('SIGTERM');
    await Promise.race([child.exited, new Promise((resolve) => setTimeout(resolve, 30_000))]);
    await child.cleanup();
    await standin.close();
  }
}

const fmt = (s: number | null, limit: number): string =>
  s === null ? `not within ${limit.toFixed(0)} s` : `${s.toFixed(1)} s`;

async function main(): Promise<void> {
  const stack = endpointsFromEnv() ?? localStackEndpoints('native');
  const db = await connectPg(stack.databaseUrl);
  console.log(`[burst] inserting ${rows} listings (+1 to unpublish)...`);
  await insertListings(db, stack, [
    ...BULK.map((id) => ({ id, price: '100.00' })),
    { id: UNPUBLISHED, status: 'A' as const },
  ]);
  const results: RunResult[] = [];
  try {
    if (runs !== 'baseline') results.push(await run('flood-control', stack, db, true, '85.00', floodSeconds));
    await db.query(`UPDATE public.listings SET "LST_STAT_CD" = 'A' WHERE lst_id = $1`, [UNPUBLISHED]);
    if (runs !== 'flood') {
      results.push(await run('baseline (flood control off)', stack, db, false, '70.00', baselineSeconds));
    }
  } finally {
    await deleteListings(db, [...BULK, UNPUBLISHED]);
    await db.end();
  }
  for (const r of results) {
    console.log(`\n[burst] ${r.name}: ${rows} repriced in one transaction, then one unpublish`);
    console.log(`  unpublish: commit -> arrival        ${fmt(r.unpublishSeconds, r.stoppedAfterSeconds)}`);
    if (r.unpublishLegs !== null) {
      console.log(
        `    of which commit -> Kafka (Debezium) ${r.unpublishLegs.debezium.toFixed(1)} s, Kafka -> stand-in (service) ${r.unpublishLegs.service.toFixed(1)} s`,
      );
    }
    console.log(
      `  every change conveyed              ${fmt(r.conveyedSeconds, r.stoppedAfterSeconds)} (${r.conveyed} conveyed, ${r.missing} missing)`,
    );
    console.log(`  committed offset past the burst    ${fmt(r.committedSeconds, r.stoppedAfterSeconds)}`);
    console.log(`  429s at the stand-in               ${r.rateLimited}`);
    console.log(`  peak RSS of the service            ${r.peakRssMb.toFixed(0)} MB`);
    for (const [channel, m] of Object.entries(r.messages)) {
      console.log(
        `  #${channel.padEnd(20)} ${m.topLevel} messages, ${m.inThreads} thread replies, ${m.files} files`,
      );
    }
  }
}

await main();
