import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { verifySlackRequest } from '../../../../src/adapters/slack-signature.ts';
import { type SlackStandin, startSlackStandin } from '../../../../tools/slack-standin/server.ts';
import { createManualClock } from '../../../support/fakes.ts';

// Clicks in the stand-in (issue 17): the signed block_actions payload an app receives, and its
// answers through response_url. An in-test HTTP server plays the app; no Kafka.
const token = 'xoxb-test-token';
const signingSecret = 'test0signing0secret0000000000000';
const closers: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

/** A stand-in app: records each request and answers with `answer` (may call the response_url). */
async function startApp(
  answer: (
    received: Received,
  ) => Promise<{ status: number; body?: string }> | { status: number; body?: string },
) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(r);
      void Promise.resolve(answer(r)).then(({ status, body }) => {
        res.writeHead(status);
        res.end(body ?? '');
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/interactivity`, received };
}

const menu = {
  type: 'section',
  block_id: 'listing-L-7',
  text: { type: 'mrkdwn', text: '*Blue chair* stock is low: 3 left' },
  accessory: {
    type: 'overflow',
    action_id: 'listing-menu',
    options: [
      { text: { type: 'plain_text', text: 'Mute this listing for 1 h' }, value: 'mute:L-7:1h' },
      { text: { type: 'plain_text', text: 'Why did I get this?' }, value: 'why:L-7' },
    ],
  },
};
const button = {
  type: 'actions',
  elements: [
    {
      type: 'button',
      action_id: 'mute-rule',
      text: { type: 'plain_text', text: 'Mute this rule for 24 h' },
      value: 'rule:3',
    },
  ],
};

async function start(interactionTimeoutMs?: number) {
  const clock = createManualClock(1_767_225_600_000);
  const s: SlackStandin = await startSlackStandin({
    token,
    signingSecret,
    now: clock.now,
    ...(interactionTimeoutMs === undefined ? {} : { interactionTimeoutMs }),
  });
  closers.push(() => s.close());
  const res = await fetch(`${s.apiUrl}chat.postMessage`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      channel: 'inventory-warnings',
      text: 'Blue chair stock is low',
      blocks: [menu, button],
    }),
  });
  const { ts } = (await res.json()) as { ts: string };
  return { s, clock, ts };
}

const payloadOf = (r: Received) =>
  JSON.parse(new URLSearchParams(r.body).get('payload') ?? 'null') as Record<string, unknown>;

describe('stand-in clicks', () => {
  it('send a block_actions payload for an overflow option, form-encoded and signed as Slack signs it', async () => {
    const { s, clock, ts } = await start();
    const app = await startApp(() => ({ status: 200 }));
    const result = await s.click({
      url: app.url,
      channel: '#inventory-warnings',
      ts,
      actionId: 'listing-menu',
      value: 'mute:L-7:1h',
      user: { id: 'U0ALICE', name: 'alice' },
    });
    expect(result).toMatchObject({ status: 200, timedOut: false });
    const [request] = app.received;
    if (request === undefined) throw new Error('the app received nothing');
    expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(
      verifySlackRequest({ secret: signingSecret, headers: request.headers, body: request.body, clock }),
    ).toBe('ok');
    expect(
      verifySlackRequest({ secret: 'another-secret', headers: request.headers, body: request.body, clock }),
    ).toBe('forged');
    const payload = payloadOf(request);
    expect(payload).toEqual(result.payload);
    expect(payload).toMatchObject({
      type: 'block_actions',
      user: { id: 'U0ALICE', username: 'alice' },
      container: { type: 'message', message_ts: ts, channel_id: 'C0INVENTWRN', is_ephemeral: false },
      channel: { id: 'C0INVENTWRN', name: 'inventory-warnings' },
      message: { ts, bot_id: 'B0NOTIFIER', blocks: [menu, button] },
      actions: [
        {
          type: 'overflow',
          action_id: 'listing-menu',
          block_id: 'listing-L-7',
          selected_option: {
            text: { type: 'plain_text', text: 'Mute this listing for 1 h' },
            value: 'mute:L-7:1h',
          },
          action_ts: '1767225600.000000',
        },
      ],
    });
    expect(String(payload.response_url)).toMatch(new RegExp(`^${s.url}/_standin/respond/R\\d+$`));
  });

  it('send a button click with its value, and a block without block_id gets a stable one', async () => {
    const { s, ts } = await start();
    const app = await startApp(() => ({ status: 200 }));
    const result = await s.click({ url: app.url, channel: 'C0INVENTWRN', ts, actionId: 'mute-rule' });
    expect(result.payload).toMatchObject({
      user: { id: 'U0SOMEONE' },
      actions: [{ type: 'button', action_id: 'mute-rule', block_id: 'standin-1', value: 'rule:3' }],
    });
    await expect(s.click({ url: app.url, channel: 'C0INVENTWRN', ts, actionId: 'nope' })).rejects.toThrow(
      /no element with action_id nope/,
    );
    await expect(
      s.click({ url: app.url, channel: 'C0INVENTWRN', ts, actionId: 'listing-menu', value: 'mute:L-7:99y' }),
    ).rejects.toThrow(/no option/);
  });

  it('record ephemeral answers to the response_url, post in_channel ones, and edit on replace_original', async () => {
    const { s, ts } = await start();
    const respond = (body: unknown) => async (r: Received) => {
      const url = String(payloadOf(r).response_url);
      const answer = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(await answer.json()).toEqual({ ok: true });
      return { status: 200 };
    };
    const why = await startApp(
      respond({ text: 'You got this because rule 2 (stock low) routes to #inventory-warnings' }),
    );
    await s.click({
      url: why.url,
      channel: 'inventory-warnings',
      ts,
      actionId: 'listing-menu',
      value: 'why:L-7',
      user: { id: 'U0ALICE', name: 'alice' },
    });
    const confirm = await startApp(
      respond({ response_type: 'in_channel', text: '<@U0ALICE> muted L-7 until 10:00 UTC' }),
    );
    await s.click({
      url: confirm.url,
      channel: 'inventory-warnings',
      ts,
      actionId: 'listing-menu',
      value: 'mute:L-7:1h',
    });
    const replace = await startApp(respond({ replace_original: true, text: 'Blue chair: muted' }));
    await s.click({ url: replace.url, channel: 'inventory-warnings', ts, actionId: 'mute-rule' });

    expect(s.responses()).toMatchObject([
      {
        user: 'U0ALICE',
        channel: 'C0INVENTWRN',
        messageTs: ts,
        responseType: 'ephemeral',
        replaceOriginal: false,
      },
      { responseType: 'in_channel', text: '<@U0ALICE> muted L-7 until 10:00 UTC' },
      { responseType: 'ephemeral', replaceOriginal: true },
    ]);
    const shown = s.messages('inventory-warnings');
    expect(shown.map((m) => m.text)).toEqual(['Blue chair: muted', '<@U0ALICE> muted L-7 until 10:00 UTC']);
    expect(shown[0]?.history?.[0]?.text).toBe('Blue chair stock is low');
    // The ephemeral answer is on the preview page, marked as Slack marks it; the others are messages.
    const page = await (await fetch(`${s.url}/`)).text();
    expect(page).toContain('<span class="only">Only visible to U0ALICE</span>');
    expect(page).toContain('You got this because rule 2 (stock low) routes to #inventory-warnings');
    expect(page.match(/class="message ephemeral"/g)).toHaveLength(1);
    const listed = (await (await fetch(`${s.url}/_standin/responses`)).json()) as { responses: unknown[] };
    expect(listed.responses).toHaveLength(3);
    const unknown = await fetch(`${s.url}/_standin/respond/R999`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(unknown.status).toBe(404);
  });

  it('report an app that does not answer in time (Slack: 3 s) as timed out, as Slack tells the user', async () => {
    const { s, ts } = await start(200);
    const never = await startApp(() => new Promise(() => {}));
    const result = await s.click({
      url: never.url,
      channel: 'inventory-warnings',
      ts,
      actionId: 'mute-rule',
    });
    expect(result).toMatchObject({ status: 0, timedOut: true });
  });

  it('take clicks over HTTP too (POST /_standin/click)', async () => {
    const { s, ts } = await start();
    const app = await startApp(() => ({ status: 200, body: '' }));
    const res = await fetch(`${s.url}/_standin/click`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: app.url, channel: 'inventory-warnings', ts, actionId: 'mute-rule' }),
    });
    expect(await res.json()).toMatchObject({ status: 200, timedOut: false });
    const bad = await fetch(`${s.url}/_standin/click`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        url: app.url,
        channel: 'inventory-warnings',
        ts: '1.000001',
        actionId: 'mute-rule',
      }),
    });
    expect(bad.status).toBe(400);
  });
});
