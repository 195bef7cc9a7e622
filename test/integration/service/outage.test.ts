/**
 * Slack failing with HTTP 503 for 30 s, then recovering: nothing lost, nothing dead-lettered, nothing
 * sent twice, and no rebalance while deliveries wait (the consumer keeps its group membership).
 * This test takes the outage's 30 s and then some, on purpose.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { keyListingId, type TopicReader } from '../../support/stack.ts';
import {
  type InProcessService,
  messagesFor,
  type Scenario,
  type SlackStandin,
  startScenario,
  waitUntil,
} from './harness.ts';

const PRICE_IDS = [813_001, 813_002, 813_003, 813_004, 813_005, 813_006];
const UNPUBLISH_IDS = [813_011, 813_012];
const ALL = [...PRICE_IDS, ...UNPUBLISH_IDS];
const OUTAGE_MS = 30_000;

describe('service: Slack answering 503 for 30 s', () => {
  const stack = inject('stack');
  let scenario: Scenario | undefined;
  let db: pg.Client;
  let standin: SlackStandin;
  let running: InProcessService;
  let dlq: TopicReader;

  beforeAll(async () => {
    scenario = await startScenario(stack, {
      name: 'outage',
      listings: ALL.map((id) => ({ id, price: '100.00', status: 'A' as const })),
      standin: { pace: { perSecond: 1, burst: 3 } },
      config: {
        pace: { perSecond: 1, burst: 3 },
        retry: { minDelayMs: 250, maxDelayMs: 4000, factor: 2, jitter: 0.2 },
      },
    });
    ({ db, standin, running, dlq } = scenario);
  });

  afterAll(() => scenario?.close());

  it('loses nothing, dead-letters nothing and sends nothing twice', { timeout: 150_000 }, async () => {
    standin.fail({ mode: 'status', status: 503, forMs: OUTAGE_MS });
    const outageStarted = performance.now();
    await db.query('UPDATE public.listings SET prc_amt = 80.00 WHERE lst_id = ANY($1::bigint[])', [
      PRICE_IDS,
    ]);
    await db.query(`UPDATE public.listings SET "LST_STAT_CD" = 'U' WHERE lst_id = ANY($1::bigint[])`, [
      UNPUBLISH_IDS,
    ]);

    await waitUntil('the first 503s', async () => (standin.stats().calls > 3 ? true : undefined), {
      timeoutMs: 30_000,
    });
    expect(standin.messages()).toEqual([]);

    const expected = PRICE_IDS.length + 2 * UNPUBLISH_IDS.length;
    const ours = () => ALL.flatMap((id) => messagesFor(standin, id));
    await waitUntil(
      'every message after the outage',
      async () => (ours().length >= expected ? true : undefined),
      {
        timeoutMs: 120_000,
        intervalMs: 500,
      },
    );
    const recoveredAfterMs = performance.now() - outageStarted;
    expect(recoveredAfterMs).toBeGreaterThanOrEqual(OUTAGE_MS - 1000);

    for (const id of PRICE_IDS)
      expect(messagesFor(standin, id).map((m) => m.channelName)).toEqual(['sales-alerts']);
    for (const id of UNPUBLISH_IDS) {
      expect(
        messagesFor(standin, id)
          .map((m) => m.channelName)
          .sort(),
      ).toEqual(['marketing-updates', 'support-heads-up']);
    }
    expect(ours()).toHaveLength(expected);

    expect(dlq.received().filter((r) => ALL.includes(Number(keyListingId(r))))).toEqual([]);
    expect(running.logs().filter((l) => l.outcome === 'dead-letter' || l.deadLettered !== undefined)).toEqual(
      [],
    );
    // One join at startup and none since: waiting on Slack cost no rebalance.
    expect(running.logs().filter((l) => l.msg === 'joined the consumer group')).toHaveLength(1);

    const metrics = await (await fetch(`${running.service.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/listing_notifier_slack_calls_total\{result="http_503"\} [1-9]\d*/);
    console.log(
      `[outage] ${expected} messages delivered ${(recoveredAfterMs / 1000).toFixed(1)} s after a ${OUTAGE_MS / 1000} s outage; ` +
        `stand-in calls: ${standin.stats().calls}`,
    );
  });
});
