import { describe, expect, it } from 'vitest';
import { createRoutingDestination } from '../../../src/adapters/destinations.ts';
import { deadLetterHeaders } from '../../../src/adapters/kafka-dead-letter.ts';
import { teamsMessage } from '../../../src/adapters/teams-card.ts';
import { parseDlqArgs } from '../../../src/cli/dlq-args.ts';
import { type Deliver, redrive } from '../../../src/cli/dlq-redrive.ts';
import { parseConfig } from '../../../src/config/index.ts';
import { NotifierError } from '../../../src/domain/errors.ts';
import type { OutboundMessage } from '../../../src/domain/message.ts';
import type { SourceRecord } from '../../../src/domain/record.ts';
import { createPipeline } from '../../../src/pipeline/index.ts';
import { noopLogger, type TopicReader } from '../../../src/ports/index.ts';
import { createFakeChat } from '../../support/fake-chat.ts';
import { createManualClock } from '../../support/fakes.ts';
import { decimalBase64, makePayload, makeRecord, makeRow } from '../../support/records.ts';
import { captureIo } from './support.ts';

const SECRET = `whsec_${Buffer.from('redrive secret, thirty-two bytes').toString('base64')}`;
const HOOK = 'webhook:LN_HOOK_URL:LN_HOOK_SECRET';
const TEAMS = 'teams:LN_TEAMS_URL';
const env = {
  LN_HOOK_URL: 'https://hooks.example/in',
  LN_HOOK_SECRET: SECRET,
  LN_TEAMS_URL: 'https://t.example',
};
const config = parseConfig(
  JSON.stringify({
    source: { topics: ['monolith.public.listings'], groupId: 'truth-redrive' },
    channels: {
      'sales-hook': { type: 'webhook', urlEnv: 'LN_HOOK_URL', secretEnv: 'LN_HOOK_SECRET' },
      'sales-teams': { type: 'teams', urlEnv: 'LN_TEAMS_URL' },
    },
    rules: [{ name: 'price moved', match: { field: 'price' }, channels: ['sales-hook', 'sales-teams'] }],
  }),
  'rules.json',
);

/** A config naming no secured connection: plaintext Kafka, no registry credentials. */
const connections = { kafka: {}, registry: {}, store: {}, slack: {}, secrets: [] };

const original = makeRecord({
  offset: '41',
  payload: makePayload({
    before: makeRow({ lst_id: 31, prc_amt: decimalBase64('19.99', 2) }),
    after: makeRow({ lst_id: 31, prc_amt: decimalBase64('15.49', 2) }),
  }),
});

/** The letter the service's sink writes when `channel` refused the message (kafka-dead-letter.ts). */
const letterFor = (channel: string, offset: string): SourceRecord => ({
  ...original,
  topic: 'monolith.public.listings.dlq',
  offset,
  // As the reader hands them back: one value per header (toSourceRecord).
  headers: Object.fromEntries(
    Object.entries(
      deadLetterHeaders(
        original,
        new NotifierError('SLACK_TRANSIENT', 'the receiver answered 503', { details: { channel } }),
        1_767_225_600_000,
        channel,
      ),
    ).map(([name, value]) => [name, Array.isArray(value) ? value.at(-1) : value]),
  ),
});

/** A TopicReader holding `letters` on partition 0 of the dead-letter topic. */
function readerOf(letters: SourceRecord[]): TopicReader {
  return {
    topicExists: async () => true,
    watermarks: async () => [{ partition: 0, low: '0', high: String(letters.length) }],
    committed: async () => [{ partition: 0, offset: '-1' }],
    members: async () => 0,
    offsetsAt: async () => [],
    fetchRecord: async () => ({ kind: 'gone', reason: 'not used' }),
    async read(options) {
      for (const letter of letters)
        await options.onRecord(letter, { commit: async () => {}, stopPartition: () => {} });
    },
    close: async () => {},
  };
}

/** The routing destination `run` uses, its webhook posts caught at fetch: the bodies as sent. */
function capturedDestination() {
  const bodies: unknown[] = [];
  const destination = createRoutingDestination({
    slack: {
      post: async () => ({ ts: 'slack' }),
      upload: async () => ({ fileId: 'slack' }),
    },
    env,
    clock: createManualClock(),
    fetch: async (_url, init) => {
      bodies.push(JSON.parse(String(init?.body)));
      return new Response('', { status: 200 });
    },
  });
  return { destination, bodies };
}

