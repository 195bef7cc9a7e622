/**
 * The Redis mute store (src/adapters/redis-mutes.ts) against a real redis-server: a mute added by one
 * client (a replica, or the `mute` command) is listed by another, removed by either, kept apart by key
 * prefix, and expired by Redis itself at its end.
 *
 * A redis-server of this test's own on a free port above 20000 (the machine's 6379 is never stopped).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisMuteStore, type RedisMuteStore } from '../../src/adapters/redis-mutes.ts';
import type { Mute } from '../../src/domain/mute.ts';
import { noopLogger } from '../../src/ports/index.ts';
import { type OwnRedis, ownRedis } from '../support/redis.ts';
import { waitUntil } from '../support/stack.ts';

describe('Redis mute store', () => {
  let dir: string;
  let redis: OwnRedis;
  const stores: RedisMuteStore[] = [];
  const open = async (prefix: string, ids?: () => string): Promise<RedisMuteStore> => {
    const store = createRedisMuteStore({
      url: `redis://127.0.0.1:${redis.port}`,
      keyPrefix: prefix,
      ...(ids === undefined ? {} : { ids }),
      commandTimeoutMs: 500,
      logger: noopLogger,
    });
    stores.push(store);
    expect(await store.whenReady(5000)).toBe(true);
    return store;
  };
  const mute = (untilMs: number): Mute => ({ scope: 'listing', listingId: '42', by: 'ana', until: untilMs });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ln-redis-mutes-'));
    redis = await ownRedis(dir);
    await redis.start();
  });

  afterAll(async () => {
    for (const s of stores) await s.close();
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('a mute one client adds, another lists and removes; other prefixes never see it', async () => {
    const [a, b, other] = [await open('m1'), await open('m1'), await open('m2')];
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
    const a = await open('m3');
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
    const [a, b] = [await open('m4', next), await open('m4', next)];
    const until = Date.now() + 3_600_000;
    expect(await a.add(mute(until))).toBe('same');
    expect(await b.add({ ...mute(until), by: 'bo' })).toBe('other');
    const byId = Object.fromEntries((await a.list(Date.now())).map((m) => [m.id, m.by]));
    expect(byId).toEqual({ same: 'ana', other: 'bo' });
  });
});
