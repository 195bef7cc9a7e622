/**
 * CPU per record on the service's own path, in one process with no I/O: raw Kafka message bytes (as
 * kafkajs hands them out: views of one fetch buffer per partition) -> toSourceRecord -> the record
 * loop (admission, decide with its retry wrapper) -> the pipeline edges as main.ts composes them at the
 * defaults (quarantine, delivery ledger, mutes, last-values store) -> decode -> normalize -> diff ->
 * filter -> route -> fold run / record work -> scheduler -> the lane's submit (fold decision, slim,
 * digest join). The records are a bulk reprice (bench/burst-records.ts: the connector's captured
 * envelopes, only the price changed, REPLICA IDENTITY FULL), then one unpublish.
 *
 * Fakes for I/O: the manual clock (test/support/fakes.ts) stands still, so no digest window, pace or
 * retry timer fires; the chat (test/support/fake-chat.ts) waits on that clock, so nothing is sent and
 * no digest is built (their cost is not on this path). Metrics are the real prom-client ones and the
 * logger the real pino one at info (to /dev/null): both are on the service's path. The one departure
 * from the defaults: delivery.flood.maxFoldedRecords is lifted, because here no digest ever goes out
 * to free room (in the service it pauses the partitions until one does).
 *
 * Not a test: it prints figures and asserts nothing (but stops if a record is not folded as the
 * service folds it, so it cannot quietly measure something else).
 *
 * Run: npm exec -- node --expose-gc bench/record-path.ts
 *   BENCH_ROWS (default 100000) price changes per run, BENCH_RUNS (default 3) runs after a warm-up of
 *   BENCH_WARMUP (default 20000) rows; each run has a fresh loop, scheduler and stores.
 *   BENCH_HEAP_PROF=FILE writes a sampling profile of all allocations over the runs (.heapprofile) and
 *   prints the bytes allocated per record under frames of src/ (the path's, not this file's records).
 * Under the Deployment's NODE_OPTIONS add --max-semi-space-size=4 (GC is then a large share).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import type { KafkaMessage } from 'kafkajs';
import pino from 'pino';
import { Registry } from 'prom-client';
import { toSourceRecord } from '../src/adapters/kafka-source.ts';
import { createLogger } from '../src/adapters/logger.ts';
import { createMemoryLastValues } from '../src/adapters/memory-last-values.ts';
import { createPromMetrics } from '../src/adapters/prom-metrics.ts';
import { createLastValuesEdge } from '../src/app/last-values.ts';
import { withDeliveryLedger } from '../src/app/ledger-filter.ts';
import { withMutes } from '../src/app/mutes-filter.ts';
import { withQuarantine } from '../src/app/quarantine.ts';
import { createRecordLoop } from '../src/app/record-loop.ts';
import { createReloadablePipeline } from '../src/app/rules-reload.ts';
import { parseConfig } from '../src/config/index.ts';
import { createMemoryLedger } from '../src/delivery/ledger.ts';
import { createScheduler } from '../src/delivery-root.ts';
import { createPipeline } from '../src/pipeline/index.ts';
import type { SourceBatch } from '../src/ports/index.ts';
import { createFakeChat } from '../test/support/fake-chat.ts';
import { createManualClock } from '../test/support/fakes.ts';
import { envelopes } from './burst-records.ts';

const ROWS = Number(process.env.BENCH_ROWS ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 20_000);
const PARTITIONS = 6;
const TOPIC = 'monolith.public.listings';
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

const config = parseConfig(
  readFileSync(new URL('../config/listing-notifier.yaml', import.meta.url), 'utf8'),
  'config',
);

/** The service's parts as main.ts composes them with the embedded store (store.url null). */
function compose() {
  const clock = createManualClock();
  const registry = new Registry();
  const metrics = createPromMetrics(registry);
  const logger = createLogger({
    level: 'info',
    destination: pino.destination({ dest: '/dev/null', sync: true }),
  });
  const { store, delivery } = config;
  const ledger = createMemoryLedger({
    clock,
    retentionMs: store.ledger.retentionMs,
    maxBytes: store.ledger.maxMemoryBytes,
  });
  const lastValues = createLastValuesEdge({
    store: createMemoryLastValues({
      clock,
      ttlMs: store.lastValues.ttlMs,
      maxBytes: store.lastValues.maxBytes,
    }),
    metrics,
    logger: logger.child({ component: 'last-values' }),
  });
  const pipeline = createReloadablePipeline(config, (rules) =>
    createPipeline(rules, { deferRender: true, lastValues }),
  );
  const unmuted = withMutes(pipeline, { mutes: () => [], clock });
  const processing = withDeliveryLedger(unmuted, {
    ledger,
    metrics,
    logger: logger.child({ component: 'ledger' }),
  });
  const chat = createFakeChat({ clock, latencyMs: 3_600_000 });
  const scheduler = createScheduler({
    config,
    destination: chat,
    rules: () => pipeline.config(),
    clock,
    metrics,
    logger: logger.child({ component: 'delivery' }),
    store: { ledger },
  });
  const paused: string[] = [];
  const loop = createRecordLoop({
    pipeline: withQuarantine(processing, () => undefined),
    deliverer: scheduler,
    deadLetter: {
      send: async () => {
        throw new Error('bench: a record was dead-lettered');
      },
    },
    source: {
      pause: (tp) => paused.push(`${tp.topic}/${tp.partition}`),
      resume: () => {},
      commit: async () => {},
    },
    clock,
    metrics,
    logger,
    limits: {
      maxInFlightRecords: delivery.maxInFlightRecords,
      maxInFlightBytes: delivery.maxInFlightBytes,
      maxFoldedRecords: Number.POSITIVE_INFINITY,
    },
    maxQueuedPerChannel: delivery.maxQueuedPerChannel,
    retry: delivery.retry,
    afterWork: lastValues.track,
    runValues: lastValues,
    onFatal: (error) => {
      throw error;
    },
  });
  loop.onAssigned(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: TOPIC, partition })));
  return { loop, scheduler, paused };
}

