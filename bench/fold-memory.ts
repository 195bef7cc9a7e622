/**
 * Bytes held per record folded into a digest, in one process with no Kafka: the real record loop,
 * pipeline (full decode path), composer and scheduler, fed the bench's Debezium envelopes
 * (bench/burst-records.ts) in batches like kafkajs's, with a chat that never answers (the digest stays
 * open and holds everything), and the last-values edge as the service has it by default. Heap after a GC, before and after, divided by the records folded.
 * This is what delivery.flood.maxFoldedRecords multiplies; the sizing in the README comes from it.
 *
 * Run: npm exec -- node --expose-gc bench/fold-memory.ts   (BENCH_ROWS, default 50000)
 */
import { createMemoryLastValues } from '../src/adapters/memory-last-values.ts';
import { systemClock } from '../src/adapters/system-clock.ts';
import { createLastValuesEdge } from '../src/app/last-values.ts';
import { createRecordLoop } from '../src/app/record-loop.ts';
import { parseConfig } from '../src/config/index.ts';
import { createDeliveryScheduler } from '../src/delivery/scheduler.ts';
import { createComposer } from '../src/pipeline/compose.ts';
import { createPipeline } from '../src/pipeline/index.ts';
import { type ChatDestination, noopLogger, noopMetrics, type SourceBatch } from '../src/ports/index.ts';
import { envelopes } from './burst-records.ts';

const rows = Number(process.env.BENCH_ROWS ?? 50_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

const config = parseConfig('{}', 'defaults');
// The last-values edge as the service builds it by default (store.lastValues.enabled, in memory).
const lastValues = createLastValuesEdge({
  store: createMemoryLastValues({
    clock: systemClock,
    ttlMs: config.store.lastValues.ttlMs,
    maxBytes: config.store.lastValues.maxBytes,
  }),
  metrics: noopMetrics,
  logger: noopLogger,
});
const never = new Promise<never>(() => {});
const chat: ChatDestination = { post: () => never, upload: () => never };
const scheduler = createDeliveryScheduler({
  destination: chat,
  composer: createComposer(() => config),
  // BENCH_FLOOD=defaults: the service's digest bounds (digests cut by size and window); default: one
  // digest that never closes, so everything folded stays held and is measured.
  flood:
    process.env.BENCH_FLOOD === 'defaults'
      ? config.delivery.flood
      : {
          ...config.delivery.flood,
          maxDigestItems: 10_000_000,
          digestQuietMs: 3_600_000,
          digestWindowMs: 3_600_000,
        },
  clock: systemClock,
  perChannel: config.delivery.perChannel,
  burst: config.delivery.burst,
  workspace: config.delivery.workspace,
  maxQueuedPerChannel: config.delivery.maxQueuedPerChannel,
  retry: config.delivery.retry,
});
const loop = createRecordLoop({
  pipeline: createPipeline(config, { lastValues, deferRender: true }),
  afterWork: lastValues.track,
  runValues: lastValues,
  deliverer: scheduler,
  deadLetter: { send: async () => {} } as never,
  source: { pause: () => {}, resume: () => {}, commit: async () => {} },
  clock: systemClock,
  limits: { ...config.delivery, maxFoldedRecords: 10_000_000 },
  maxQueuedPerChannel: config.delivery.maxQueuedPerChannel,
  retry: config.delivery.retry,
  onFatal: (error) => {
    throw error;
  },
});

const heap = (): number => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

loop.onAssigned(Array.from({ length: 6 }, (_, partition) => ({ topic: 'bench', partition })));
const offsets = new Array<number>(6).fill(0);
let n = 0;
const before = heap();
const t0 = performance.now();
for (const chunk of envelopes(4_000_000, rows, 'a')) {
  const records = chunk.map((r, i) => {
    const partition = i % 6;
    const offset = String(offsets[partition]);
    offsets[partition] = (offsets[partition] ?? 0) + 1;
    return {
      topic: 'bench',
      partition,
      offset,
      key: Buffer.from(r.key),
      value: Buffer.from(r.value),
      headers: {},
      timestamp: String(Date.now()),
    };
  });
  for (let partition = 0; partition < 6; partition += 1) {
    const batch: SourceBatch = {
      topic: 'bench',
      partition,
      highWatermark: '0',
      records: records.filter((r) => r.partition === partition),
      take: () => {},
      heartbeat: async () => {},
      isActive: () => true,
    };
    await loop.onBatch(batch);
  }
  n += chunk.length;
}
const seconds = (performance.now() - t0) / 1000;
const after = heap();
const status = loop.status();
console.log(
  `[fold-memory] ${n} records in ${seconds.toFixed(1)} s (${(n / seconds).toFixed(0)}/s); in flight ${status.inFlight}, folded ${status.folded}; ` +
    `heap +${((after - before) / 2 ** 20).toFixed(1)} MiB = ${((after - before) / Math.max(1, status.folded)).toFixed(0)} bytes per folded record; rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`,
);
if (process.env.BENCH_SNAPSHOT) (await import('node:v8')).writeHeapSnapshot(process.env.BENCH_SNAPSHOT);
process.exit(0);
