/**
 * The last-values edge (src/app/last-values.ts) and the in-process store
 * (src/adapters/memory-last-values.ts): written only once a record finished and after the listing's
 * earlier records; nothing written for abandoned records or behind them; an older position never
 * replaces a newer one; bounded in bytes; entries expire by the Clock.
 */
import { describe, expect, it } from 'vitest';
import { createMemoryLastValues, entryBytes } from '../../../src/adapters/memory-last-values.ts';
import { createLastValuesEdge } from '../../../src/app/last-values.ts';
import type { Completion } from '../../../src/app/record-work.ts';
import { NotifierError } from '../../../src/domain/errors.ts';
import type { KnownValues } from '../../../src/domain/known-values.ts';
import type { Outcome } from '../../../src/domain/outcome.ts';
import { entryText } from '../../../src/pipeline/before-image.ts';
import { type LastValuesStore, noopLogger, noopMetrics } from '../../../src/ports/index.ts';
import { createCapturingLogger, createManualClock, stays } from '../../support/fakes.ts';

const finished: Completion = { kind: 'finished', delivered: ['#a'], deadLettered: [], dropped: [] };
const entry = (position: string, price: number): KnownValues => ({ position, values: { prc_amt: price } });
const outcome = (listingId: string, e: KnownValues): Outcome => ({
  kind: 'dropped',
  reason: 'insignificant: test',
  learned: { listingId, entry: e },
});

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

function recordingStore(): LastValuesStore & { puts: Array<[string, KnownValues]> } {
  const inner = createMemoryLastValues({ maxBytes: 1 << 20, ttlMs: 60_000, clock: createManualClock() });
  const puts: Array<[string, KnownValues]> = [];
  return {
    puts,
    get: (id) => inner.get(id),
    async put(id, e) {
      puts.push([id, e]);
      return inner.put(id, e);
    },
  };
}

describe('last-values edge', () => {
  it("writes a record only once it finished, and after the listing's earlier records", async () => {
    const store = recordingStore();
    const edge = createLastValuesEdge({ store, metrics: noopMetrics, logger: noopLogger });
    const first = deferred<Completion>();
    const second = deferred<Completion>();
    const a = edge.track(outcome('7', entry('pg:1', 100)), first.promise);
    const b = edge.track(outcome('7', entry('pg:2', 80)), second.promise);
    // The next record of the listing sees the newest taken values before any is written.
    expect(await edge.lookup('7')).toEqual(entry('pg:2', 80));
    second.resolve(finished); // the later one finishes first (dropped while the first waits for Slack)
    await stays(() => store.puts.length === 0, 'nothing written while the first record waits');
    first.resolve(finished);
    expect(await a).toBe(finished);
    expect(await b).toBe(finished);
    expect(store.puts.map(([, e]) => e.position)).toEqual(['pg:1', 'pg:2']);
    expect(edge.pending()).toBe(0);
    expect(await edge.lookup('7')).toEqual(entry('pg:2', 80));
  });

  it("an abandoned record writes nothing, nor do the listing's records behind it", async () => {
    const store = recordingStore();
    const edge = createLastValuesEdge({ store, metrics: noopMetrics, logger: noopLogger });
    const first = deferred<Completion>();
    const a = edge.track(outcome('7', entry('pg:1', 100)), first.promise);
    const b = edge.track(outcome('7', entry('pg:2', 80)), Promise.resolve(finished));
    const other = edge.track(outcome('8', entry('pg:3', 5)), Promise.resolve(finished));
    first.resolve({ kind: 'abandoned' });
    expect(await a).toEqual({ kind: 'abandoned' });
    expect(await b).toBe(finished);
    await other;
    expect(store.puts).toEqual([['8', entry('pg:3', 5)]]);
    expect(await edge.lookup('7')).toBeUndefined();
  });

  it('a record without learned values passes through untouched', async () => {
    const edge = createLastValuesEdge({ store: recordingStore(), metrics: noopMetrics, logger: noopLogger });
    const done = Promise.resolve(finished);
    expect(edge.track({ kind: 'dropped', reason: 'tombstone: x' }, done)).toBe(done);
  });

  it('a store that cannot answer costs the before image, not the record', async () => {
    const logger = createCapturingLogger();
    const fallbacks: string[] = [];
    const metrics = { ...noopMetrics, storeFallback: (op: string) => fallbacks.push(op) };
    const broken: LastValuesStore = {
      get: () => Promise.reject(new Error('connection refused')),
      put: () => Promise.reject(new Error('connection refused')),
    };
    const edge = createLastValuesEdge({ store: broken, metrics, logger });
    expect(await edge.lookup('7')).toBeUndefined();
    expect(await edge.track(outcome('7', entry('pg:1', 1)), Promise.resolve(finished))).toBe(finished);
    expect(fallbacks).toEqual(['lastValues', 'lastValues']);
    expect(logger.lines.map((l) => l.level)).toEqual(['warn', 'warn']);
    expect(logger.lines[0]?.fields).toMatchObject({ error: { code: 'STORE_UNAVAILABLE' } });
  });

  it('degrades only where the error table says degrade: a coded stop from the store is thrown on', async () => {
    const stop = new NotifierError('CONFIG_INVALID', 'store.keyPrefix refused');
    const broken: LastValuesStore = { get: () => Promise.reject(stop), put: () => Promise.reject(stop) };
    const edge = createLastValuesEdge({ store: broken, metrics: noopMetrics, logger: noopLogger });
    await expect(edge.lookup('7')).rejects.toBe(stop);
    await expect(edge.track(outcome('7', entry('pg:1', 1)), Promise.resolve(finished))).rejects.toBe(stop);
  });
});

