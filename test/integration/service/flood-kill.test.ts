/**
 * kill -9 between folding and delivery: the service folds a bulk into a digest that is still
 * collecting when the process dies. Nothing is lost: the folded records were never committed, so the
 * restarted member reads them again and conveys every listing (a message of its own, or a row of the
 * new digest's CSV).
 *
 * The service runs as a child process (`listing-notifier run --config FILE`). The restarted member gets
 * the partition once the killed member's session times out (kafkajs's default 30 s).
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectPg } from '../../support/stack.ts';
import {
  type ChildService,
  conveyedListings,
  deleteListings,
  insertListings,
  metricSum,
  type SlackStandin,
  seedGroupAtEnd,
  startChild,
  startJoinedChild,
  startSlackStandin,
  testConfig,
  uniqueGroupId,
  waitUntil,
} from './harness.ts';

const IDS = Array.from({ length: 200 }, (_, i) => 818_000 + i);
const pace = { perSecond: 5, burst: 3 };
const servicePace = { perSecond: 5, burst: 1 };

describe('service: kill -9 between folding and delivery, then restart', () => {
  const stack = inject('stack');
  let db: pg.Client;
  let standin: SlackStandin;
  const children: ChildService[] = [];

  beforeAll(async () => {
    db = await connectPg(stack.databaseUrl);
    standin = await startSlackStandin({ pace });
    await insertListings(
      db,
      stack,
      IDS.map((id) => ({ id, price: '100.00' })),
    );
  });

  afterAll(async () => {
    for (const child of children) await child.cleanup();
    await standin?.close();
    await deleteListings(db, IDS);
    await db?.end();
  });

  it('loses nothing: the folded records are read again and conveyed', { timeout: 180_000 }, async () => {
    const groupId = uniqueGroupId('flood-kill');
    await seedGroupAtEnd(stack, groupId);
    const flood = { enabled: true, budgetMs: 2000 };
    // A digest window far longer than the test's wait, so the kill lands while the digest collects.
    const { child: first, url } = await startJoinedChild(
      testConfig(stack, standin, {
        groupId,
        pace: servicePace,
        flood: { ...flood, digestWindowMs: 120_000 },
      }),
      standin,
      children,
    );

    await db.query('UPDATE public.listings SET prc_amt = 75.00 WHERE lst_id = ANY($1::bigint[])', [IDS]);
    const foldedAtKill = await waitUntil(
      'most of the bulk folded into the digest',
      async () => {
        const n = await metricSum(url, 'listing_notifier_folded_total', 'kind="digest"');
        return n >= 150 ? n : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 50 },
    );
    first.child.kill('SIGKILL');
    await first.exited;
    const beforeRestart = conveyedListings(standin, 'sales-alerts');
    expect([...beforeRestart.values()].flat().some((c) => c.how === 'csv')).toBe(false);

    const second = await startChild(
      testConfig(stack, standin, { groupId, pace: servicePace, flood: { ...flood, digestWindowMs: 3000 } }),
      standin,
    );
    children.push(second);
    const all = await waitUntil(
      'every listing conveyed after the restart',
      async () => {
        const seen = conveyedListings(standin, 'sales-alerts');
        return IDS.every((id) => seen.has(id)) ? seen : undefined;
      },
      { timeoutMs: 150_000, intervalMs: 250 },
    );
    for (const id of IDS) {
      const lines = all.get(id) ?? [];
      expect(lines.length, `listing ${id}`).toBeGreaterThanOrEqual(1);
      expect(lines.every((c) => c.text.includes('75.00'))).toBe(true);
    }
    const duplicates = [...all.values()].reduce((n, c) => n + c.length - 1, 0);
    // Only the messages sent before the kill can come again (at most the budget's worth).
    expect(duplicates).toBeLessThanOrEqual(10);
    console.log(
      `[flood kill -9] ${IDS.length} changed; ${foldedAtKill} folded into the digest at the kill, ` +
        `${beforeRestart.size} conveyed before it; all ${IDS.length} conveyed after the restart; ${duplicates} duplicate(s)`,
    );
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });
});
