/**
 * End to end through the real stack (Postgres -> Debezium -> Kafka -> the service -> the Slack
 * stand-in): an UPDATE becomes the right message in the right channel(s); noise becomes none.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  type InProcessService,
  messagesFor,
  type Scenario,
  type SlackStandin,
  startScenario,
  waitUntil,
} from './harness.ts';

const PRICE = 810_001;
const UNPUBLISH = 810_002;
const NOISE = 810_003;
const SENTINEL = 810_004;
const ids = [PRICE, UNPUBLISH, NOISE, SENTINEL];

describe('service: an UPDATE becomes the right message in the right channels', () => {
  const stack = inject('stack');
  let scenario: Scenario | undefined;
  let db: pg.Client;
  let standin: SlackStandin;
  let running: InProcessService;

  beforeAll(async () => {
    scenario = await startScenario(stack, {
      name: 'routing',
      listings: ids.map((id) => ({
        id,
        price: '100.00',
        status: 'A' as const,
        stock: 50,
        // Listing data is untrusted: this title tries to ping the whole channel and forge a link.
        ...(id === PRICE ? { title: '<!channel> Oak desk <https://evil.example|click> & co' } : {}),
      })),
      standin: { pace: { perSecond: 1, burst: 3 } },
      config: { pace: { perSecond: 1, burst: 3 } },
    });
    ({ db, standin, running } = scenario);
  });

  afterAll(() => scenario?.close());

  it('routes a price cut, an unpublish and noise, with Slack-safe text, and never logs the token', async () => {
    await db.query('UPDATE public.listings SET prc_amt = 79.90 WHERE lst_id = $1', [PRICE]);
    await db.query(`UPDATE public.listings SET "LST_STAT_CD" = 'U' WHERE lst_id = $1`, [UNPUBLISH]);
    // Noise: internal bookkeeping columns and a sub-threshold price wobble (0.5 % < minPercent 1).
    await db.query(
      'UPDATE public.listings SET sync_flg = true, audit_usr_id = 42, etl_batch_id = 7 WHERE lst_id = $1',
      [NOISE],
    );
    await db.query('UPDATE public.listings SET prc_amt = 100.50 WHERE lst_id = $1', [NOISE]);
    await db.query('UPDATE public.listings SET prc_amt = 50.00 WHERE lst_id = $1', [SENTINEL]);

    await waitUntil('the sentinel price message', async () =>
      messagesFor(standin, SENTINEL).length > 0 ? true : undefined,
    );
    // The topic has several partitions (keyed by listing id): the noise may sit on another partition than
    // the sentinel, so wait for its own two decisions rather than for the sentinel.
    await waitUntil('both noise updates decided', async () =>
      running.logs().filter((l) => l.msg === 'record finished' && String(l.listingId) === String(NOISE))
        .length >= 2
        ? true
        : undefined,
    );
    await waitUntil('the unpublish messages', async () =>
      messagesFor(standin, UNPUBLISH).length >= 2 ? true : undefined,
    );

    const price = messagesFor(standin, PRICE);
    expect(price.map((m) => m.channelName)).toEqual(['sales-alerts']);
    expect(price[0]?.text).toContain('79.90');
    // mrkdwn (the fallback text and mrkdwn blocks) is where Slack would act on <!channel> or <url|label>;
    // plain_text headers are shown as they are.
    const mrkdwn = [price[0]?.text ?? '', ...mrkdwnTexts(price[0]?.blocks)].join('\n');
    expect(mrkdwn).not.toContain('<!channel>');
    expect(mrkdwn).not.toContain('<https://evil.example');
    expect(price[0]?.text).toContain('&lt;!channel&gt;');

    const unpublished = messagesFor(standin, UNPUBLISH);
    expect(unpublished.map((m) => m.channelName).sort()).toEqual(['marketing-updates', 'support-heads-up']);

    expect(messagesFor(standin, NOISE)).toEqual([]);
    expect(standin.stats().rateLimited.total).toBe(0);

    const outcomes = running
      .logs()
      .filter((l) => l.msg === 'record finished' && ids.map(String).includes(String(l.listingId)));
    expect(outcomes.filter((l) => String(l.listingId) === String(NOISE)).map((l) => l.outcome)).toEqual([
      'dropped',
      'dropped',
    ]);
    for (const line of outcomes) {
      expect(line).toMatchObject({ topic: 'monolith.public.listings', partition: expect.any(Number) });
      expect(typeof line.offset).toBe('string');
    }
    expect(running.logLines.join('\n')).not.toContain(standin.token);
  });

  it('serves /metrics with outcomes, latency and lag, and /readyz while consuming', async () => {
    const ready = await fetch(`${running.service.httpUrl}/readyz`);
    expect(ready.status).toBe(200);
    const text = await (await fetch(`${running.service.httpUrl}/metrics`)).text();
    expect(text).toMatch(/listing_notifier_records_total\{outcome="notify",reason="notify"\} \d+/);
    expect(text).toMatch(/listing_notifier_records_total\{outcome="dropped",reason="insignificant"\} \d+/);
    expect(text).toMatch(/listing_notifier_end_to_end_latency_seconds_count \d+/);
    expect(text).toMatch(/listing_notifier_slack_calls_total\{result="ok"\} \d+/);
    expect(text).toMatch(
      /listing_notifier_consumer_lag\{topic="monolith.public.listings",partition="\d+"\} \d+/,
    );
  });
});

/** Every `text` of a mrkdwn text object anywhere in the blocks. */
function mrkdwnTexts(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(mrkdwnTexts);
  if (value === null || typeof value !== 'object') return [];
  const object = value as Record<string, unknown>;
  const own = object.type === 'mrkdwn' && typeof object.text === 'string' ? [object.text] : [];
  return [...own, ...Object.values(object).flatMap(mrkdwnTexts)];
}
