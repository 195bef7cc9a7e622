import { afterEach, describe, expect, it } from 'vitest';
import { parseFail, type SlackStandin, startSlackStandin } from '../../../tools/slack-standin/server.ts';

const token = 'xoxb-test-token';
let standin: SlackStandin | undefined;
let time = 1_700_000_000_000;

/** A stand-in on a free port whose clock moves only when the test says so. */
async function start(overrides: Parameters<typeof startSlackStandin>[0] = {}): Promise<SlackStandin> {
  time = 1_700_000_000_000;
  standin = await startSlackStandin({ token, now: () => time, ...overrides });
  return standin;
}

afterEach(async () => {
  await standin?.close();
  standin = undefined;
});

async function call(
  s: SlackStandin,
  method: string,
  body: Record<string, unknown>,
  auth: string | null = token,
) {
  const res = await fetch(`${s.apiUrl}${method}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json; charset=utf-8',
      ...(auth === null ? {} : { authorization: `Bearer ${auth}` }),
    },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { raw: text };
  }
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: json };
}

const post = (s: SlackStandin, channel: string, text = 'hello') =>
  call(s, 'chat.postMessage', { channel, text });

describe('stand-in tokens', () => {
  it('answers not_authed without a token and invalid_auth with a wrong one', async () => {
    const s = await start();
    expect((await call(s, 'auth.test', {}, null)).body).toEqual({ ok: false, error: 'not_authed' });
    expect((await call(s, 'auth.test', {}, 'xoxb-wrong')).body).toEqual({ ok: false, error: 'invalid_auth' });
    expect((await call(s, 'auth.test', {})).body).toMatchObject({
      ok: true,
      team: 'Stand-in Workspace',
      bot_id: 'B0NOTIFIER',
    });
  });

  it('accepts form bodies with the token as a parameter and blocks as a JSON string', async () => {
    const s = await start();
    const form = new URLSearchParams({
      token,
      channel: 'sales-alerts',
      text: 'fallback',
      blocks: JSON.stringify([{ type: 'section', text: { type: 'mrkdwn', text: '*hi*' } }]),
    });
    const res = await fetch(`${s.apiUrl}chat.postMessage`, { method: 'POST', body: form });
    expect(await res.json()).toMatchObject({ ok: true, channel: 'C0SALESALRT' });
    expect(s.messages('sales-alerts')[0]?.blocks).toEqual([
      { type: 'section', text: { type: 'mrkdwn', text: '*hi*' } },
    ]);
  });
});

describe('stand-in channels', () => {
  it('knows channels by id and name, and refuses unknown, archived and not-joined ones', async () => {
    const s = await start();
    expect((await post(s, 'C0SALESALRT')).body).toMatchObject({ ok: true, channel: 'C0SALESALRT' });
    expect((await post(s, '#inventory-warnings')).body).toMatchObject({ ok: true, channel: 'C0INVENTWRN' });
    expect((await post(s, 'nope')).body).toEqual({ ok: false, error: 'channel_not_found' });
    expect((await post(s, 'old-announcements')).body).toEqual({ ok: false, error: 'is_archived' });
    expect((await post(s, 'private-finance')).body).toEqual({ ok: false, error: 'not_in_channel' });
  });

  it('lists channels, optionally without archived ones', async () => {
    const s = await start();
    const all = (await call(s, 'conversations.list', {})).body.channels as Array<{ name: string }>;
    const live = (await call(s, 'conversations.list', { exclude_archived: true })).body.channels as Array<{
      name: string;
    }>;
    expect(all.map((c) => c.name)).toContain('old-announcements');
    expect(live.map((c) => c.name)).not.toContain('old-announcements');
    expect(live.map((c) => c.name)).toContain('marketing-updates');
  });

  it('answers Slack errors for bad payloads, with json-pointer messages for invalid_blocks', async () => {
    const s = await start();
    expect((await call(s, 'chat.postMessage', { channel: 'sales-alerts' })).body).toEqual({
      ok: false,
      error: 'no_text',
    });
    const bad = await call(s, 'chat.postMessage', {
      channel: 'sales-alerts',
      text: 't',
      blocks: [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }],
    });
    expect(bad.body).toEqual({
      ok: false,
      error: 'invalid_blocks',
      response_metadata: {
        messages: ['[ERROR] must be less than 151 characters [json-pointer:/blocks/0/text/text]'],
      },
    });
    expect(s.messages()).toHaveLength(0);
  });
});

describe('stand-in pace', () => {
  it('answers 429 with Retry-After (whole seconds, at least 1) past the pace, per channel', async () => {
    const s = await start({ pace: { perSecond: 1, burst: 3 } });
    for (let i = 0; i < 3; i++) expect((await post(s, 'sales-alerts')).status).toBe(200);
    const limited = await post(s, 'sales-alerts');
    expect(limited).toMatchObject({
      status: 429,
      retryAfter: '1',
      body: { ok: false, error: 'ratelimited' },
    });
    expect((await post(s, 'inventory-warnings')).status).toBe(200);
    time += 999;
    expect((await post(s, 'sales-alerts')).status).toBe(429);
    time += 1;
    expect((await post(s, 'sales-alerts')).status).toBe(200);
    expect((await post(s, 'sales-alerts')).status).toBe(429);

    const stats = s.stats();
    expect(stats.rateLimited).toEqual({ total: 3, byChannel: { 'sales-alerts': 3 } });
    expect(stats.accepted).toEqual({ 'sales-alerts': 4, 'inventory-warnings': 1 });
    expect(stats.maxPerSecond['sales-alerts']).toBe(3);
    expect(stats.paceViolations['sales-alerts']).toBeNull();
  });

  it('rounds Retry-After up to whole seconds for a long pause', async () => {
    const s = await start({ pace: { perSecond: 0.2, burst: 1 } });
    await post(s, 'sales-alerts');
    time += 1500;
    expect((await post(s, 'sales-alerts')).retryAfter).toBe('4');
  });

  it('can be raised for tests (50 per second)', async () => {
    const s = await start({ pace: { perSecond: 50, burst: 1 } });
    for (let i = 0; i < 5; i++) {
      expect((await post(s, 'sales-alerts')).status).toBe(200);
      time += 20;
    }
    expect(s.stats().maxPerSecond['sales-alerts']).toBe(5);
  });
});

describe('stand-in failure modes', () => {
  it('status: answers the given HTTP status for forMs, then recovers', async () => {
    const s = await start();
    s.fail({ mode: 'status', status: 503, forMs: 30_000 });
    expect((await post(s, 'sales-alerts')).status).toBe(503);
    expect((await call(s, 'auth.test', {})).status).toBe(503);
    time += 30_000;
    expect((await post(s, 'sales-alerts')).status).toBe(200);
  });

  it('error: answers the given Slack error count times, optionally for one channel', async () => {
    const s = await start({ pace: { perSecond: 100, burst: 10 } });
    s.fail({ mode: 'error', error: 'channel_not_found', channel: 'sales-alerts', count: 2 });
    expect((await post(s, 'inventory-warnings')).body.ok).toBe(true);
    expect((await post(s, 'sales-alerts')).body).toEqual({ ok: false, error: 'channel_not_found' });
    expect((await post(s, 'C0SALESALRT')).body).toEqual({ ok: false, error: 'channel_not_found' });
    expect((await post(s, 'sales-alerts')).body.ok).toBe(true);
    s.fail({ mode: 'error', error: 'token_revoked' });
    expect((await post(s, 'marketing-updates')).body).toEqual({ ok: false, error: 'token_revoked' });
    expect((await post(s, 'marketing-updates')).body.ok).toBe(true);
  });

  it('hang: holds calls unanswered, then drops the connection without posting', async () => {
    const s = await start({ now: Date.now });
    s.fail({ mode: 'hang', forMs: 300 });
    const started = Date.now();
    await expect(post(s, 'sales-alerts')).rejects.toThrow();
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(s.messages()).toHaveLength(0);
  });

  it('is driven over HTTP: POST and DELETE /_standin/fail', async () => {
    const s = await start();
    const fail = await fetch(`${s.url}/_standin/fail`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mode: 'status', status: 503, forMs: 60_000 }),
    });
    expect(fail.status).toBe(200);
    expect((await post(s, 'sales-alerts')).status).toBe(503);
    await fetch(`${s.url}/_standin/fail`, { method: 'DELETE' });
    expect((await post(s, 'sales-alerts')).status).toBe(200);
    const bad = await fetch(`${s.url}/_standin/fail`, { method: 'POST', body: '{"mode":"explode"}' });
    expect(bad.status).toBe(400);
  });

  it('parseFail reads the three modes and refuses the rest', () => {
    expect(parseFail({ mode: 'status', status: 502, forMs: 10 })).toEqual({
      mode: 'status',
      status: 502,
      forMs: 10,
    });
    expect(parseFail({ mode: 'hang', forMs: '5' })).toEqual({ mode: 'hang', forMs: 5 });
    expect(parseFail({ mode: 'error', error: 'is_archived', count: 3 })).toEqual({
      mode: 'error',
      error: 'is_archived',
      count: 3,
    });
    expect(parseFail({ mode: 'status', status: 200, forMs: 10 })).toBeUndefined();
    expect(parseFail({ mode: 'hang' })).toBeUndefined();
    expect(parseFail({ mode: 'error' })).toBeUndefined();
  });
});

describe('stand-in inspection over HTTP', () => {
  it('lists accepted messages per channel, resets them, and serves stats and the preview page', async () => {
    const s = await start({ pace: { perSecond: 100, burst: 10 } });
    await post(s, 'sales-alerts', 'one');
    await post(s, 'inventory-warnings', 'two');
    const sales = (await (await fetch(`${s.url}/_standin/messages?channel=sales-alerts`)).json()) as {
      messages: Array<{ text: string; channelName: string; ts: string }>;
    };
    expect(sales.messages).toEqual([expect.objectContaining({ text: 'one', channelName: 'sales-alerts' })]);
    const byId = (await (await fetch(`${s.url}/_standin/messages?channel=C0INVENTWRN`)).json()) as {
      messages: unknown[];
    };
    expect(byId.messages).toHaveLength(1);

    const stats = (await (await fetch(`${s.url}/_standin/stats`)).json()) as {
      accepted: Record<string, number>;
    };
    expect(stats.accepted).toEqual({ 'sales-alerts': 1, 'inventory-warnings': 1 });
    const page = await (await fetch(`${s.url}/`)).text();
    expect(page).toContain('one');

    await fetch(`${s.url}/_standin/messages`, { method: 'DELETE' });
    const after = (await (await fetch(`${s.url}/_standin/messages`)).json()) as { messages: unknown[] };
    expect(after.messages).toEqual([]);
  });

  it('gives every accepted message a distinct ts and reports it to onMessage', async () => {
    const seen: string[] = [];
    const s = await start({ pace: { perSecond: 100, burst: 10 }, onMessage: (m) => seen.push(m.ts) });
    const a = await post(s, 'sales-alerts');
    const b = await post(s, 'sales-alerts');
    expect(a.body.ts).not.toBe(b.body.ts);
    expect(seen).toEqual([a.body.ts, b.body.ts]);
  });
});
