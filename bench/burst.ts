/**
 * Flood control at size, under the Deployment's memory limit (issue 16): N listings repriced at once,
 * then one unrelated unpublish, with the service in a memory cgroup capped like the pod (256Mi,
 * k8s/app/deployment.yaml), NODE_OPTIONS=--max-semi-space-size=4 as deployed, the Slack stand-in at
 * Slack's pace (1/s per channel, burst 3) and the default rules.
 *
 * The records are realistic Debezium envelopes (test/fixtures/debezium/update-price and update-status,
 * captured from the real connector; only ids, prices, times and a long description differ) produced
 * straight into a bench topic of 6 partitions with Kafka's key partitioning, at whatever pace the
 * producer manages: a 100,000-row UPDATE on the shared public.listings would flood the other
 * engineers' tests (bench/burst-debezium.ts is the Debezium path, for small N).
 *
 * Per N, in one invocation, on the same records:
 * - flood: the service streaming the bulk as it is written (group at the topic's end, then produce);
 * - drain: the service reading the same records from the beginning; the unpublish is last, so its
 *   arrival is when the fold path has decoded, routed and folded all N (records/s);
 * - raw kafkajs: a bare consumer draining the same records (records/s; the client's ceiling);
 * - off: flood control off (delivery.flood.enabled: false) for BENCH_BASELINE_SECONDS.
 *
 * Reported: the unpublish's service leg (its record appended -> the stand-in accepting it), seconds
 * from the last bulk record written to every listing conveyed (message, digest line or CSV row, by
 * listing id), listings missing and conveyed twice, top-level messages and files per channel, 429s,
 * peak RSS (VmHWM), the cgroup's max usage, failcnt and OOM kills. Not a test: prints, asserts nothing.
 *
 * Run (root, Linux, cgroup v1 memory controller; the stack up):
 *   BENCH_ROWS=10000,100000 npm exec -- node bench/burst.ts
 * BENCH_ROWS (comma list, default 10000), BENCH_RUNS (default flood,drain,raw,off), BENCH_LIMIT_MB
 * (default 256; 0: no cgroup), BENCH_BASELINE_SECONDS (default 60), BENCH_FLOOD_SECONDS (default 300),
 * BENCH_SERVICE_NODE_OPTIONS (default: NODE_OPTIONS of k8s/app/deployment.yaml), BENCH_FLOOD (JSON over
 * delivery.flood's defaults, for sizing), BENCH_STORE (a Redis URL: the service with the shared store), BENCH_LOG_LEVEL (the service's, default info), BENCH_LOG_DIR (writes each run's service log there), BENCH_KEEP_TOPIC=1 keeps the bench topics.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { Kafka, logLevel } from 'kafkajs';
import { parseConfig } from '../src/config/index.ts';
import {
  type ChildService,
  conveyedListings,
  listingIdOf,
  startChild,
  startSlackStandin,
  uniqueGroupId,
  waitUntil,
} from '../test/integration/service/harness.ts';
import {
  cgroupAvailable,
  createMemoryCgroup,
  deployedEnv,
  deployedNodeOptions,
  type MemoryCgroup,
} from '../test/support/cgroup.ts';
import { endpointsFromEnv, localStackEndpoints, type StackEndpoints } from '../test/support/stack.ts';
import { type BenchRecord, envelopes } from './burst-records.ts';

const sizes = (process.env.BENCH_ROWS ?? '10000').split(',').map(Number);
const runs = new Set((process.env.BENCH_RUNS ?? 'flood,drain,raw,off').split(','));
const limitMb = Number(process.env.BENCH_LIMIT_MB ?? 256);
const baselineSeconds = Number(process.env.BENCH_BASELINE_SECONDS ?? 60);
const floodSeconds = Number(process.env.BENCH_FLOOD_SECONDS ?? 300);
const serviceNodeOptions = process.env.BENCH_SERVICE_NODE_OPTIONS ?? deployedNodeOptions();
/** delivery.flood settings over the defaults, for sizing runs: BENCH_FLOOD='{"maxFoldedRecords":10000}'. */
const floodOverrides = JSON.parse(process.env.BENCH_FLOOD ?? '{}') as Record<string, unknown>;
/** The shared store's URL (BENCH_STORE), e.g. redis://127.0.0.1:6379; default: none (in process). */
const storeUrl = process.env.BENCH_STORE;

const FIRST_ID = 3_000_000;
const slackPace = { perSecond: 1, burst: 3 };
const CHANNELS = ['sales-alerts', 'inventory-warnings', 'support-heads-up', 'marketing-updates'];

