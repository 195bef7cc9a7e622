/**
 * Issue 12, item 2, end to end on the real stack: one rule sends a price change to a Slack channel, a
 * Teams channel and a signed webhook (Postgres -> Debezium -> Kafka -> the service -> three stand-ins).
 * Each stand-in validates what it receives (Block Kit, the Adaptive Card's required properties and
 * size, the Standard Webhooks signature); the listing's title tries markup in each format.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseConfig } from '../../../src/config/index.ts';
import { startTeamsStandin, type TeamsStandin } from '../../../tools/teams-standin/server.ts';
import { startWebhookStandin, type WebhookStandin } from '../../../tools/webhook-standin/server.ts';
import { connectPg, keyListingId, type TopicReader } from '../../support/stack.ts';
import {
  deleteListings,
  type InProcessService,
  insertListings,
  LISTINGS_TOPIC,
  messagesFor,
  openDeadLetterReader,
  type SlackStandin,
  seedGroupAtEnd,
  startInProcess,
  startSlackStandin,
  uniqueGroupId,
  waitUntil,
} from './harness.ts';

const LISTING = 818_801;
const TITLE = '<!channel> **Oak** [click](https://evil.example) {{DATE(2026-01-01T00:00:00Z, SHORT)}} & co';
const SECRET = `whsec_${Buffer.from('integration secret, thirty-two b').toString('base64')}`;
const env = { LN_E2E_TEAMS_URL: '', LN_E2E_HOOK_URL: '', LN_E2E_HOOK_SECRET: SECRET };

describe('service: one rule fans out to Slack, Teams and a signed webhook', () => {
  const stack = inject('stack');
  let db: pg.Client;
  let slack: SlackStandin;
  let teams: TeamsStandin;
  let hook: WebhookStandin;
  let running: InProcessService | undefined;
  let dlq: TopicReader | undefined;

  beforeAll(async () => {
    db = await connectPg(stack.databaseUrl);
    slack = await startSlackStandin({});
    teams = await startTeamsStandin({ pace: { perSecond: 2, burst: 2 } });
    hook = await startWebhookStandin({ secret: SECRET, pace: { perSecond: 2, burst: 2 } });
    Object.assign(env, { LN_E2E_TEAMS_URL: teams.url, LN_E2E_HOOK_URL: hook.url });
    Object.assign(process.env, env);
    await insertListings(db, stack, [{ id: LISTING, title: TITLE, price: '100.00' }]);
    dlq = await openDeadLetterReader(stack);
    const groupId = uniqueGroupId('destinations');
    await seedGroupAtEnd(stack, groupId);
    // Written as a rules file would be, so the channel objects pass the schema like a user's do.
    const config = parseConfig(
      JSON.stringify({
        source: { brokers: stack.kafkaBrokers, topics: [LISTINGS_TOPIC], groupId, clientId: 'ln-e2e' },
        slack: { apiUrl: slack.apiUrl, tokenEnv: 'SLACK_BOT_TOKEN' },
        channels: {
          'sales-alerts': '#sales-alerts',
          'sales-teams': { type: 'teams', urlEnv: 'LN_E2E_TEAMS_URL' },
          'sales-hook': { type: 'webhook', urlEnv: 'LN_E2E_HOOK_URL', secretEnv: 'LN_E2E_HOOK_SECRET' },
        },
        rules: [
          {
            name: 'price moved',
            match: { field: 'price' },
            channels: ['sales-alerts', 'sales-teams', 'sales-hook'],
          },
        ],
        delivery: {
          perChannel: { intervalMs: 1000, cap: 5 },
          burst: 5,
          workspace: { intervalMs: 1000, cap: 1000 },
          retry: { minDelayMs: 200, maxDelayMs: 2000, factor: 2, jitter: 0.2 },
          flood: { enabled: false },
        },
        http: { host: '127.0.0.1', port: 0 },
      }),
      'destinations-e2e.json',
    );
    running = await startInProcess(config, slack);
    await waitUntil('the service to join its group', async () =>
      running?.service.readiness().ready ? true : undefined,
    );
  });

  afterAll(async () => {
    await running?.stop();
    await dlq?.close();
    for (const name of Object.keys(env)) delete process.env[name];
    await Promise.all([slack?.close(), teams?.close(), hook?.close()]);
    await deleteListings(db, [LISTING]);
    await db.end();
  });

  it('each stand-in receives a valid, escaped payload; the signature verifies, and fails when tampered', async () => {
    await db.query('UPDATE public.listings SET prc_amt = 79.90 WHERE lst_id = $1', [LISTING]);

    const [slackMessage] = await waitUntil('the Slack message', async () => {
      const m = messagesFor(slack, LISTING);
      return m.length > 0 ? m : undefined;
    });
    const [card] = await waitUntil('the Teams card', async () => {
      const c = teams.cards().filter((x) => x.raw.includes(`/listings/${LISTING}"`));
      return c.length > 0 ? c : undefined;
    });
    const [delivery] = await waitUntil('the webhook', async () => {
      const r = hook.received().filter((x) => x.raw.includes(`"id":"${LISTING}"`));
      return r.length > 0 ? r : undefined;
    });

    // Slack: the stand-in validated the Block Kit; the title's <!channel> is escaped in mrkdwn.
    expect(slackMessage?.channelName).toBe('sales-alerts');
    expect(slackMessage?.text).toContain('79.90');
    expect(slackMessage?.text).not.toContain('<!channel>');
    expect(JSON.stringify(slackMessage)).not.toContain('"change"');

    // Teams: accepted (schema + size checked by the stand-in), nothing refused, markup escaped.
    expect(teams.rejected()).toEqual([]);
    const body = (card?.card.body ?? []) as { type: string; text?: string }[];
    const header = body[0]?.text ?? '';
    expect(header).toContain('\\*\\*Oak\\*\\* \\[click\\]\\(https://evil.example\\) \\{\\{DATE');
    expect(header).toContain('\\<!channel\\>');
    expect(JSON.stringify(card?.card)).toContain('"Action.OpenUrl"');
    expect(JSON.stringify(card?.card)).toContain('79.90');

    // Webhook: signed, verified by the stand-in; the body is the change as data.
    expect(hook.rejected()).toEqual([]);
    expect(delivery?.duplicate).toBe(false);
    expect(delivery?.body).toMatchObject({
      type: 'listing.changed',
      data: {
        listing: { id: String(LISTING), url: expect.stringContaining(`/listings/${LISTING}`) },
        rules: ['price moved'],
        channel: 'sales-hook',
        fields: [
          expect.objectContaining({
            field: 'price',
            before: { type: 'decimal', value: '100' },
            after: { type: 'decimal', value: '79.9' },
          }),
        ],
      },
    });
    expect(JSON.stringify(delivery?.body)).toContain(JSON.stringify(TITLE).slice(1, -1));
    const raw = delivery?.raw ?? '';
    const headers = delivery?.headers ?? {};
    expect(hook.verify(raw, headers)).toBe(true);
    const tampered = raw.replace('"value":"79.9"', '"value":"7.9"');
    expect(tampered).not.toBe(raw);
    expect(hook.verify(tampered, headers)).toBe(false);
    // And over HTTP, as a receiver meets it: the tampered body is refused with 401.
    const refused = await fetch(hook.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: tampered,
    });
    expect(refused.status).toBe(401);
    expect(hook.rejected()).toEqual([{ reason: 'signature', status: 401 }]);

    // The workflow URL and the secret never reach the logs.
    const logs = running?.logLines.join('\n') ?? '';
    expect(logs).not.toContain('standin-secret-signature');
    expect(logs).not.toContain(SECRET);
  });

  it("a webhook answering 410 Gone dead-letters that channel's message; Slack and Teams still get theirs", async () => {
    hook.setGone(true);
    try {
      await db.query('UPDATE public.listings SET prc_amt = 59.90 WHERE lst_id = $1', [LISTING]);
      const dead = await (dlq as TopicReader).waitFor((r) => keyListingId(r) === String(LISTING), {
        timeoutMs: 60_000,
      });
      const header = (name: string) => dead.headers[name]?.toString();
      expect(header('dlq.error.code')).toBe('SLACK_PERMANENT');
      expect(header('dlq.error.message')).toBe('The webhook refused the message: HTTP 410');
      expect(header('dlq.channel')).toBe('webhook:LN_E2E_HOOK_URL:LN_E2E_HOOK_SECRET');
      await waitUntil('the second Slack message and Teams card', async () =>
        messagesFor(slack, LISTING).length >= 2 &&
        teams.cards().filter((x) => x.raw.includes(`/listings/${LISTING}"`)).length >= 2
          ? true
          : undefined,
      );
      expect(hook.rejected()).toContainEqual({ reason: 'gone', status: 410 });
    } finally {
      hook.setGone(false);
    }
  });
});