describe('dlq redrive to a webhook or Teams channel', () => {
  it('webhook redrive sends the wrong event type: a redriven change is the listing.changed event run sends', async () => {
    // What `run` sends for the change: the pipeline's message, posted through the routing destination.
    const outcome = await createPipeline(config).process(original);
    if (outcome.kind !== 'notify') throw new Error(`expected notify, got ${outcome.reason}`);
    const hookMessage = outcome.messages.find((m) => m.channel === HOOK);
    if (hookMessage === undefined) throw new Error('no webhook message');
    const asRun = capturedDestination();
    await asRun.destination.post(HOOK, hookMessage.payload);
    expect(asRun.bodies).toEqual([expect.objectContaining({ type: 'listing.changed' })]);

    const asRedrive = capturedDestination();
    const delivered: OutboundMessage[] = [];
    const deliverer: Deliver = {
      async deliver(message) {
        delivered.push(message);
        const { ts } = await asRedrive.destination.post(message.channel, message.payload);
        return { ok: true, ts };
      },
    };
    const io = captureIo();
    const args = parseDlqArgs(['redrive', '-c', 'rules.json'], 1_767_225_600_000);
    if ('error' in args) throw new Error(args.error);
    const code = await redrive({
      args,
      config,
      reader: readerOf([letterFor(HOOK, '0')]),
      io,
      env,
      clock: createManualClock(1_796_000_000_000),
      logger: noopLogger,
      connections,
      deliverer,
    });
    expect(io.out).toEqual([`redriven          monolith.public.listings.dlq:0:0 -> ${HOOK}`]);
    expect(code).toBe(0);
    // The same event, byte for byte: same type and data, so the same webhook-id too.
    expect(asRedrive.bodies).toEqual(asRun.bodies);
    // Slack still gets the late mark in its text and blocks.
    expect(delivered[0]?.payload.text).toMatch(/^Late delivery: /);
  });

  it('a redriven Teams change stays a change card and says it is late', async () => {
    const delivered: OutboundMessage[] = [];
    const args = parseDlqArgs(['redrive', '-c', 'rules.json'], 1_767_225_600_000);
    if ('error' in args) throw new Error(args.error);
    await redrive({
      args,
      config,
      reader: readerOf([letterFor(TEAMS, '0')]),
      io: captureIo(),
      env,
      clock: createManualClock(1_796_000_000_000),
      logger: noopLogger,
      connections,
      deliverer: {
        async deliver(message) {
          delivered.push(message);
          return { ok: true, ts: '1' };
        },
      },
    });
    const [message] = delivered;
    if (message === undefined) throw new Error('nothing delivered');
    const card = teamsMessage(message.payload).attachments[0]?.content;
    const texts = (card?.body ?? []).map((e) => (e.type === 'TextBlock' ? String(e.text) : e.type));
    // A change card (its facts), with the late line under the header (Markdown-escaped for the card).
    expect(texts[1]).toMatch(/^Late delivery \\\(redriven 2026-\d\d-\d\d .*\): changed at /);
    expect(texts).toContain('FactSet');
  });
});

describe("dlq redrive's own composition (no deliverer passed)", () => {
  it('a redriven webhook or Teams letter goes to its webhook or Teams receiver, as run sends it, not to Slack', async () => {
    const posts: Array<{ url: string; body: unknown }> = [];
    const slack = createFakeChat();
    let tokenChecks = 0;
    const args = parseDlqArgs(['redrive', '-c', 'rules.json'], 1_767_225_600_000);
    if ('error' in args) throw new Error(args.error);
    const io = captureIo();
    const code = await redrive({
      args,
      config,
      connections,
      reader: readerOf([letterFor(HOOK, '0'), letterFor(TEAMS, '1')]),
      io,
      env: { ...env, SLACK_BOT_TOKEN: 'xoxb-redrive' },
      clock: createManualClock(1_796_000_000_000),
      logger: noopLogger,
      // Fakes at the edge only: the destinations and scheduler between them are the ones run builds.
      adapters: {
        slack: {
          ...slack,
          authTest: async () => {
            tokenChecks += 1;
            return { ok: true };
          },
        },
        fetch: async (url, init) => {
          posts.push({ url: String(url), body: JSON.parse(String(init?.body)) });
          return new Response('', { status: 200 });
        },
      },
    });
    expect(io.err.at(-1)).toBe('group truth-redrive-dlq-redrive: redriven 2');
    expect(code).toBe(0);
    expect(posts.map((p) => p.url)).toEqual([env.LN_HOOK_URL, env.LN_TEAMS_URL]);
    expect(posts[0]?.body).toEqual(expect.objectContaining({ type: 'listing.changed' }));
    expect(posts[1]?.body).toEqual(expect.objectContaining({ type: 'message' }));
    // The token is still checked before anything is delivered; Slack itself is sent nothing.
    expect(tokenChecks).toBe(1);
    expect(slack.calls).toEqual([]);
  });
});