interface RunResult {
  run: string;
  rows: number;
  /** The unpublish: its record appended -> the stand-in accepting it. */
  unpublishSeconds: number | null;
  /** Last bulk record appended -> every listing conveyed. */
  conveyedSeconds: number | null;
  conveyed: number;
  twice: number;
  topLevel: Record<string, number>;
  files: Record<string, number>;
  rateLimited: number;
  peakRssMb: number;
  cgroup: { maxUsageMb: number; failcnt: number; oomKills: number } | null;
  exited: string | null;
  seconds: number;
  recordsPerSecond?: number;
}

const admin = (stack: StackEndpoints) =>
  new Kafka({
    clientId: 'ln-bench-burst',
    brokers: stack.kafkaBrokers,
    logLevel: logLevel.NOTHING,
    // A topic just created may answer NOT_LEADER_FOR_PARTITION for a while: kafkajs retries it.
    retry: { retries: 12 },
  }).admin();

async function createTopic(stack: StackEndpoints, topic: string): Promise<void> {
  const a = admin(stack);
  await a.connect();
  try {
    await a.createTopics({ topics: [{ topic, numPartitions: 6 }], waitForLeaders: true });
  } finally {
    await a.disconnect();
  }
}

async function deleteTopic(stack: StackEndpoints, topic: string): Promise<void> {
  const a = admin(stack);
  await a.connect();
  try {
    const existing = new Set(await a.listTopics());
    const topics = [topic, `${topic}.dlq`].filter((t) => existing.has(t));
    if (topics.length > 0) await a.deleteTopics({ topics });
  } finally {
    await a.disconnect();
  }
}

async function setGroup(stack: StackEndpoints, groupId: string, topic: string, at: 'start' | 'end') {
  const a = admin(stack);
  await a.connect();
  try {
    const offsets = await a.fetchTopicOffsets(topic);
    await a.setOffsets({
      groupId,
      topic,
      partitions: offsets.map((o) => ({ partition: o.partition, offset: at === 'start' ? o.low : o.high })),
    });
    return offsets.map((o) => ({ partition: o.partition, offset: o.high }));
  } finally {
    await a.disconnect();
  }
}

/** Produces the records; returns when the last bulk record and the unpublish were appended. */
async function produce(stack: StackEndpoints, topic: string, records: Iterable<BenchRecord[]>) {
  const kafka = new Kafka({
    clientId: 'ln-bench-burst-producer',
    brokers: stack.kafkaBrokers,
    logLevel: logLevel.NOTHING,
  });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const startedAt = Date.now();
  let lastBulkAt = startedAt;
  try {
    for (const batch of records) {
      await producer.send({ topic, acks: 1, messages: batch.map((r) => ({ key: r.key, value: r.value })) });
      if (batch.some((r) => !r.unpublish)) lastBulkAt = Date.now();
    }
  } finally {
    await producer.disconnect();
  }
  return { startedAt, lastBulkAt, doneAt: Date.now() };
}

async function peakRssMb(child: ChildService): Promise<number> {
  const status = await readFile(`/proc/${child.child.pid}/status`, 'utf8').catch(() => '');
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN) / 1024;
}

