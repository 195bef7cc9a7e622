/**
 * Issue 17, item 1 on the real stack: with `delivery.updates.channels: [inventory-warnings]`, a stock
 * "low" message is edited when the listing recovers (one message in the channel, its earlier version
 * kept in the stand-in's edit history, "Stock is low" struck through in the edit), and the record of
 * the recovery is committed only once the edit was applied. #sales-alerts, not listed, still gets a
 * message per price change. The references live in Redis (the store several replicas share).
 *
 * Listing ids 826001-826002 belong to this file.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { messagesFor, type Scenario, startScenario, waitUntil } from './harness.ts';

const STOCKED = 826_001;
const PRICED = 826_002;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('service: update in place', () => {
  const stack = inject('stack');
  let scenario: Scenario | undefined;

  beforeAll(async () => {
    scenario = await startScenario(stack, {
      name: 'update-in-place',
      listings: [STOCKED, PRICED].map((id) => ({ id, price: '100.00', status: 'A' as const, stock: 50 })),
      standin: { pace: { perSecond: 5, burst: 5 } },
      config: {
        pace: { perSecond: 5, burst: 5 },
        store: { url: REDIS_URL, keyPrefix: `ln-e2e-edit-${randomUUID().slice(0, 8)}` },
        updates: { channels: ['inventory-warnings'] },
      },
    });
  });

  afterAll(async () => {
    await scenario?.close();
  });

  it('edits the stock "low" message when the listing recovers, and posts anew where not asked to', async () => {
    if (scenario === undefined) throw new Error('setup failed');
    const { db, standin, running } = scenario;
    const finished = (id: number) =>
      running.logs().filter((l) => l.msg === 'record finished' && String(l.listingId) === String(id));
    const update = async (id: number, set: string, value: unknown) => {
      const before = finished(id).length;
      await db.query(`UPDATE public.listings SET ${set} = $2 WHERE lst_id = $1`, [id, value]);
      return waitUntil(`the change of ${id} finished`, async () => finished(id)[before]);
    };
    const inventory = () => messagesFor(standin, STOCKED, 'inventory-warnings');

    expect(await update(STOCKED, 'prod_stk_qty', 3)).toMatchObject({ outcome: 'notify' });
    const low = await waitUntil('the low message', async () => inventory()[0]);
    expect(JSON.stringify(low.blocks)).toContain('Stock is low');

    // Finished means delivered: the edit is applied by the time the record finishes.
    expect(await update(STOCKED, 'prod_stk_qty', 20)).toMatchObject({ outcome: 'notify' });
    const [edited, ...others] = inventory();
    expect(others).toHaveLength(0);
    expect(edited?.ts).toBe(low.ts);
    expect(edited?.history?.map((v) => v.text)).toEqual([low.text]);
    const now = JSON.stringify(edited?.blocks);
    expect(now).toMatch(/recovered/i);
    expect(now).toMatch(/~Stock is low[^~]*~ · just before/);
    expect(standin.stats().edits['inventory-warnings']).toBe(1);

    // Not listed: a new message per change.
    await update(PRICED, 'prc_amt', '90.00');
    await update(PRICED, 'prc_amt', '80.00');
    await waitUntil('two price messages', async () =>
      messagesFor(standin, PRICED, 'sales-alerts').length === 2 ? true : undefined,
    );
    expect(messagesFor(standin, PRICED, 'sales-alerts').every((m) => m.history === undefined)).toBe(true);
    expect(standin.stats().rateLimited.total).toBe(0);
  });
});
