/**
 * Issue 17, item 3 on the real stack: a rule's per-listing throttle (`throttle: { perListing: 3 }`)
 * folds a flapping listing. Its price changes eight times: the first three are messages of their own,
 * the other five go into the channel's digest (its CSV, as their net change), each change is conveyed
 * once, their records' lines say they were throttled, and another listing changed meanwhile still gets
 * a message of its own. The count is per process: Debezium keys each change by the primary key, so a
 * listing's changes are on one partition and reach one replica.
 *
 * Listing ids 825001-825099 belong to this file.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { conveyedListings, messagesFor, type Scenario, startScenario, waitUntil } from './harness.ts';

const FLAPPING = 825_001;
const OTHER = 825_002;
const CHANNEL = 'sales-alerts';
const CHANGES = 8;
const PER_LISTING = 3;

describe('service: per-listing throttle', () => {
  const stack = inject('stack');
  let scenario: Scenario | undefined;

  beforeAll(async () => {
    scenario = await startScenario(stack, {
      name: 'throttle',
      listings: [FLAPPING, OTHER].map((id) => ({ id, price: '100.00', status: 'A' as const, stock: 50 })),
      standin: { pace: { perSecond: 5, burst: 5 } },
      config: {
        pace: { perSecond: 5, burst: 5 },
        // Flood control on with its defaults: a digest a throttled listing opens collects for
        // digestWindowMs (30 s) and then goes out with the changes it holds.
        flood: { enabled: true },
        rules: [
          {
            name: 'price moved',
            match: { field: 'price' },
            channels: [CHANNEL],
            throttle: { perListing: PER_LISTING, windowMs: 3_600_000 },
          },
        ],
      },
    });
  });

  afterAll(() => scenario?.close());

  it('gives a flapping listing three messages and conveys the rest once, in the digest', async () => {
    if (scenario === undefined) throw new Error('setup failed');
    const { db, standin, running } = scenario;
    const finished = (id: number) =>
      running.logs().filter((l) => l.msg === 'record finished' && String(l.listingId) === String(id));
    const prices: string[] = [];
    let price = 100;
    const update = async (id: number): Promise<string> => {
      price = Math.round(price * 95) / 100;
      const text = price.toFixed(2);
      await db.query('UPDATE public.listings SET prc_amt = $2 WHERE lst_id = $1', [id, text]);
      return text;
    };

    // The first three, one after the other: each is sent (its record finished) before the next
    // change is made, so none coalesces into a queued one.
    for (let i = 0; i < PER_LISTING; i += 1) {
      prices.push(await update(FLAPPING));
      await waitUntil(`change ${i + 1} of the flapping listing delivered`, async () =>
        finished(FLAPPING).length > i ? true : undefined,
      );
    }
    expect(messagesFor(standin, FLAPPING, CHANNEL)).toHaveLength(PER_LISTING);

    // Past the throttle: the rest go into one digest, which goes out at the end of its window.
    for (let i = PER_LISTING; i < CHANGES; i += 1) prices.push(await update(FLAPPING));
    // Another listing meanwhile, while the digest is open: a message of its own all the same.
    const otherPrice = (Math.round(100 * 90) / 100).toFixed(2);
    await db.query('UPDATE public.listings SET prc_amt = $2 WHERE lst_id = $1', [OTHER, otherPrice]);
    await waitUntil('the other listing delivered as a message of its own', async () =>
      messagesFor(standin, OTHER, CHANNEL).length > 0 ? true : undefined,
    );

    const lines = await waitUntil(
      'every change of the flapping listing finished',
      async () => (finished(FLAPPING).length >= CHANGES ? finished(FLAPPING) : undefined),
      { timeoutMs: 120_000 },
    );
    expect(lines).toHaveLength(CHANGES);
    for (const line of lines) {
      expect(line).toMatchObject({ outcome: 'notify', channels: [expect.stringContaining(CHANNEL)] });
      expect(line).not.toHaveProperty('deadLettered');
    }
    expect(lines.slice(0, PER_LISTING).every((l) => l.throttled === undefined)).toBe(true);
    for (const line of lines.slice(PER_LISTING))
      expect(line).toMatchObject({ throttled: [expect.stringContaining(CHANNEL)] });

    // Conveyed once each: three messages, each naming its new price, then the digest's line(s) for the
    // rest, chained as net changes from the third price to the eighth.
    const conveyed = conveyedListings(standin, CHANNEL).get(FLAPPING) ?? [];
    const own = conveyed.filter((c) => c.how === 'message');
    const inDigest = conveyed.filter((c) => c.how === 'csv');
    expect(own).toHaveLength(PER_LISTING);
    prices.slice(0, PER_LISTING).forEach((p, i) => {
      expect(own[i]?.text).toContain(p);
    });
    expect(inDigest.length).toBeGreaterThanOrEqual(1);
    expect(inDigest.length).toBeLessThanOrEqual(CHANGES - PER_LISTING);
    expect(inDigest[0]?.text).toContain(prices[PER_LISTING - 1]);
    expect(inDigest.at(-1)?.text).toContain(prices[CHANGES - 1]);
    expect(conveyed.filter((c) => c.how === 'thread')).toEqual([]);
    expect(messagesFor(standin, FLAPPING, CHANNEL)).toHaveLength(PER_LISTING);
    expect(standin.stats().rateLimited.total).toBe(0);
  });
});