/** The service streaming the bulk (`at: end`) or draining it from the start (`at: start`). */
async function runService(
  stack: StackEndpoints,
  topic: string,
  rows: number,
  o: { name: string; flood: boolean; at: 'start' | 'end'; limitSeconds: number },
): Promise<RunResult> {
  const standin = await startSlackStandin({ pace: slackPace });
  const groupId = uniqueGroupId(`burst-${o.name}`);
  const ends = await setGroup(stack, groupId, topic, o.at);
  const text = await readFile(new URL('../config/listing-notifier.yaml', import.meta.url), 'utf8');
  const base = parseConfig(text, 'config/listing-notifier.yaml');
  const config = {
    ...base,
    source: { ...base.source, brokers: stack.kafkaBrokers, groupId, topics: [topic] },
    slack: { ...base.slack, apiUrl: standin.apiUrl },
    http: { host: '127.0.0.1', port: 0 },
    delivery: { ...base.delivery, flood: { ...base.delivery.flood, ...floodOverrides, enabled: o.flood } },
    // BENCH_STORE=redis://...: the shared store (ledger lookups per record, pace, last values in Redis).
    ...(storeUrl === undefined
      ? {}
      : { store: { ...base.store, url: storeUrl, keyPrefix: `ln-bench-${o.name}-${process.pid}` } }),
  };
  let cgroup: MemoryCgroup | undefined;
  if (limitMb > 0 && cgroupAvailable()) {
    cgroup = await createMemoryCgroup(`ln-bench-${o.name}-${process.pid}`, limitMb * 1024 * 1024);
  }
  const child = await startChild(config, standin, {
    ...(cgroup === undefined ? {} : { cgroupProcsFile: cgroup.procsFile }),
    env: {
      ...deployedEnv(),
      NODE_OPTIONS: serviceNodeOptions,
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
    },
  });
  let exited: string | null = null;
  void child.exited.then((code) => {
    exited = `exit ${code ?? child.child.signalCode}`;
  });
  let peak = 0;
  const sampler = setInterval(() => {
    void peakRssMb(child).then((mb) => {
      if (Number.isFinite(mb)) peak = Math.max(peak, mb);
    });
  }, 200);
  const bulk = Array.from({ length: rows }, (_, i) => FIRST_ID + i);
  const unpublished = FIRST_ID + rows;
  try {
    await waitUntil('the service to run', () =>
      Promise.race([child.ready, child.exited.then(() => undefined)]),
    );
    const url = await child.ready;
    await waitUntil('the service to join', async () => {
      const response = await fetch(`${url}/readyz`).catch(() => undefined);
      return response?.status === 200 ? true : undefined;
    });
    const t0 = Date.now();
    let lastBulkAt = t0;
    let unpublishAppendedAt = t0;
    if (o.at === 'end') {
      const written = await produce(stack, topic, envelopes(FIRST_ID, rows, o.name === 'flood' ? 'a' : 'b'));
      lastBulkAt = written.lastBulkAt;
      unpublishAppendedAt = written.doneAt;
      ends.splice(0, ends.length, ...(await setGroupEnds(stack, topic)));
    }
    let unpublishSeconds: number | null = null;
    let conveyedSeconds: number | null = null;
    let conveyed = 0;
    let twice = 0;
    const deadline = t0 + o.limitSeconds * 1000;
    while (Date.now() < deadline && (conveyedSeconds === null || unpublishSeconds === null)) {
      if (exited !== null) break;
      if (unpublishSeconds === null) {
        const m = standin.messages('support-heads-up').find((x) => listingIdOf(x) === unpublished);
        if (m !== undefined) unpublishSeconds = (m.receivedAt - unpublishAppendedAt) / 1000;
      }
      if (conveyedSeconds === null && o.flood) {
        const seen = conveyedListings(standin, 'sales-alerts');
        conveyed = bulk.filter((id) => seen.has(id)).length;
        twice = bulk.filter((id) => (seen.get(id)?.length ?? 0) > 1).length;
        if (conveyed === rows) conveyedSeconds = (Date.now() - lastBulkAt) / 1000;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    if (!o.flood || conveyedSeconds === null) {
      const seen = conveyedListings(standin, 'sales-alerts');
      conveyed = bulk.filter((id) => seen.has(id)).length;
      twice = bulk.filter((id) => (seen.get(id)?.length ?? 0) > 1).length;
    }
    const topLevel: Record<string, number> = {};
    const files: Record<string, number> = {};
    for (const channel of CHANNELS) {
      const all = standin.messages(channel);
      topLevel[channel] = all.filter((m) => m.threadTs === undefined && m.files === undefined).length;
      files[channel] = all.filter((m) => m.files !== undefined).length;
      if (process.env.BENCH_DUMP === '1' && channel === 'sales-alerts') {
        const t = all[0]?.receivedAt ?? 0;
        for (const m of all.filter((x) => x.threadTs === undefined))
          console.log(`[dump] +${((m.receivedAt - t) / 1000).toFixed(1)} s ${m.text?.slice(0, 90)}`);
      }
    }
    peak = Math.max(peak, await peakRssMb(child));
    const stats = cgroup === undefined ? undefined : await cgroup.stats();
    const seconds = (Date.now() - t0) / 1000;
    return {
      run: o.name,
      rows,
      unpublishSeconds,
      conveyedSeconds,
      conveyed,
      twice,
      topLevel,
      files,
      rateLimited: standin.stats().rateLimited.total,
      peakRssMb: peak,
      cgroup:
        stats === undefined
          ? null
          : { maxUsageMb: stats.maxUsageBytes / 2 ** 20, failcnt: stats.failcnt, oomKills: stats.oomKills },
      exited,
      seconds,
      ...(o.at === 'start' && unpublishSeconds !== null
        ? { recordsPerSecond: (rows + 1) / unpublishSeconds }
        : {}),
    };
  } finally {
    clearInterval(sampler);
    child.child.kill('SIGTERM');
    await Promise.race([child.exited, new Promise((resolve) => setTimeout(resolve, 30_000))]);
    if (process.env.BENCH_LOG_DIR !== undefined) {
      await writeFile(
        `${process.env.BENCH_LOG_DIR}/burst-${rows}-${o.name}.log`,
        `${child.output.join('\n')}\n`,
      );
    }
    await child.cleanup();
    await standin.close();
    await cgroup?.remove();
  }
}

async function setGroupEnds(stack: StackEndpoints, topic: string) {
  const a = admin(stack);
  await a.connect();
  try {
    return (await a.fetchTopicOffsets(topic)).map((o) => ({ partition: o.partition, offset: o.high }));
  } finally {
    await a.disconnect();
  }
}

/** A bare kafkajs consumer draining the topic from the start: the client's ceiling on this machine. */
async function runRaw(stack: StackEndpoints, topic: string, rows: number): Promise<RunResult> {
  const kafka = new Kafka({
    clientId: 'ln-bench-burst-raw',
    brokers: stack.kafkaBrokers,
    logLevel: logLevel.NOTHING,
  });
  const consumer = kafka.consumer({ groupId: uniqueGroupId('burst-raw') });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let seen = 0;
  let t0 = 0;
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        if (t0 === 0) t0 = Date.now();
        seen += batch.messages.length;
        if (seen >= rows + 1) resolve();
      },
    });
  });
  await done;
  const seconds = (Date.now() - t0) / 1000;
  await consumer.disconnect();
  return {
    run: 'raw kafkajs',
    rows,
    unpublishSeconds: null,
    conveyedSeconds: null,
    conveyed: 0,
    twice: 0,
    topLevel: {},
    files: {},
    rateLimited: 0,
    peakRssMb: 0,
    cgroup: null,
    exited: null,
    seconds,
    recordsPerSecond: seen / seconds,
  };
}

