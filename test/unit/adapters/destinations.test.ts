import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import {
  createRoutingDestination,
  destinationOf,
  missingDestinationEnv,
} from '../../../src/adapters/destinations.ts';
import type { SlackPayload } from '../../../src/domain/message.ts';
import type { ChatDestination } from '../../../src/ports/index.ts';
import { createManualClock } from '../../support/fakes.ts';

const secret = `whsec_${Buffer.from('a test signing secret, 32 bytes!').toString('base64')}`;
const TEAMS_URL = 'https://example.test/workflows/x?sig=TOPSECRETSIG';
const HOOK_URL = 'https://hooks.example.test/in?token=HOOKSECRET';
const env = { TEAMS_URL_ENV: TEAMS_URL, HOOK_URL_ENV: HOOK_URL, HOOK_SECRET_ENV: secret };
const payload: SlackPayload = { text: 'hello', blocks: [] };

interface Call {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** A fetch that records calls and answers from a script (status, or 'throw' for a network failure). */
function scriptedFetch(answers: (number | 'throw')[]) {
  const calls: Call[] = [];
  const fetchFn = (async (url: string | URL | Request, init?: RequestInit) => {
    calls.push({
      url: String(url),
      headers: Object.fromEntries(new Headers(init?.headers).entries()),
      body: String(init?.body),
    });
    const next = answers.shift() ?? 200;
    if (next === 'throw') throw new TypeError(`fetch failed for ${String(url)}`);
    return new Response(null, { status: next, headers: next === 429 ? { 'retry-after': '2' } : {} });
  }) as typeof fetch;
  return { calls, fetchFn };
}

function slackFake() {
  const posted: string[] = [];
  const slack: ChatDestination = {
    post: async (channel) => {
      posted.push(channel);
      return { ts: '1.0' };
    },
    upload: async () => ({ fileId: 'F1' }),
  };
  return { posted, slack };
}

describe('channel identifiers', () => {
  it('name their destination; anything else is Slack', () => {
    expect(destinationOf('teams:TEAMS_URL_ENV')).toEqual({ type: 'teams', urlEnv: 'TEAMS_URL_ENV' });
    expect(destinationOf('webhook:A:B')).toEqual({ type: 'webhook', urlEnv: 'A', secretEnv: 'B' });
    expect(destinationOf('#sales')).toEqual({ type: 'slack', channel: '#sales' });
    expect(destinationOf('C0123ABCD')).toEqual({ type: 'slack', channel: 'C0123ABCD' });
  });

  it('list the environment variables that are not set', () => {
    expect(missingDestinationEnv(['#a', 'teams:X', 'webhook:Y:Z', 'teams:TEAMS_URL_ENV'], env)).toEqual([
      'X',
      'Y',
      'Z',
    ]);
    expect(
      missingDestinationEnv(['#a', 'teams:TEAMS_URL_ENV', 'webhook:HOOK_URL_ENV:HOOK_SECRET_ENV'], env),
    ).toEqual([]);
  });
});

describe('routing destination', () => {
  it('sends Slack channels to Slack, Teams to its URL as a card, webhooks signed to theirs', async () => {
    const { calls, fetchFn } = scriptedFetch([202, 204]);
    const { posted, slack } = slackFake();
    const d = createRoutingDestination({ slack, env, clock: createManualClock(Date.now()), fetch: fetchFn });
    await d.post('#sales', payload);
    await d.post('teams:TEAMS_URL_ENV', payload);
    await d.post('webhook:HOOK_URL_ENV:HOOK_SECRET_ENV', payload);
    expect(posted).toEqual(['#sales']);
    expect(calls.map((c) => c.url)).toEqual([TEAMS_URL, HOOK_URL]);
    expect(JSON.parse(calls[0]?.body ?? '')).toMatchObject({ type: 'message' });
    const hook = calls[1];
    expect(new Webhook(secret).verify(hook?.body ?? '', hook?.headers ?? {})).toMatchObject({
      type: 'listing.message',
    });
  });

  it('maps 429 to SLACK_RATE_LIMITED with Retry-After, 503 to SLACK_TRANSIENT, 410 to SLACK_PERMANENT', async () => {
    const { fetchFn } = scriptedFetch([429, 503, 410]);
    const d = createRoutingDestination({
      slack: slackFake().slack,
      env,
      clock: createManualClock(),
      fetch: fetchFn,
    });
    await expect(d.post('teams:TEAMS_URL_ENV', payload)).rejects.toMatchObject({
      code: 'SLACK_RATE_LIMITED',
      details: { retryAfterMs: 2000 },
    });
    await expect(d.post('teams:TEAMS_URL_ENV', payload)).rejects.toMatchObject({ code: 'SLACK_TRANSIENT' });
    await expect(d.post('webhook:HOOK_URL_ENV:HOOK_SECRET_ENV', payload)).rejects.toMatchObject({
      code: 'SLACK_PERMANENT',
      details: { slackError: 'gone' },
    });
  });

  it('never puts a URL or a secret in an error, even when fetch quotes the URL', async () => {
    const { fetchFn } = scriptedFetch(['throw', 'throw', 400]);
    const d = createRoutingDestination({
      slack: slackFake().slack,
      env,
      clock: createManualClock(),
      fetch: fetchFn,
    });
    const errors = [
      await d.post('teams:TEAMS_URL_ENV', payload).catch((e: unknown) => e),
      await d.post('webhook:HOOK_URL_ENV:HOOK_SECRET_ENV', payload).catch((e: unknown) => e),
      await d.post('teams:TEAMS_URL_ENV', payload).catch((e: unknown) => e),
    ];
    expect(errors.map((e) => (e as { code: string }).code)).toEqual([
      'SLACK_TRANSIENT',
      'SLACK_TRANSIENT',
      'SLACK_PERMANENT',
    ]);
    for (const e of errors) {
      const seen = JSON.stringify(e, Object.getOwnPropertyNames(e)) + String((e as Error).cause ?? '');
      for (const s of ['TOPSECRETSIG', 'HOOKSECRET', secret]) expect(seen).not.toContain(s);
    }
  });

  it('an unset variable is SLACK_PERMANENT naming the variable', async () => {
    const d = createRoutingDestination({ slack: slackFake().slack, env: {}, clock: createManualClock() });
    await expect(d.post('teams:NOT_SET_URL', payload)).rejects.toMatchObject({
      code: 'SLACK_PERMANENT',
      message: 'environment variable NOT_SET_URL is not set',
    });
  });

  it('posts a digest CSV to Teams as rows of text and to a webhook as a signed file body', async () => {
    const { calls, fetchFn } = scriptedFetch([202, 204]);
    const d = createRoutingDestination({
      slack: slackFake().slack,
      env,
      clock: createManualClock(Date.now()),
      fetch: fetchFn,
    });
    const file = { filename: 'd.csv', title: 'Digest', content: Buffer.from('id,title\n1,*Oak*\n2,Pine\n') };
    await d.upload('teams:TEAMS_URL_ENV', file);
    await d.upload('webhook:HOOK_URL_ENV:HOOK_SECRET_ENV', file);
    const card = JSON.parse(calls[0]?.body ?? '').attachments[0].content;
    expect(card.body.map((b: { text: string }) => b.text)).toEqual([
      'Digest',
      'id,title',
      '1,\\*Oak\\*',
      '2,Pine',
    ]);
    const hook = calls[1];
    expect(new Webhook(secret).verify(hook?.body ?? '', hook?.headers ?? {})).toMatchObject({
      type: 'listing.file',
      data: { filename: 'd.csv', content: 'id,title\n1,*Oak*\n2,Pine\n' },
    });
  });
});