describe('in-process last-values store', () => {
  it('keeps the newer position: an older or replayed record never overwrites', async () => {
    const store = createMemoryLastValues({ maxBytes: 1 << 20, ttlMs: 60_000, clock: createManualClock() });
    expect(await store.put('7', entry('pg:2', 80))).toBe(true);
    expect(await store.put('7', entry('pg:1', 100))).toBe(false);
    expect(await store.put('7', entry('pg:2', 90))).toBe(false);
    expect(await store.get('7')).toEqual(entry('pg:2', 80));
    expect(await store.put('7', entry('pg:3', 70))).toBe(true);
    expect(await store.get('7')).toEqual(entry('pg:3', 70));
  });

  it('warm values (position "0") never replace a change and are replaced by any', async () => {
    const store = createMemoryLastValues({ maxBytes: 1 << 20, ttlMs: 60_000, clock: createManualClock() });
    expect(await store.put('7', entry('pg:5', 80))).toBe(true);
    expect(await store.put('7', entry('0', 1))).toBe(false);
    expect(await store.put('8', entry('0', 1))).toBe(true);
    expect(await store.put('8', entry('my:mysql-bin.000001:00000000000000000004:0000000000', 2))).toBe(true);
  });

  it('expires entries ttlMs after their last write, by the Clock', async () => {
    const clock = createManualClock();
    const store = createMemoryLastValues({ maxBytes: 1 << 20, ttlMs: 1000, clock });
    await store.put('7', entry('pg:1', 1));
    await clock.advance(999);
    expect(await store.get('7')).toEqual(entry('pg:1', 1));
    await clock.advance(1);
    expect(await store.get('7')).toBeUndefined();
    // An expired entry no longer blocks an older position either.
    expect(await store.put('7', entry('pg:0', 5))).toBe(true);
  });

  it('stays within maxBytes, dropping the least recently used listings first', async () => {
    const one = entryBytes('100000', `${(Date.now() + 1000).toString(36)}|${entryText(entry('pg:1', 1))}`);
    const store = createMemoryLastValues({ maxBytes: one * 10, ttlMs: 60_000, clock: createManualClock() });
    for (let i = 100_000; i < 100_020; i++) await store.put(String(i), entry('pg:1', 1));
    expect(store.size()).toBeLessThanOrEqual(10);
    expect(store.size()).toBeGreaterThanOrEqual(9);
    expect(await store.get('100000')).toBeUndefined();
    expect(await store.get('100019')).toEqual(entry('pg:1', 1));
  });
});
