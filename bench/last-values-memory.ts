/**
 * Memory of the last-values store (issue 18) per 100,000 listings, for the default rules' watched
 * columns (prc_amt, crncy_cd, LST_STAT_CD, prod_stk_qty, description), two shapes: description null
 * (short listings) and a 200-character description (a watched text field costs its text).
 *
 * In process: V8 heap after a full GC, with the filled store, minus the heap with the same 100,000
 * entries' ids only (the baseline, same run); beside it the store's own byte accounting (maxBytes
 * counts that). Redis (REDIS_URL, default redis://127.0.0.1:6379; keys under a prefix of this run,
 * deleted at the end): MEMORY USAGE of every 100th key, times 100,000.
 *
 * Run: node_modules/.bin/node --expose-gc bench/last-values-memory.ts
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createMemoryLastValues } from '../src/adapters/memory-last-values.ts';
import { createRedisStore } from '../src/adapters/redis-store.ts';
import type { KnownValues } from '../src/domain/known-values.ts';
import { noopLogger } from '../src/ports/index.ts';

const N = 100_000;
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');
const heap = (): number => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};
const clock = { now: () => Date.now(), sleep: async () => {} };

const entryOf = (i: number, description: string | null): KnownValues => ({
  position: `pg:${String(30_000_000 + i * 120).padStart(20, '0')}`,
  values: {
    prc_amt: { type: 'decimal', value: `${(i % 5000) + 10}.${String(i % 100).padStart(2, '0')}` },
    crncy_cd: 'EUR',
    LST_STAT_CD: 'A',
    prod_stk_qty: i % 200,
    description,
  },
});

const longText = (i: number) =>
  `Listing ${i}: ${'solid oak, hand finished, ships in two days; '.repeat(5)}`.slice(0, 200);

async function inProcess(label: string, description: (i: number) => string | null): Promise<void> {
  const ids = Array.from({ length: N }, (_, i) => String(1_000_000 + i));
  const base = heap();
  const store = createMemoryLastValues({ maxBytes: 1 << 30, ttlMs: 30 * 24 * 3600 * 1000, clock });
  for (let i = 0; i < N; i++) await store.put(ids[i] as string, entryOf(i, description(i)));
  const filled = heap();
  const bytes = filled - base;
  console.log(
    `in-process  ${label.padEnd(22)} heap +${(bytes / 1024 / 1024).toFixed(1)} MiB per ${N} listings (${Math.round(bytes / N)} B each); store's own count ${(store.calculatedSize() / 1024 / 1024).toFixed(1)} MiB`,
  );
  if (store.size() !== N) throw new Error(`expected ${N} entries, got ${store.size()}`);
}

async function redis(label: string, description: (i: number) => string | null): Promise<void> {
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = `ln-bench-${randomUUID().slice(0, 8)}`;
  const store = createRedisStore({ url, keyPrefix: prefix, ledgerRetentionMs: 60_000, logger: noopLogger });
  const client = new Redis(url);
  try {
    while (!store.connected()) await new Promise((r) => setTimeout(r, 20)); // the store queues nothing offline
    for (let i = 0; i < N; i += 1000) {
      const batch: Promise<boolean>[] = [];
      for (let j = i; j < i + 1000; j++)
        batch.push(store.lastValues.put(String(1_000_000 + j), entryOf(j, description(j))));
      await Promise.all(batch);
    }
    let sampled = 0;
    let total = 0;
    for (let i = 0; i < N; i += 100) {
      total += Number(
        await client.call('MEMORY', 'USAGE', `${prefix}:last:${1_000_000 + i}`, 'SAMPLES', '0'),
      );
      sampled += 1;
    }
    const each = total / sampled;
    console.log(
      `redis       ${label.padEnd(22)} MEMORY USAGE ${Math.round(each)} B per key -> ${((each * N) / 1024 / 1024).toFixed(1)} MiB per ${N} listings`,
    );
  } finally {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 5000);
      cursor = next;
      if (keys.length > 0) await client.del(...keys);
    } while (cursor !== '0');
    client.disconnect();
    await store.close();
  }
}

for (const [label, description] of [
  ['description null', () => null],
  ['description 200 chars', longText],
] as const) {
  await inProcess(label, description);
  await redis(label, description);
}
