/**
 * The Redis store against a real redis-server: pace gates shared by two clients (two replicas) keep
 * one pace between them, a 429's block reaches both, ledger claims are exclusive, and a store that goes
 * away makes the fallback gate pace on the local share until it is back; mutes added by one client are
 * listed and removed by another, kept apart by key prefix, and expired by Redis itself at their end.
 *
 * A redis-server of this test's own on a free port above 20000 (the machine's 6379 is never stopped).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore, type RedisStore } from '../../src/adapters/redis-store.ts';
import { systemClock } from '../../src/adapters/system-clock.ts';
import { paceViolation } from '../../src/delivery/pace.ts';
import { createFallbackPaceGate } from '../../src/delivery/pace-gate.ts';
import type { Mute } from '../../src/domain/mute.ts';
import { noopLogger, noopMetrics, type PaceBucket, type PaceGate } from '../../src/ports/index.ts';
import { type OwnRedis, ownRedis } from '../support/redis.ts';
import { waitUntil } from '../support/stack.ts';

/** Calls through `gate` as fast as it allows for `ms`; returns when each call left (epoch ms). */
async function callAsFastAsAllowed(gate: PaceGate, bucket: PaceBucket, ms: number): Promise<number[]> {
  const times: number[] = [];
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const wait = await gate.acquire([bucket]);
    if (wait === 0) {
      times.push(Date.now());
      continue;
    }
    await new Promise((r) => setTimeout(r, Math.min(wait, 50)));
  }
  return times;
}

