/**
 * Flood control on the real stack (Postgres -> Debezium -> Kafka -> the service -> the Slack stand-in),
 * with a smaller bulk and a faster pace than Slack's (5 messages/s per channel, a 2 s budget: 10
 * messages pending at most): an urgent change behind a bulk arrives before the bulk is conveyed; the
 * overflow arrives as one digest whose CSV names every changed listing; repeated changes of one listing
 * are conveyed once, as the net change; no channel meets a 429; the group's offset passes the bulk.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { endOffsets } from '../../support/stack.ts';
import {
  committedOffsets,
  conveyedListings,
  type InProcessService,
  LISTINGS_TOPIC,
  listingIdOf,
  type Scenario,
  type SlackStandin,
  startScenario,
  waitUntil,
} from './harness.ts';

const standinPace = { perSecond: 5, burst: 3 };
// Our pace equals the stand-in's sustained pace with no burst of our own: 0 429s is a target here.
const servicePace = { perSecond: 5, burst: 1 };
const BULK = Array.from({ length: 300 }, (_, i) => 816_000 + i);
const UNPUBLISHED = 816_500;
const REPEATED = 816_600;
const BUSY = Array.from({ length: 20 }, (_, i) => 816_610 + i);

describe('service: flood control on the real stack', () => {
  const stack = inject('stack');
  let scenario: Scenario | undefined;
  let db: pg.Client;
  let standin: SlackStandin;
  let running: InProcessService;

  beforeAll(async () => {
    scenario = await startScenario(stack, {
      name: 'flood',
      listings: [
        ...BULK.map((id) => ({ id, price: '100.00' })),
        { id: UNPUBLISHED, status: 'A' as const },
        { id: REPEATED, price: '120.00' },
        ...BUSY.map((id) => ({ id, price: '100.00' })),
      ],
      standin: { pace: standinPace },
      config: {
        pace: servicePace,
        flood: { enabled: true, budgetMs: 2000, digestWindowMs: 3000 },
      },
    });
    ({ db, standin, running } = scenario);
  });

  afterAll(() => scenario?.close());

  it('an urgent change behind a bulk arrives first; the bulk arrives as messages and one digest naming every listing', async () => {
    await db.query('UPDATE public.listings SET prc_amt = 85.00 WHERE lst_id = ANY($1::bigint[])', [BULK]);
    await db.query(`UPDATE public.listings SET "LST_STAT_CD" = 'U' WHERE lst_id = $1`, [UNPUBLISHED]);

    const wanted = new Set(BULK);
    const conveyed = () => conveyedListings(standin, 'sales-alerts');
    await waitUntil(
      'every changed listing conveyed in #sales-alerts (message, digest line or CSV row)',
      async () => ([...wanted].every((id) => conveyed().has(id)) ? true : undefined),
      { timeoutMs: 90_000, intervalMs: 100 },
    );
    const urgent = await waitUntil('the unpublish in #support-heads-up', async () =>
      standin.messages('support-heads-up').find((m) => listingIdOf(m) === UNPUBLISHED),
    );

    const top = standin.messages('sales-alerts').filter((m) => m.threadTs === undefined);
    const digests = top.filter((m) => listingIdOf(m) === undefined);
    expect(digests.length).toBeGreaterThanOrEqual(1);
    // The budget: 10 pending at most, one of them the digest; a second window may open while the bulk streams.
    expect(top.length).toBeLessThanOrEqual(11);
    const lastDigestAt = Math.max(...digests.map((d) => d.receivedAt));
    expect(urgent.receivedAt).toBeLessThan(lastDigestAt);

    // Every listing exactly once (a CSV row or its own message), with its price move.
    const byId = conveyed();
    for (const id of BULK) expect(byId.get(id), `listing ${id}`).toHaveLength(1);
    const csvRow = [...byId.values()].flat().find((c) => c.how === 'csv');
    expect(csvRow?.text).toContain('100.00');
    expect(csvRow?.text).toContain('85.00');

    const stats = standin.stats();
    expect(stats.rateLimited.total).toBe(0);
    expect(stats.paceViolations['sales-alerts']).toBeNull();
    // A reply to a wrong thread_ts succeeds silently in Slack and shows nowhere: none may be lost.
    expect(stats.lostReplies).toBe(0);

    // Folded records commit once their digest was delivered: the group passes the bulk.
    const ends = await endOffsets(stack, LISTINGS_TOPIC);
    await waitUntil('the committed offset to pass the bulk', async () => {
      const committed = await committedOffsets(stack, scenario?.groupId ?? '');
      return ends.every((e) => {
        const c = committed.find((p) => p.partition === e.partition);
        return c !== undefined && BigInt(c.offset) >= BigInt(e.offset);
      })
        ? true
        : undefined;
    });
    console.log(
      `[flood] ${BULK.length} changes: ${top.length} top-level messages in #sales-alerts ` +
        `(${digests.length} digest(s)); unpublish ${urgent.receivedAt - lastDigestAt} ms before the last digest; ` +
        `429s: ${stats.rateLimited.total}; folded: ${running.service.status().folded} still waiting`,
    );
  });

  it('coalesces repeated changes of one listing into one line with the net change', async () => {
    // Keep the channel busy so the repeated changes wait, then change one listing three times.
    await db.query('UPDATE public.listings SET prc_amt = 80.00 WHERE lst_id = ANY($1::bigint[])', [BUSY]);
    for (const price of ['110.00', '100.00', '96.00']) {
      await db.query('UPDATE public.listings SET prc_amt = $2 WHERE lst_id = $1', [REPEATED, price]);
    }
    const seen = await waitUntil(
      'the repeated listing conveyed',
      async () => {
        const all = conveyedListings(standin, 'sales-alerts');
        return BUSY.every((id) => all.has(id)) && all.has(REPEATED) ? all.get(REPEATED) : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    expect(seen).toHaveLength(1);
    expect(seen[0]?.text).toContain('120.00');
    expect(seen[0]?.text).toContain('96.00');
    expect(seen[0]?.text).not.toContain('110.00');
  });
});