/** Per partition, one fetch's messages as kafkajs hands them out: views of a single response buffer. */
function* fetches(firstId: number, rows: number): Generator<KafkaMessage[][]> {
  const perPartitionBytes = config.source.fetch.maxBytesPerPartition;
  const offsets = new Array<number>(PARTITIONS).fill(0);
  let pending: Array<Array<{ key: string; value: string }>> = Array.from({ length: PARTITIONS }, () => []);
  let sizes = new Array<number>(PARTITIONS).fill(0);
  const cut = (): KafkaMessage[][] => {
    const out = pending.map((records, partition) => {
      const buffer = Buffer.from(records.map((r) => r.key + r.value).join(''));
      let at = 0;
      return records.map((r): KafkaMessage => {
        const key = buffer.subarray(at, at + Buffer.byteLength(r.key));
        at += key.length;
        const value = buffer.subarray(at, at + Buffer.byteLength(r.value));
        at += value.length;
        const offset = String(offsets[partition]);
        offsets[partition] = (offsets[partition] ?? 0) + 1;
        return { key, value, offset, timestamp: '1767225600000', headers: {}, attributes: 0 };
      });
    });
    pending = Array.from({ length: PARTITIONS }, () => []);
    sizes = new Array<number>(PARTITIONS).fill(0);
    return out;
  };
  for (const chunk of envelopes(firstId, rows, 'a')) {
    for (const r of chunk) {
      const partition = Number(JSON.parse(r.key).payload.lst_id) % PARTITIONS;
      (pending[partition] as Array<{ key: string; value: string }>).push(r);
      sizes[partition] = (sizes[partition] ?? 0) + r.key.length + r.value.length;
      if ((sizes[partition] ?? 0) >= perPartitionBytes) yield cut();
    }
  }
  yield cut();
}

/** GC pauses, as the observer is told of them (between fetches: see run). */
let gcMs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcMs += entry.duration;
}).observe({ entryTypes: ['gc'] });

interface RunResult {
  records: number;
  ms: number;
  /** CPU time of the process meanwhile (GC helper threads included): less disturbed by a busy machine. */
  cpuMs: number;
  gcMs: number;
  retainedPerRecord: number;
}