describe('Redis store', () => {
  let dir: string;
  let redis: OwnRedis;
  const stores: RedisStore[] = [];
  const open = (prefix: string, muteIds?: () => string): RedisStore => {
    const store = createRedisStore({
      url: `redis://127.0.0.1:${redis.port}`,
      keyPrefix: prefix,
      ledgerRetentionMs: 60_000,
      commandTimeoutMs: 500,
      ...(muteIds === undefined ? {} : { muteIds }),
      logger: noopLogger,
    });
    stores.push(store);
    return store;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ln-redis-'));
    redis = await ownRedis(dir);
    await redis.start();
  });

  afterAll(async () => {
    for (const s of stores) await s.close();
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('two replicas calling as fast as allowed keep one pace between them', async () => {
    const a = open('pace1');
    const b = open('pace1');
    await waitUntil('both connected', async () => (a.connected() && b.connected() ? true : undefined));
    const bucket: PaceBucket = { key: 'channel:#x', cap: 1, intervalMs: 100, burst: 2 };
    const [ta, tb] = await Promise.all([
      callAsFastAsAllowed(a.pace, bucket, 2000),
      callAsFastAsAllowed(b.pace, bucket, 2000),
    ]);
    const all = [...ta, ...tb].sort((x, y) => x - y);
    // 2 s at 10/s plus the burst: about 21 calls, shared. The times are taken when each answer reached
    // its client, so a busy event loop can delay one and bunch it with the next: the order check
    // allows one call of such slack beyond the burst; the count bounds the shared pace itself.
    expect(all.length).toBeGreaterThanOrEqual(18);
    expect(all.length).toBeLessThanOrEqual(22);
    expect(ta.length).toBeGreaterThan(0);
    expect(tb.length).toBeGreaterThan(0);
    expect(paceViolation(all, { cap: 1, intervalMs: 99, burst: 3 })).toBeNull();
  });

  it("a 429's block from one replica holds the other", async () => {
    const a = open('pace2');
    const b = open('pace2');
    await waitUntil('both connected', async () => (a.connected() && b.connected() ? true : undefined));
    const bucket: PaceBucket = { key: 'channel:#y', cap: 1, intervalMs: 100, burst: 3 };
    await a.pace.block(bucket, 1500);
    const wait = await b.pace.acquire([bucket]);
    expect(wait).toBeGreaterThan(1300);
    expect(wait).toBeLessThanOrEqual(1500);
  });

  it('ledger claims are exclusive until recorded or released', async () => {
    const a = open('ledger');
    const b = open('ledger');
    await waitUntil('both connected', async () => (a.connected() && b.connected() ? true : undefined));
    const key = 't/1/5|#z';
    expect(await a.ledger.claim([key], 10_000)).toEqual(new Map([[key, 'mine']]));
    expect(await b.ledger.claim([key], 10_000)).toEqual(new Map([[key, 'busy']]));
    await a.ledger.release([key]);
    expect(await b.ledger.claim([key], 10_000)).toEqual(new Map([[key, 'mine']]));
    await b.ledger.record([key]);
    expect(await a.ledger.claim([key], 10_000)).toEqual(new Map([[key, 'done']]));
    expect(await a.ledger.seen([key, 't/1/6|#z'])).toEqual(new Set([key]));
  });

  it("a digest's message is remembered for the replica that reads its records again", async () => {
    const a = open('heads');
    const b = open('heads');
    await waitUntil('both connected', async () => (a.connected() && b.connected() ? true : undefined));
    const keys = ['t/2/1|#z', 't/2/2|#z'];
    expect(await b.ledger.heads?.(keys)).toEqual(new Map());
    await a.ledger.markHead?.(keys, '1700000000.000100');
    expect(await b.ledger.heads?.([...keys, 't/2/3|#z'])).toEqual(
      new Map(keys.map((k) => [k, '1700000000.000100'])),
    );
  });

  it("the ledger's reach per partition only rises, for every replica", async () => {
    const a = open('reach');
    const b = open('reach');
    await waitUntil('both connected', async () => (a.connected() && b.connected() ? true : undefined));
    expect(await b.ledger.reach?.(['t.x/0', 't.x/1'])).toEqual(new Map());
    await a.ledger.record(['t.x/0/7|#a', 't.x/0/12|#b', 't.x/1/3|#a']);
    await b.ledger.record(['t.x/0/9|#a']);
    expect(await b.ledger.reach?.(['t.x/0', 't.x/1', 't.x/2'])).toEqual(
      new Map([
        ['t.x/0', 12n],
        ['t.x/1', 3n],
      ]),
    );
  });

  it('a store that goes away: the fallback gate paces on the local share, then returns to the shared one', async () => {
    const store = open('fallback');
    await waitUntil('connected', async () => (store.connected() ? true : undefined));
    const switches: boolean[] = [];
    let fellBackAt = 0;
    const gate = createFallbackPaceGate({
      shared: store.pace,
      clock: systemClock,
      replicas: 2,
      logger: noopLogger,
      metrics: noopMetrics,
      onFallback: (active) => {
        switches.push(active);
        if (active) fellBackAt = Date.now();
      },
    });
    const bucket: PaceBucket = { key: 'channel:#w', cap: 1, intervalMs: 100, burst: 1 };
    await redis.stop();
    const started = Date.now();
    const during = await callAsFastAsAllowed(gate, bucket, 1500);
    const ended = Date.now();
    expect(ended - started).toBeLessThan(3000); // no call hung on the dead store
    expect(switches).toEqual([true]);
    // The local share: 1 per 200 ms (10/s shared by 2 replicas), counted from the moment the gate fell
    // back (the first call waits up to the store's command timeout before it does, longer on a loaded
    // machine): never faster, and not stalled either.
    const allowed = (ended - fellBackAt) / 200;
    // At least one call, however late the fallback came: a gate that let none through would have hung.
    expect(during.length).toBeGreaterThanOrEqual(Math.max(1, Math.floor(allowed) - 1));
    expect(during.length).toBeLessThanOrEqual(Math.ceil(allowed) + 1);
    expect(paceViolation(during, { cap: 1, intervalMs: 199, burst: 1 })).toBeNull();
    await redis.start();
    await waitUntil('the client to reconnect', async () => (store.connected() ? true : undefined), {
      timeoutMs: 10_000,
    });
    await gate.acquire([bucket]);
    expect(switches).toEqual([true, false]);
  });
  describe('mutes', () => {
    /** The mutes of a store of `prefix`, once connected. */
    const mutesOf = async (prefix: string, ids?: () => string) => {
      const store = open(prefix, ids);
      expect(await store.whenReady(5000)).toBe(true);
      return store.mutes;
    };
    const mute = (untilMs: number): Mute => ({
      scope: 'listing',
      listingId: '42',
      by: 'ana',
      until: untilMs,
    });

    it('a mute one client adds, another lists and removes; other prefixes never see it', async () => {
      const [a, b, other] = [await mutesOf('m1'), await mutesOf('m1'), await mutesOf('m2')];
      const until = Date.now() + 3_600_000;
      const id = await a.add({ ...mute(until), channel: '#sales', reason: 'bulk import' });
      expect(await b.list(Date.now())).toEqual([
        { ...mute(until), channel: '#sales', reason: 'bulk import', id },
      ]);
      expect(await other.list(Date.now())).toEqual([]);
      // Listed only while in force by the caller's clock too.
      expect(await b.list(until)).toEqual([]);
      expect(await b.remove(id)).toBe(true);
      expect(await a.remove(id)).toBe(false);
      expect(await a.list(Date.now())).toEqual([]);
    });

    it('Redis expires a mute at its end, without anyone removing it', async () => {
      const a = await mutesOf('m3');
      const id = await a.add(mute(Date.now() + 300));
      expect((await a.list(0)).map((m) => m.id)).toEqual([id]);
      // list(0) filters nothing by time: an empty answer means the key itself is gone.
      await waitUntil(
        'the mute to expire in Redis',
        async () => ((await a.list(0)).length === 0 ? true : undefined),
        {
          timeoutMs: 5000,
          intervalMs: 50,
        },
      );
      expect(await a.remove(id)).toBe(false);
    });

    it('an id another client took is drawn again, not overwritten', async () => {
      const drawn = ['same', 'same', 'other'];
      const next = (): string => drawn.shift() ?? 'last';
      const [a, b] = [await mutesOf('m4', next), await mutesOf('m4', next)];
      const until = Date.now() + 3_600_000;
      expect(await a.add(mute(until))).toBe('same');
      expect(await b.add({ ...mute(until), by: 'bo' })).toBe('other');
      const byId = Object.fromEntries((await a.list(Date.now())).map((m) => [m.id, m.by]));
      expect(byId).toEqual({ same: 'ana', other: 'bo' });
    });
  });
});
