/**
 * The interactivity endpoint (src/app/interactivity.ts) on the real HTTP server, with requests built
 * and signed as the Slack stand-in builds them (tools/slack-standin/interactivity.ts): the signature
 * gate (forged, replayed, stale, malformed, too large: refused, counted, nothing muted), the ack
 * before the work, mutes written with who and until when and confirmed in the thread, and "Why did I
 * get this?" answered ephemerally.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryMuteStore } from '../../../src/adapters/memory-mutes.ts';
import { signSlackRequest } from '../../../src/adapters/slack-signature.ts';
import { type HealthServer, startHealthServer } from '../../../src/app/health-server.ts';
import { createInteractivity, type Interactivity, type Respond } from '../../../src/app/interactivity.ts';
import { parseConfig } from '../../../src/config/index.ts';
import { NotifierError } from '../../../src/domain/errors.ts';
import type { SlackPayload } from '../../../src/domain/message.ts';
import { checkPayload } from '../../../src/pipeline/block-limits.ts';
import { decide } from '../../../src/pipeline/index.ts';
import { noopMetrics } from '../../../src/ports/index.ts';
import type { MuteStore } from '../../../src/ports/mutes.ts';
import { blockActionsPayload, interactionRequest } from '../../../tools/slack-standin/interactivity.ts';
import { dec, makeUpdate } from '../../support/events.ts';
import { createFakeChat } from '../../support/fake-chat.ts';
import { createCapturingLogger, createManualClock, settled, stays } from '../../support/fakes.ts';

const SECRET = 'unit0signing0secret0000000000000';
const API_URL = 'http://127.0.0.1:1/api/';
const config = parseConfig(
  `slack: { apiUrl: "${API_URL}", signingSecretEnv: SLACK_SIGNING_SECRET }\n`,
  'interactive',
);
const channel = { id: 'C0SALES', name: 'sales-alerts' };

/** A rendered message of listing `listingId` in sales-alerts, as the stand-in would hold it. */
function message(listingId: string) {
  const outcome = decide(makeUpdate({ prc_amt: dec('17.99') }, {}, { listingId }), config);
  if (outcome.kind !== 'notify') throw new Error(outcome.reason);
  const payload = outcome.messages[0]?.payload as SlackPayload;
  return {
    channel: channel.id,
    channelName: channel.name,
    ts: '1767225600.000100',
    text: payload.text,
    blocks: payload.blocks as unknown[],
    receivedAt: 0,
  };
}

/** The menu option whose text starts with `text`. */
function optionValue(listingId: string, text: string): string {
  for (const block of message(listingId).blocks as Array<{ elements?: Array<Record<string, unknown>> }>)
    for (const e of block.elements ?? [])
      for (const o of (e.options ?? []) as Array<{ text: { text: string }; value: string }>)
        if (o.text.text.startsWith(text)) return o.value;
  throw new Error(`no option ${text}`);
}

interface Setup {
  server: HealthServer;
  interactivity: Interactivity;
  clock: ReturnType<typeof createManualClock>;
  mutes: MuteStore;
  chat: ReturnType<typeof createFakeChat>;
  outcomes: string[];
  responses: Array<{ url: string; body: Record<string, unknown> }>;
  logger: ReturnType<typeof createCapturingLogger>;
  /** POSTs a click on listing `listingId`'s message, signed with `secret` at `atMs` (default now). */
  click(o: {
    listingId?: string;
    value: string;
    user?: { id: string; name: string };
    secret?: string;
    atMs?: number;
  }): Promise<{ status: number; body: string; request: { body: string; headers: Record<string, string> } }>;
  post(body: string, headers: Record<string, string>): Promise<{ status: number; body: string }>;
}

