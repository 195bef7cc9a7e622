/**
 * A burst of 1,000 updates in one transaction: every expected message arrives exactly once, no channel
 * goes above the stand-in's pace, every 429 is followed by a successful retry (nothing missing, nothing
 * dead-lettered), and the bounds on in-flight records and channel queues hold (fetching pauses).
 *
 * The pace is raised to 50 per second per channel on both sides, to finish in seconds; the service is
 * configured with the stand-in's pace, never the stand-in with the service's.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { keyListingId, type TopicReader } from '../../support/stack.ts';
import {
  type InProcessService,
  listingIdOf,
  type Scenario,
  type SlackStandin,
  startScenario,
  waitUntil,
} from './harness.ts';

const pace = { perSecond: 50, burst: 5 };
/**
 * The service runs at the stand-in's sustained pace but keeps two calls of its burst allowance in
 * reserve: sending at the very edge of the bucket, network jitter alone makes some calls arrive a few ms
 * early by the stand-in's clock, and each such 429 costs the channel a whole second (Retry-After: 1).
 */
const servicePace = { perSecond: 50, burst: 3 };
const PRICE_IDS = Array.from({ length: 100 }, (_, i) => 811_000 + i);
const STOCK_IDS = Array.from({ length: 100 }, (_, i) => 811_100 + i);
const ROUNDS = 5;
const maxInFlightRecords = 100;

describe('service: a burst of 1,000 updates in one transaction', () => {
  const stack = inject('stack');
  let scenario: Scenario | undefined;
  let db: pg.Client;
  let standin: SlackStandin;
  let running: InProcessService;
  let dlq: TopicReader;

  beforeAll(async () => {
    scenario = await startScenario(stack, {
      name: 'burst',
      listings: [
        ...PRICE_IDS.map((id) => ({ id, price: '100.00' })),
        ...STOCK_IDS.map((id) => ({ id, stock: 50 })),
      ],
      standin: { pace },
      config: { pace: servicePace, maxInFlightRecords, maxQueuedPerChannel: 50 },
    });
    ({ db, standin, running, dlq } = scenario);
  });

  afterAll(() => scenario?.close());

  it('delivers every message once, within the pace, with nothing dead-lettered and bounded memory', async () => {
    await db.query('BEGIN');
    for (let round = 0; round < ROUNDS; round += 1) {
      // Price: 100.00 <-> 90.00, each a 10 % move (> minPercent 1) -> #sales-alerts.
      await db.query('UPDATE public.listings SET prc_amt = $2 WHERE lst_id = ANY($1::bigint[])', [
        PRICE_IDS,
        round % 2 === 0 ? '90.00' : '100.00',
      ]);
      // Stock: 50 -> 2 (low, below 5) -> 50 (recovered, >= 5 + 3) ... -> #inventory-warnings.
      await db.query('UPDATE public.listings SET prod_stk_qty = $2 WHERE lst_id = ANY($1::bigint[])', [
        STOCK_IDS,
        round % 2 === 0 ? 2 : 50,
      ]);
    }
    await db.query('COMMIT');
    const started = performance.now();

    const ours = new Set([...PRICE_IDS, ...STOCK_IDS]);
    const delivered = () => standin.messages().filter((m) => ours.has(listingIdOf(m) ?? -1));
    let maxInFlight = 0;
    let sawPaused = false;
    await waitUntil(
      '1,000 messages at the stand-in',
      async () => {
        const status = running.service.status();
        maxInFlight = Math.max(maxInFlight, status.inFlight);
        sawPaused ||= status.paused.length > 0;
        return delivered().length >= 1000 ? true : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 50 },
    );
    const seconds = (performance.now() - started) / 1000;

    const messages = delivered();
    expect(messages).toHaveLength(1000);
    const perListing = new Map<number, string[]>();
    for (const m of messages) {
      const id = listingIdOf(m) ?? -1;
      perListing.set(id, [...(perListing.get(id) ?? []), m.channelName]);
    }
    for (const id of PRICE_IDS) expect(perListing.get(id)).toEqual(Array(ROUNDS).fill('sales-alerts'));
    for (const id of STOCK_IDS) expect(perListing.get(id)).toEqual(Array(ROUNDS).fill('inventory-warnings'));

    const stats = standin.stats();
    for (const channel of ['sales-alerts', 'inventory-warnings']) {
      // The stand-in's own check: no accepted message outran its token bucket...
      expect(stats.paceViolations[channel]).toBeNull();
      // ...so no 1 s window holds more than the sustained pace plus what the burst allows.
      expect(stats.maxPerSecond[channel]).toBeLessThanOrEqual(pace.perSecond + pace.burst - 1);
    }

    // Every 429 was followed by a successful retry: all arrived, none was dead-lettered.
    const deadLettered = dlq.received().filter((r) => ours.has(Number(keyListingId(r))));
    expect(deadLettered).toEqual([]);
    expect(running.logs().filter((l) => l.outcome === 'dead-letter' || l.deadLettered !== undefined)).toEqual(
      [],
    );

    // Backpressure: in-flight records stayed bounded and fetching paused to hold them there.
    expect(maxInFlight).toBeLessThanOrEqual(maxInFlightRecords);
    expect(sawPaused).toBe(true);

    console.log(
      `[burst] 1000 messages in ${seconds.toFixed(1)} s; stand-in 429s: ${stats.rateLimited.total}; ` +
        `max/s: ${JSON.stringify(stats.maxPerSecond)}; max in flight: ${maxInFlight}`,
    );
  });
});
