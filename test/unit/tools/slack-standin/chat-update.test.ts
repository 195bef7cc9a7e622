import { WebClient } from '@slack/web-api';
import { afterEach, describe, expect, it } from 'vitest';
import { type SlackStandin, startSlackStandin } from '../../../../tools/slack-standin/server.ts';
import { createManualClock } from '../../../support/fakes.ts';

// chat.update against the stand-in on a free local port (no Kafka): what Slack validates, the edit
// history, the "(edited)" preview, and the method's own pace.
const token = 'xoxb-test-token';
let standin: SlackStandin | undefined;

async function start(overrides: Parameters<typeof startSlackStandin>[0] = {}) {
  const clock = createManualClock(1_700_000_000_000);
  standin = await startSlackStandin({ token, now: clock.now, ...overrides });
  return { s: standin, clock };
}

afterEach(async () => {
  await standin?.close();
  standin = undefined;
});

async function call(s: SlackStandin, method: string, body: Record<string, unknown>) {
  const res = await fetch(`${s.apiUrl}${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return {
    status: res.status,
    retryAfter: res.headers.get('retry-after'),
    body: (await res.json()) as Record<string, unknown>,
  };
}

const section = (text: string) => [{ type: 'section', text: { type: 'mrkdwn', text } }];

async function posted(s: SlackStandin, text = 'Stock is low: 3 left', channel = 'inventory-warnings') {
  const answer = await call(s, 'chat.postMessage', { channel, text, blocks: section(text) });
  expect(answer.body).toMatchObject({ ok: true });
  return { channel: String(answer.body.channel), ts: String(answer.body.ts) };
}

describe('stand-in chat.update', () => {
  it('edits a message in place, keeps what it said before, and answers as Slack does', async () => {
    const { s, clock } = await start();
    const { channel, ts } = await posted(s);
    await clock.advance(7_200_000);
    const answer = await call(s, 'chat.update', {
      channel,
      ts,
      text: 'Stock recovered: 20',
      blocks: section('~Stock is low: 3 left~ Stock recovered: 20, 2 h later'),
    });
    expect(answer.body).toMatchObject({
      ok: true,
      channel: 'C0INVENTWRN',
      ts,
      text: 'Stock recovered: 20',
      message: { type: 'message', ts, bot_id: 'B0NOTIFIER', edited: { user: 'U0NOTIFIER' } },
    });
    const [message, ...others] = s.messages('inventory-warnings');
    expect(others).toEqual([]);
    expect(message).toMatchObject({
      ts,
      text: 'Stock recovered: 20',
      blocks: section('~Stock is low: 3 left~ Stock recovered: 20, 2 h later'),
      receivedAt: 1_700_000_000_000,
      editedAt: 1_700_007_200_000,
      history: [
        { text: 'Stock is low: 3 left', blocks: section('Stock is low: 3 left'), since: 1_700_000_000_000 },
      ],
    });
    expect(s.stats()).toMatchObject({
      edits: { 'inventory-warnings': 1 },
      accepted: { 'inventory-warnings': 1 },
    });
  });

  it('keeps every version, oldest first, and the blocks when an edit leaves them out', async () => {
    const { s, clock } = await start();
    const { channel, ts } = await posted(s, 'v1');
    await clock.advance(1000);
    await call(s, 'chat.update', { channel, ts, text: 'v2', blocks: section('v2') });
    await clock.advance(1000);
    expect((await call(s, 'chat.update', { channel, ts, text: 'v3' })).body).toMatchObject({ ok: true });
    const [message] = s.messages(channel);
    expect(message?.text).toBe('v3');
    expect(message?.blocks).toEqual(section('v2'));
    expect(message?.history?.map((v) => [v.text, v.since])).toEqual([
      ['v1', 1_700_000_000_000],
      ['v2', 1_700_000_001_000],
    ]);
    // An empty array removes the blocks (Slack: "include an empty array for this field").
    await call(s, 'chat.update', { channel, ts, text: 'v4', blocks: [] });
    expect(s.messages(channel)[0]?.blocks).toEqual([]);
  });

  it('edits a thread reply, and leaves what messages() handed out before as it was', async () => {
    const { s } = await start();
    const parent = await posted(s, 'digest');
    const reply = await call(s, 'chat.postMessage', {
      channel: parent.channel,
      text: 'csv',
      thread_ts: parent.ts,
    });
    const before = s.messages(parent.channel);
    const ts = String(reply.body.ts);
    expect(
      (await call(s, 'chat.update', { channel: parent.channel, ts, text: 'csv, corrected' })).body,
    ).toMatchObject({
      ok: true,
      message: { thread_ts: parent.ts },
    });
    expect(before.map((m) => m.text)).toEqual(['digest', 'csv']);
    expect(s.messages(parent.channel).map((m) => [m.text, m.threadTs])).toEqual([
      ['digest', undefined],
      ['csv, corrected', parent.ts],
    ]);
  });

  it('answers message_not_found for an unknown ts, a ts of another channel, or a lost reply', async () => {
    const { s } = await start();
    const { channel, ts } = await posted(s);
    const lost = await call(s, 'chat.postMessage', { channel, text: 'r', thread_ts: '1.000001' });
    const notFound = { ok: false, error: 'message_not_found' };
    expect((await call(s, 'chat.update', { channel, ts: '1700000000.999999', text: 'x' })).body).toEqual(
      notFound,
    );
    expect((await call(s, 'chat.update', { channel, ts: 'yesterday', text: 'x' })).body).toEqual(notFound);
    expect((await call(s, 'chat.update', { channel: 'C0SALESALRT', ts, text: 'x' })).body).toEqual(notFound);
    expect((await call(s, 'chat.update', { channel, ts: String(lost.body.ts), text: 'x' })).body).toEqual(
      notFound,
    );
    expect((await call(s, 'chat.update', { channel, text: 'x' })).body).toEqual({
      ok: false,
      error: 'invalid_arguments',
      response_metadata: { messages: ['[ERROR] missing required field: ts'] },
    });
  });

  it('answers cant_update_message for a message a person posted', async () => {
    const { s } = await start();
    const said = s.say('#inventory-warnings', 'restocking tomorrow', 'U0ALICE');
    expect((await call(s, 'chat.update', { channel: said.channel, ts: said.ts, text: 'x' })).body).toEqual({
      ok: false,
      error: 'cant_update_message',
    });
    expect(s.messages('inventory-warnings')).toMatchObject([
      { text: 'restocking tomorrow', user: 'U0ALICE' },
    ]);
    // A person's message is not the bot's: it counts against neither its pace nor its accepted total.
    expect(s.stats().accepted).toEqual({});
    const viaHttp = await fetch(`${s.url}/_standin/say`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ channel: 'sales-alerts', text: 'hi' }),
    });
    expect(await viaHttp.json()).toMatchObject({ ok: true, channel: 'C0SALESALRT' });
    expect(s.messages('sales-alerts')).toMatchObject([{ text: 'hi', user: 'U0SOMEONE' }]);
  });

  it('takes channel ids only, refuses archived channels, and checks text and blocks as postMessage does', async () => {
    const { s } = await start();
    const { channel, ts } = await posted(s);
    const channelNotFound = { ok: false, error: 'channel_not_found' };
    expect((await call(s, 'chat.update', { channel: '#inventory-warnings', ts, text: 'x' })).body).toEqual(
      channelNotFound,
    );
    expect((await call(s, 'chat.update', { ts, text: 'x' })).body).toEqual(channelNotFound);
    expect((await call(s, 'chat.update', { channel: 'C0OLDANNOUN', ts, text: 'x' })).body).toEqual({
      ok: false,
      error: 'is_archived',
    });
    expect((await call(s, 'chat.update', { channel, ts, blocks: [] })).body).toEqual({
      ok: false,
      error: 'no_text',
    });
    expect((await call(s, 'chat.update', { channel, ts, text: 'x'.repeat(40_001) })).body).toEqual({
      ok: false,
      error: 'msg_too_long',
    });
    const bad = await call(s, 'chat.update', {
      channel,
      ts,
      text: 't',
      blocks: [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }],
    });
    expect(bad.body).toMatchObject({ ok: false, error: 'invalid_blocks' });
    expect(s.messages(channel)[0]).toMatchObject({ text: 'Stock is low: 3 left' });
    expect(s.messages(channel)[0]?.editedAt).toBeUndefined();
  });

  it('paces chat.update across the workspace (Tier 3), apart from the channels', async () => {
    const { s, clock } = await start({ updatePace: { perMinute: 2, burst: 2 } });
    const a = await posted(s, 'a', 'inventory-warnings');
    const b = await posted(s, 'b', 'sales-alerts');
    expect((await call(s, 'chat.update', { ...a, text: 'a2' })).status).toBe(200);
    expect((await call(s, 'chat.update', { ...b, text: 'b2' })).status).toBe(200);
    const limited = await call(s, 'chat.update', { ...a, text: 'a3' });
    expect(limited).toMatchObject({
      status: 429,
      retryAfter: '30',
      body: { ok: false, error: 'ratelimited' },
    });
    // Posting is paced per channel, not by chat.update's pace.
    expect((await call(s, 'chat.postMessage', { channel: 'support-heads-up', text: 'p' })).status).toBe(200);
    await clock.advance(30_000);
    expect((await call(s, 'chat.update', { ...a, text: 'a3' })).status).toBe(200);
    expect(s.stats()).toMatchObject({ updatesRateLimited: 1, rateLimited: { total: 0 } });
    s.reset();
    expect(s.stats().updatesRateLimited).toBe(0);
  });

  it('answers an injected error aimed at chat.update, once', async () => {
    const { s } = await start();
    const { channel, ts } = await posted(s);
    s.fail({ mode: 'error', error: 'edit_window_closed', method: 'chat.update' });
    expect((await call(s, 'chat.update', { channel, ts, text: 'x' })).body).toEqual({
      ok: false,
      error: 'edit_window_closed',
    });
    expect((await call(s, 'chat.update', { channel, ts, text: 'x' })).body).toMatchObject({ ok: true });
  });

  it('takes @slack/web-api form bodies (blocks as a JSON string)', async () => {
    const { s } = await start();
    const { channel, ts } = await posted(s);
    const client = new WebClient(token, { slackApiUrl: s.apiUrl, retryConfig: { retries: 0 } });
    const answer = await client.chat.update({
      channel,
      ts,
      text: 'Stock recovered: 20',
      blocks: section('*ok*'),
    });
    expect(answer).toMatchObject({ ok: true, ts });
    expect(s.messages(channel)[0]).toMatchObject({ text: 'Stock recovered: 20', blocks: section('*ok*') });
  });

  it('shows the edit on the preview page as Slack does: "(edited)", the old version collapsed', async () => {
    const { s } = await start();
    const { channel, ts } = await posted(s, 'Stock is low: 3 left');
    await call(s, 'chat.update', {
      channel,
      ts,
      text: 'Stock recovered: 20',
      blocks: section('Stock recovered: 20 &lt;script&gt;'),
    });
    const html = await (await fetch(`${s.url}/`)).text();
    // Escaped as the renderer sends it: shown as the characters, never as markup.
    expect(html).toContain('Stock recovered: 20 &lt;script&gt;');
    expect(html).not.toContain('<script>');
    expect(html).toMatch(/<span class="edited" title="edited \d\d:\d\d:\d\d UTC">\(edited\)<\/span>/);
    expect(html).toContain('<summary>1 earlier version</summary>');
    expect(html).toContain('Stock is low: 3 left');
  });
});