let running: HealthServer | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function setup(o: { mutes?: MuteStore; respond?: Respond } = {}): Promise<Setup> {
  const clock = createManualClock();
  const mutes = o.mutes ?? createMemoryMuteStore({ clock });
  const chat = createFakeChat();
  const outcomes: string[] = [];
  const responses: Setup['responses'] = [];
  const logger = createCapturingLogger();
  const interactivity = createInteractivity({
    secret: SECRET,
    clock,
    mutes,
    chat,
    config: () => config,
    metrics: { ...noopMetrics, interaction: (outcome) => outcomes.push(outcome) },
    logger,
    respond:
      o.respond ??
      (async (url, body) => {
        responses.push({ url, body });
      }),
    maxBodyBytes: 64 * 1024,
  });
  const server = await startHealthServer({
    host: '127.0.0.1',
    port: 0,
    readiness: () => {
      throw new Error('not asked');
    },
    metrics: { contentType: 'text/plain', metrics: async () => '' },
    interactivity: interactivity.handle,
  });
  running = server;
  const post = async (body: string, headers: Record<string, string>) => {
    const res = await fetch(`${server.url}/slack/interactivity`, { method: 'POST', headers, body });
    return { status: res.status, body: await res.text() };
  };
  return {
    server,
    interactivity,
    clock,
    mutes,
    chat,
    outcomes,
    responses,
    logger,
    post,
    async click(c) {
      const payload = blockActionsPayload({
        channel,
        message: message(c.listingId ?? '42'),
        actionId: 'listing_menu',
        value: c.value,
        user: c.user ?? { id: 'U0ANA', name: 'ana' },
        responseUrl: `${API_URL.replace('/api/', '')}/_standin/respond/R1`,
        nowMs: clock.now(),
      });
      const request = interactionRequest(c.secret ?? SECRET, c.atMs ?? clock.now(), payload);
      return { ...(await post(request.body, request.headers)), request };
    },
  };
}

/** A mute store whose `add` answers only once `release()` is called (a slow store). */
function slowMuteStore(): { slow: MuteStore; release: () => void } {
  let answer: () => void = () => {};
  const memory = createMemoryMuteStore({ clock: createManualClock() });
  const slow: MuteStore = {
    ...memory,
    add: (m) => new Promise((resolve) => (answer = () => resolve(memory.add(m)))),
  };
  return { slow, release: () => answer() };
}

describe('interactivity: the signature gate', () => {
  it('refuses a forged signature with 401, counts it, and mutes nothing', async () => {
    const s = await setup();
    const res = await s.click({
      value: optionValue('42', 'Mute this listing for 24 h'),
      secret: 'not the secret',
    });
    expect(res.status).toBe(401);
    expect(s.outcomes).toEqual(['forged']);
    expect(await s.mutes.list(s.clock.now())).toEqual([]);
    expect(s.chat.calls).toEqual([]);
  });

  it('refuses a request signed more than 5 minutes ago (a replay of a captured one), and one from the future', async () => {
    const s = await setup();
    const value = optionValue('42', 'Mute this listing for 24 h');
    expect((await s.click({ value, atMs: s.clock.now() - 5 * 60_000 - 1000 })).status).toBe(401);
    expect((await s.click({ value, atMs: s.clock.now() + 5 * 60_000 + 1000 })).status).toBe(401);
    expect(s.outcomes).toEqual(['stale', 'stale']);
    expect(await s.mutes.list(s.clock.now())).toEqual([]);
  });

  it('acts on a signed request once: the same request again is a replay (401, counted)', async () => {
    const s = await setup();
    const first = await s.click({ value: optionValue('42', 'Mute this listing for 1 h') });
    expect(first.status).toBe(200);
    await s.interactivity.idle();
    const again = await s.post(first.request.body, first.request.headers);
    expect(again.status).toBe(401);
    expect(s.outcomes).toEqual(['muted', 'replayed']);
    expect(await s.mutes.list(s.clock.now())).toHaveLength(1);
  });

  it('refuses missing or misshapen headers (401), a signed body that is not a click (400), and a body past the cap (413)', async () => {
    const s = await setup();
    const form = 'content-type';
    expect((await s.post('payload=%7B%7D', { [form]: 'application/x-www-form-urlencoded' })).status).toBe(
      401,
    );
    const ts = String(Math.floor(s.clock.now() / 1000));
    expect(
      (await s.post('payload=x', { 'x-slack-request-timestamp': ts, 'x-slack-signature': 'v0=nothex' }))
        .status,
    ).toBe(401);
    for (const body of [
      'payload=not-json',
      'nothing=here',
      `payload=${encodeURIComponent('{"type":"view_submission"}')}`,
    ]) {
      const headers = {
        'x-slack-request-timestamp': ts,
        'x-slack-signature': signSlackRequest(SECRET, ts, body),
      };
      expect((await s.post(body, headers)).status, body).toBe(400);
    }
    const huge = `payload=${'x'.repeat(70 * 1024)}`;
    const res = await s.post(huge, {
      'x-slack-request-timestamp': ts,
      'x-slack-signature': signSlackRequest(SECRET, ts, huge),
    });
    expect(res.status).toBe(413);
    expect(s.outcomes).toEqual([
      'malformed',
      'malformed',
      'malformed',
      'malformed',
      'malformed',
      'too-large',
    ]);
    expect(await s.mutes.list(s.clock.now())).toEqual([]);
  });

  it('refuses a response_url that is neither Slack’s nor the API’s origin (400)', async () => {
    const s = await setup();
    const payload = blockActionsPayload({
      channel,
      message: message('42'),
      actionId: 'listing_menu',
      value: optionValue('42', 'Why'),
      user: { id: 'U0ANA', name: 'ana' },
      responseUrl: 'http://169.254.169.254/latest/meta-data',
      nowMs: s.clock.now(),
    });
    const request = interactionRequest(SECRET, s.clock.now(), payload);
    expect((await s.post(request.body, request.headers)).status).toBe(400);
    expect(s.responses).toEqual([]);
  });

  it('never logs the secret or the signature', async () => {
    const s = await setup();
    const value = optionValue('42', 'Mute this listing for 24 h');
    const forged = await s.click({ value, secret: 'x' });
    const ok = await s.click({ value });
    await s.interactivity.idle();
    const logged = JSON.stringify(s.logger.lines);
    expect(logged).not.toContain(SECRET);
    expect(logged).not.toContain(forged.request.headers['x-slack-signature']);
    expect(logged).not.toContain(ok.request.headers['x-slack-signature']);
    expect(s.logger.lines.some((l) => l.msg === 'interaction refused')).toBe(true);
  });
});

