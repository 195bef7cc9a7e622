/**
 * The routing destination against the Teams and webhook stand-ins over real HTTP: pace (429 with
 * Retry-After), 410 Gone, a card over Teams' size limit, and a body signed with the wrong secret.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRoutingDestination } from '../../../src/adapters/destinations.ts';
import { systemClock } from '../../../src/adapters/system-clock.ts';
import { envelope } from '../../../src/adapters/teams-card.ts';
import type { ChatDestination } from '../../../src/ports/index.ts';
import { startTeamsStandin, type TeamsStandin } from '../../../tools/teams-standin/server.ts';
import { startWebhookStandin, type WebhookStandin } from '../../../tools/webhook-standin/server.ts';

const SECRET = `whsec_${Buffer.from('stand-in secret of thirty-two by').toString('base64')}`;
const OTHER = `whsec_${Buffer.from('some other secret, thirty-two by').toString('base64')}`;
const noSlack: ChatDestination = {
  post: () => Promise.reject(new Error('not Slack')),
  upload: () => Promise.reject(new Error('not Slack')),
};
const payload = (text: string) => ({ text, blocks: [] });

describe('Teams and webhook stand-ins through the routing destination', () => {
  let teams: TeamsStandin;
  let hook: WebhookStandin;
  let env: Record<string, string>;

  beforeAll(async () => {
    // One request per ten seconds after a burst of two: the third post is over pace however slow the machine.
    teams = await startTeamsStandin({ pace: { perSecond: 0.1, burst: 2 } });
    hook = await startWebhookStandin({ secret: SECRET, pace: { perSecond: 1, burst: 2 } });
    env = { T_URL: teams.url, H_URL: hook.url, H_SECRET: SECRET, H_WRONG: OTHER };
  });
  afterAll(async () => {
    await teams.close();
    await hook.close();
  });

  const destination = () => createRoutingDestination({ slack: noSlack, env, clock: systemClock });

  it('Teams: accepts within pace, then answers 429 with Retry-After (SLACK_RATE_LIMITED)', async () => {
    const d = destination();
    await d.post('teams:T_URL', payload('one'));
    await d.post('teams:T_URL', payload('two'));
    await expect(d.post('teams:T_URL', payload('three'))).rejects.toMatchObject({
      code: 'SLACK_RATE_LIMITED',
      details: { retryAfterMs: expect.any(Number) },
    });
    const error = (await d.post('teams:T_URL', payload('four')).then(
      () => undefined,
      (e: unknown) => e,
    )) as { details: { retryAfterMs: number } };
    expect(error.details.retryAfterMs).toBeGreaterThanOrEqual(1000);
    expect(error.details.retryAfterMs).toBeLessThanOrEqual(10_000);
    expect(teams.cards()).toHaveLength(2);
    expect(teams.rejected()).toEqual([
      { status: 429, problems: ['over pace'] },
      { status: 429, problems: ['over pace'] },
    ]);
  });

  it('Teams: a card over the size limit is refused with 413', async () => {
    const big = JSON.stringify(
      envelope({
        type: 'AdaptiveCard',
        $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
        version: '1.5',
        body: [{ type: 'TextBlock', text: 'x'.repeat(40_000) }],
      }),
    );
    // A stand-in of its own, without a pace, so the answer is about the size alone.
    const unpaced = await startTeamsStandin();
    try {
      const answer = await fetch(unpaced.url, { method: 'POST', body: big });
      expect(answer.status).toBe(413);
      expect(unpaced.rejected()[0]?.problems[0]).toMatch(/over Teams' 28672/);
    } finally {
      await unpaced.close();
    }
  });

  it('webhook: a body signed with the wrong secret is refused (401, SLACK_PERMANENT); the right one verifies', async () => {
    const d = destination();
    await expect(d.post('webhook:H_URL:H_WRONG', payload('forged'))).rejects.toMatchObject({
      code: 'SLACK_PERMANENT',
      details: { slackError: 'http_401' },
    });
    await d.post('webhook:H_URL:H_SECRET', payload('genuine'));
    expect(hook.received().map((r) => r.body)).toEqual([
      { type: 'listing.message', timestamp: null, data: { channel: null, text: 'genuine' } },
    ]);
    expect(hook.rejected()).toEqual([{ reason: 'signature', status: 401 }]);
  });

  it('webhook: 410 Gone is permanent', async () => {
    hook.setGone(true);
    await expect(destination().post('webhook:H_URL:H_SECRET', payload('x'))).rejects.toMatchObject({
      code: 'SLACK_PERMANENT',
      details: { slackError: 'gone' },
    });
    hook.setGone(false);
  });
});