async function run(firstId: number, rows: number): Promise<RunResult> {
  const { loop, scheduler, paused } = compose();
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const gcMsBefore = gcMs;
  let ns = 0n;
  let cpuUs = 0;
  let records = 0;
  for (const fetch of fetches(firstId, rows)) {
    for (const [partition, messages] of fetch.entries()) {
      if (messages.length === 0) continue;
      const cpu0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      // What the kafkajs source does per batch (kafka-source.ts eachBatch), then the loop's handler.
      const batch: SourceBatch = {
        topic: TOPIC,
        partition,
        highWatermark: String(1_000_000_000),
        records: messages.map((m) => toSourceRecord(TOPIC, partition, m)),
        take: () => {},
        heartbeat: async () => {},
        isActive: () => true,
      };
      await loop.onBatch(batch);
      ns += process.hrtime.bigint() - t0;
      const cpu = process.cpuUsage(cpu0);
      cpuUs += cpu.user + cpu.system;
      records += messages.length;
      if (paused.length > 0)
        throw new Error(`bench: partitions paused (${paused.join(', ')}): not the fold path`);
    }
    // Between fetches the event loop turns (kafkajs waits on the socket): the GC observer reports.
    await new Promise((resolve) => setImmediate(resolve));
  }
  const status = loop.status();
  // All but the first few (a channel's pace budget, sent on their own) fold into digests; the unpublish
  // goes on its own.
  if (status.folded < rows * 0.99) throw new Error(`bench: only ${status.folded} of ${rows} records folded`);
  const ms = Number(ns) / 1e6;
  await new Promise((resolve) => setImmediate(resolve));
  const gcDuring = gcMs - gcMsBefore;
  gc?.();
  const heapAfter = process.memoryUsage().heapUsed;
  scheduler.close();
  return {
    records,
    ms,
    cpuMs: cpuUs / 1000,
    gcMs: gcDuring,
    retainedPerRecord: (heapAfter - heapBefore) / records,
  };
}

const print = (label: string, r: RunResult): void =>
  console.log(
    `[record-path] ${label}: ${r.records} records in ${r.ms.toFixed(0)} ms = ${((r.records / r.ms) * 1000).toFixed(0)} records/s, ` +
      `${((r.ms / r.records) * 10_000).toFixed(1)} ms per 10k (GC ${r.gcMs.toFixed(0)} ms); ` +
      `CPU ${((r.cpuMs / r.records) * 10_000).toFixed(1)} ms per 10k; ` +
      `retained ${(r.retainedPerRecord / 1024).toFixed(2)} kB/record`,
  );

print('warm-up', await run(1_000_000, WARMUP));
// BENCH_HEAP_PROF=FILE: a sampling profile of every allocation (collected ones too) over the runs.
const heapProf = process.env.BENCH_HEAP_PROF;
const session = heapProf === undefined ? undefined : new Session();
if (session !== undefined) {
  session.connect();
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 4096,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
}
const results: RunResult[] = [];
for (let i = 0; i < RUNS; i += 1) {
  const r = await run(2_000_000 + i * 1_000_000, ROWS);
  print(`run ${i + 1}`, r);
  results.push(r);
}
if (session !== undefined && heapProf !== undefined) {
  const { profile } = await session.post('HeapProfiler.stopSampling');
  writeFileSync(heapProf, JSON.stringify(profile));
  // Allocations under a frame of src/ are the path's; the rest is this file making records.
  let path = 0;
  const walk = (node: (typeof profile)['head'], inPath: boolean): void => {
    const here = inPath || node.callFrame.url.includes('/src/');
    if (here) path += node.selfSize;
    for (const child of node.children) walk(child, here);
  };
  walk(profile.head, false);
  const records = results.reduce((n, r) => n + r.records, 0);
  console.log(
    `[record-path] allocated on the path (sampled): ${(path / records / 1024).toFixed(1)} kB/record`,
  );
}
const medianOf = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const median = medianOf(results.map((r) => (r.records / r.ms) * 1000));
const cpuMedian = medianOf(results.map((r) => (r.cpuMs / r.records) * 10_000));
console.log(
  `[record-path] median ${median.toFixed(0)} records/s = ${(10_000_000 / median).toFixed(1)} ms per 10k, CPU ${cpuMedian.toFixed(1)} ms per 10k (${RUNS} runs of ${ROWS})`,
);
process.exit(0);