describe('interactivity: acting on a click', () => {
  it('mutes the listing in the message’s channel for the chosen time, by the clicker, and confirms in the thread', async () => {
    const s = await setup();
    const res = await s.click({ value: optionValue('42', 'Mute this listing for 24 h') });
    expect(res).toMatchObject({ status: 200, body: '' });
    await s.interactivity.idle();
    expect(await s.mutes.list(s.clock.now())).toEqual([
      expect.objectContaining({
        scope: 'listing',
        listingId: '42',
        channel: 'sales-alerts',
        by: 'ana',
        until: s.clock.now() + 86_400_000,
      }),
    ]);
    expect(s.chat.calls).toHaveLength(1);
    const [call] = s.chat.calls;
    expect(call).toMatchObject({ channel: 'C0SALES', threadTs: '1767225600.000100' });
    expect(call?.payload.text).toBe(
      '@ana muted *listing #42* in sales-alerts until 2026-01-02 00:00:00 UTC (24 h)',
    );
    expect(s.outcomes).toEqual(['muted']);
  });

  it('answers 200 before the mute is written (a slow store does not keep Slack waiting)', async () => {
    const { slow, release } = slowMuteStore();
    const s = await setup({ mutes: slow });
    const res = await s.click({ value: optionValue('42', 'Mute this listing for 7 d') });
    expect(res.status).toBe(200);
    expect(s.outcomes).toEqual([]);
    release();
    await s.interactivity.idle();
    expect(s.outcomes).toEqual(['muted']);
  });

  it('says so ephemerally when the store does not answer, and counts a failure', async () => {
    const clock = createManualClock();
    const broken: MuteStore = {
      ...createMemoryMuteStore({ clock }),
      add: async () => {
        throw new NotifierError('STORE_UNAVAILABLE', 'redis down');
      },
    };
    const s = await setup({ mutes: broken });
    expect((await s.click({ value: optionValue('42', 'Mute this listing for 1 h') })).status).toBe(200);
    await s.interactivity.idle();
    expect(s.outcomes).toEqual(['failed']);
    expect(s.chat.calls).toEqual([]);
    expect(s.responses[0]?.body).toMatchObject({
      response_type: 'ephemeral',
      text: expect.stringMatching(/^Not muted/),
    });
  });

  it('answers "Why did I get this?" to the clicker alone, with the rule that sent it and the mute status', async () => {
    const s = await setup();
    await s.mutes.add({
      scope: 'listing',
      listingId: '42',
      channel: 'sales-alerts',
      by: 'bo',
      until: s.clock.now() + 60_000,
    });
    expect((await s.click({ value: optionValue('42', 'Why') })).status).toBe(200);
    await s.interactivity.idle();
    expect(s.responses).toHaveLength(1);
    const [answer] = s.responses;
    expect(answer?.url).toBe('http://127.0.0.1:1/_standin/respond/R1');
    expect(answer?.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    const text = JSON.stringify(answer?.body.blocks);
    expect(text).toContain('*Rule “price moved”* matched (field price) -&gt; sales-alerts');
    expect(text).toContain('by @bo until 2026-01-01T00:01:00Z');
    expect(text).toContain('listing-notifier explain --config FILE --listing 42');
    expect(s.outcomes).toEqual(['explained']);
    expect(s.chat.calls).toEqual([]);
  });

  it('keeps hostile listing ids and user names escaped in the confirmation and the answer', async () => {
    const s = await setup();
    const id = '<!channel> & <@U0ADMIN>';
    await s.click({
      listingId: id,
      value: optionValue(id, 'Mute this listing for 1 h'),
      user: { id: 'U0EVIL', name: '<!here>' },
    });
    await s.click({ listingId: id, value: optionValue(id, 'Why') });
    await s.interactivity.idle();
    expect(s.outcomes).toEqual(['muted', 'explained']);
    const confirmation = s.chat.calls[0]?.payload as SlackPayload;
    expect(checkPayload(confirmation, { forbidMarkup: true })).toEqual([]);
    expect(confirmation.text).toContain(
      '@&lt;!here&gt; muted *listing #&lt;!channel&gt; &amp; &lt;@U0ADMIN&gt;*',
    );
    const answer = s.responses[0]?.body as unknown as SlackPayload;
    expect(checkPayload({ text: answer.text, blocks: answer.blocks }, { forbidMarkup: true })).toEqual([]);
    expect(JSON.stringify(answer.blocks)).toContain('Muted now');
  });

  it('ignores a click on "View listing" and a menu of a channel the rules no longer have (200, nothing done)', async () => {
    const s = await setup();
    const payload = blockActionsPayload({
      channel,
      message: message('42'),
      actionId: 'view_listing',
      user: { id: 'U0ANA', name: 'ana' },
      responseUrl: 'https://hooks.slack.com/actions/T/1/x',
      nowMs: s.clock.now(),
    });
    const view = interactionRequest(SECRET, s.clock.now(), payload);
    expect((await s.post(view.body, view.headers)).status).toBe(200);
    const stale = blockActionsPayload({
      channel,
      message: {
        ...message('42'),
        blocks: [
          {
            type: 'actions',
            elements: [
              {
                type: 'overflow',
                action_id: 'listing_menu',
                options: [
                  { text: { type: 'plain_text', text: 'x' }, value: '["m","24h","gone-channel","42"]' },
                ],
              },
            ],
          },
        ],
      },
      actionId: 'listing_menu',
      value: '["m","24h","gone-channel","42"]',
      user: { id: 'U0ANA', name: 'ana' },
      responseUrl: 'https://hooks.slack.com/actions/T/1/x',
      nowMs: s.clock.now() + 1,
    });
    const gone = interactionRequest(SECRET, s.clock.now(), stale);
    expect((await s.post(gone.body, gone.headers)).status).toBe(200);
    await s.interactivity.idle();
    expect(s.outcomes).toEqual(['ignored', 'ignored']);
    expect(await s.mutes.list(s.clock.now())).toEqual([]);
    expect(s.chat.calls).toEqual([]);
  });

  it('is off without the handler: 404', async () => {
    const server = await startHealthServer({
      host: '127.0.0.1',
      port: 0,
      readiness: () => {
        throw new Error('not asked');
      },
      metrics: { contentType: 'text/plain', metrics: async () => '' },
    });
    running = server;
    const res = await fetch(`${server.url}/slack/interactivity`, { method: 'POST', body: 'payload=x' });
    expect(res.status).toBe(404);
  });

  it('idle() waits for the clicks it acknowledged (the service closes the store after it)', async () => {
    const { slow, release } = slowMuteStore();
    const s = await setup({ mutes: slow });
    await s.click({ value: optionValue('42', 'Mute this listing for 1 h') });
    let idle = false;
    void s.interactivity.idle().then(() => (idle = true));
    await stays(() => !idle, 'idle while the mute is being written');
    release();
    await settled(() => idle, 'idle once it is written');
    expect(s.outcomes).toEqual(['muted']);
  });
});