const s = (v: number | null): string => (v === null ? '-' : `${v.toFixed(1)} s`);

function report(results: RunResult[]): void {
  console.log(
    '\n| N | run | unpublish (service leg) | all conveyed after last write | missing | twice | top-level #sales-alerts (files) | 429s | records/s | peak RSS | cgroup max / failcnt / OOM kills | exit |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of results) {
    const sales = r.topLevel['sales-alerts'];
    console.log(
      `| ${r.rows} | ${r.run} | ${s(r.unpublishSeconds)} | ${s(r.conveyedSeconds)} | ${r.run === 'raw kafkajs' ? '-' : r.rows - r.conveyed} | ${r.run === 'raw kafkajs' ? '-' : r.twice} | ${sales === undefined ? '-' : `${sales} (${r.files['sales-alerts']})`} | ${r.rateLimited} | ${r.recordsPerSecond === undefined ? '-' : r.recordsPerSecond.toFixed(0)} | ${r.peakRssMb > 0 ? `${r.peakRssMb.toFixed(0)} MB` : '-'} | ${r.cgroup === null ? '-' : `${r.cgroup.maxUsageMb.toFixed(0)} MB / ${r.cgroup.failcnt} / ${r.cgroup.oomKills}`} | ${r.exited ?? `ran ${r.seconds.toFixed(0)} s`} |`,
    );
  }
}

async function main(): Promise<void> {
  const stack = endpointsFromEnv() ?? localStackEndpoints('native');
  if (limitMb > 0 && !cgroupAvailable())
    console.warn('[burst] no cgroup v1 memory controller (or not root): no limit');
  const results: RunResult[] = [];
  for (const rows of sizes) {
    const topic = `bench.burst.n${rows}-${process.pid}`;
    await createTopic(stack, topic);
    try {
      console.log(`[burst] N=${rows}: topic ${topic}`);
      if (runs.has('flood')) {
        results.push(
          await runService(stack, topic, rows, {
            name: 'flood',
            flood: true,
            at: 'end',
            limitSeconds: floodSeconds,
          }),
        );
      } else {
        await produce(stack, topic, envelopes(FIRST_ID, rows, 'a'));
      }
      report(results.slice(-1));
      if (runs.has('drain')) {
        results.push(
          await runService(stack, topic, rows, {
            name: 'drain',
            flood: true,
            at: 'start',
            limitSeconds: floodSeconds,
          }),
        );
        report(results.slice(-1));
      }
      if (runs.has('raw')) results.push(await runRaw(stack, topic, rows));
      if (runs.has('off')) {
        results.push(
          await runService(stack, topic, rows, {
            name: 'off',
            flood: false,
            at: 'start',
            limitSeconds: baselineSeconds,
          }),
        );
      }
    } finally {
      if (process.env.BENCH_KEEP_TOPIC !== '1') await deleteTopic(stack, topic);
    }
  }
  console.log(
    `\n[burst] service under ${limitMb > 0 ? `a ${limitMb} MiB memory cgroup` : 'no memory limit'}, NODE_OPTIONS=${serviceNodeOptions}, stand-in 1/s per channel burst 3, default rules; one invocation, baselines in the same run`,
  );
  report(results);
}

await main();
