/**
 * Issue 17, item 2 on the real stack: a mute in the shared store (as `listing-notifier mute add` or
 * Slack's "Mute this listing" writes it) stops a listing's messages, every other listing's still
 * arrive, the drop names who muted it until when, and the listing is heard again once the mute is
 * removed or has ended by itself. The service (in process) uses Redis with a key prefix of its own;
 * the test writes the mutes through the same store adapter, as another replica would.
 *
 * Listing ids 823001-823003 belong to this file.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createRedisStore, type RedisStore } from '../../../src/adapters/redis-store.ts';
import { noopLogger } from '../../../src/ports/index.ts';
import { messagesFor, type Scenario, startScenario, waitUntil } from './harness.ts';

const MUTED = 823_001;
const OTHER = 823_002;
const BRIEF = 823_003;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('service: mutes in the shared store', () => {
  const stack = inject('stack');
  const keyPrefix = `ln-e2e-mutes-${randomUUID().slice(0, 8)}`;
  let scenario: Scenario | undefined;
  let store: RedisStore | undefined;

  beforeAll(async () => {
    scenario = await startScenario(stack, {
      name: 'mutes',
      listings: [MUTED, OTHER, BRIEF].map((id) => ({ id, price: '100.00', status: 'A' as const, stock: 50 })),
      standin: { pace: { perSecond: 5, burst: 5 } },
      config: { pace: { perSecond: 5, burst: 5 }, store: { url: REDIS_URL, keyPrefix } },
    });
    store = createRedisStore({ url: REDIS_URL, keyPrefix, ledgerRetentionMs: 60_000, logger: noopLogger });
    if (!(await store.whenReady(5000))) throw new Error(`Redis at ${REDIS_URL} did not answer`);
  });

  afterAll(async () => {
    await scenario?.close();
    await store?.close();
  });

  it('drops a muted listing with the reason, lets the others through, and hears it again when the mute ends', async () => {
    if (scenario === undefined || store === undefined) throw new Error('setup failed');
    const { mutes } = store;
    const { db, standin, running } = scenario;
    const finished = (id: number) =>
      running.logs().filter((l) => l.msg === 'record finished' && String(l.listingId) === String(id));
    const prices = new Map<number, number>([
      [MUTED, 100],
      [OTHER, 100],
      [BRIEF, 100],
    ]);
    /** Cuts the listing's price by 5 % and resolves the service's decision of that change. */
    const change = async (id: number) => {
      const before = finished(id).length;
      const price = Math.round((prices.get(id) ?? 100) * 95) / 100;
      prices.set(id, price);
      await db.query('UPDATE public.listings SET prc_amt = $2 WHERE lst_id = $1', [id, price.toFixed(2)]);
      return waitUntil(`the change of ${id} to ${price} decided`, async () => finished(id)[before]);
    };
    const muted = (line: Record<string, unknown>) => String(line.reason).startsWith('muted:');

    const id = await mutes.add({
      scope: 'listing',
      listingId: String(MUTED),
      by: 'ana',
      until: Date.now() + 3_600_000,
    });
    // Every replica reads the mutes again at most 2 s after they change (mute-watch.ts): change the
    // listing until a change is dropped as muted (the changes before it are delivered).
    const first = await waitUntil('a change of the muted listing dropped as muted', async () => {
      const line = await change(MUTED);
      return muted(line) ? line : undefined;
    });
    expect(first).toMatchObject({
      outcome: 'dropped',
      reason: expect.stringMatching(/^muted: by @ana until 20\d\d-/),
    });
    const heardBefore = messagesFor(standin, MUTED).length;

    // Another listing is delivered; the muted one, changed again, is dropped again.
    expect((await change(OTHER)).outcome).toBe('notify');
    await waitUntil('the other listing delivered', async () =>
      messagesFor(standin, OTHER).length > 0 ? true : undefined,
    );
    expect(muted(await change(MUTED))).toBe(true);

    // Removed: heard again (within the 2 s the snapshot may lag).
    expect(await mutes.remove(id)).toBe(true);
    await waitUntil('the listing heard again after the mute was removed', async () =>
      (await change(MUTED)).outcome === 'notify' ? true : undefined,
    );
    await waitUntil('its message delivered', async () =>
      messagesFor(standin, MUTED).length > heardBefore ? true : undefined,
    );

    // A mute that ends by itself: dropped while it lasts, heard after its end.
    const briefUntil = Date.now() + 6000;
    await mutes.add({ scope: 'listing', listingId: String(BRIEF), by: 'bo', until: briefUntil });
    await waitUntil('a change of the briefly muted listing dropped as muted', async () =>
      String((await change(BRIEF)).reason).startsWith('muted: by @bo') ? true : undefined,
    );
    await waitUntil('the brief mute to end', async () => (Date.now() > briefUntil ? true : undefined));
    expect((await change(BRIEF)).outcome).toBe('notify');
    expect(standin.stats().rateLimited.total).toBe(0);
  });
});
