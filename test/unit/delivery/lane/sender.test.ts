/**
 * The sender alone (src/delivery/lane/sender.ts): what an error thrown while sending an item does, by
 * dispositionOf's table, and the ledger and thread ports around the calls.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../../src/config/index.ts';
import { createMemoryAnchors } from '../../../../src/delivery/anchors.ts';
import { attach, type Item, newDigest, newSingle } from '../../../../src/delivery/lane/item.ts';
import { createLedgerClaims } from '../../../../src/delivery/lane/ledger-claim.ts';
import { createSender, failureOutcome } from '../../../../src/delivery/lane/sender.ts';
import { createListingThreads } from '../../../../src/delivery/lane/threads.ts';
import { createMemoryPaceGate } from '../../../../src/delivery/pace-gate.ts';
import { testRetryPolicy } from '../../../../src/delivery/retry-policy.ts';
import { NotifierError } from '../../../../src/domain/errors.ts';
import { createComposer } from '../../../../src/pipeline/compose.ts';
import {
  type DeliveryLedger,
  type Fate,
  type MessageComposer,
  noopLogger,
  noopMetrics,
  type Share,
} from '../../../../src/ports/index.ts';
import { dec, makeUpdate } from '../../../support/events.ts';
import { createFakeChat, type FakeChat, slackErrors } from '../../../support/fake-chat.ts';
import { createManualClock } from '../../../support/fakes.ts';

const config = parseConfig(
  'rules:\n  - { name: price moved, match: { field: price }, channels: [sales-alerts] }\n',
  'sender-test',
);
const payload = { text: 'hello', blocks: [] };

const share = (origin?: string): Share & { fates: Fate[] } => {
  const fates: Fate[] = [];
  return {
    fates,
    joined: () => {},
    settle: (fate) => fates.push(fate),
    signal: new AbortController().signal,
    ...(origin === undefined ? {} : { origin }),
  };
};

function setup(options: { chat?: FakeChat; composer?: MessageComposer; ledger?: DeliveryLedger } = {}) {
  const clock = createManualClock(0);
  const chat = options.chat ?? createFakeChat({ clock });
  const deps = { channel: '#sales-alerts', metrics: noopMetrics, logger: noopLogger };
  const sender = createSender({
    ...deps,
    channelKey: 'sales-alerts',
    destination: chat,
    composer: options.composer ?? createComposer(() => config),
    gates: {
      pace: createMemoryPaceGate(clock),
      channel: { key: 'channel:#sales-alerts', cap: 100, intervalMs: 1, burst: 100 },
      workspace: { key: 'workspace', cap: 100, intervalMs: 1, burst: 100 },
    },
    completeList: 'file',
    digestWindowMs: 30_000,
    clock,
    retry: testRetryPolicy,
    random: () => 0.5,
    ledger: createLedgerClaims({ ...deps, ledger: options.ledger, clock }),
    threads: createListingThreads({
      ...deps,
      threads: { anchors: createMemoryAnchors(clock), windowMs: 60_000 },
    }),
  });
  return { clock, chat, sender };
}

const single = (listingKey: string | null = '1'): Item => {
  const item = newSingle('single-1', 'normal', listingKey, undefined, payload);
  attach(item, share());
  return item;
};

const digestOf = (ids: number[]): Item => {
  const item = newDigest('digest-1', 0);
  for (const id of ids) {
    const event = makeUpdate(
      { prc_amt: dec('85.00') },
      { prc_amt: dec('100.00'), lst_ttl: `Listing ${id}` },
      { listingId: String(id), key: { lst_id: id } },
    );
    const s = share(`listings/0/${id}`);
    item.entries.set(String(id), { first: event, last: event, shares: [s] });
    attach(item, s);
  }
  return item;
};

describe('failureOutcome: what an error thrown while sending does (dispositionOf)', () => {
  const item = digestOf([1]);
  it('fails a RENDER_FAILED item alone (dead-letter): it does not stop delivery', () => {
    const error = new NotifierError('RENDER_FAILED', 'template broke');
    expect(failureOutcome(error, item, false)).toEqual({ kind: 'settled', fate: { kind: 'failed', error } });
  });
  it('makes a bug met with this data PROCESSING_FAILED for the digest stage (dead-letter)', () => {
    expect(failureOutcome(new RangeError('deep'), item, false)).toMatchObject({
      kind: 'settled',
      fate: { kind: 'failed', error: { code: 'PROCESSING_FAILED', details: { stage: 'digest' } } },
    });
  });
  it('stops delivery on a stop error', () => {
    const error = new NotifierError('SLACK_AUTH', 'token revoked');
    expect(failureOutcome(error, item, false)).toEqual({ kind: 'stopped', error });
  });
  it('does nothing once the item’s signal aborted: its records are read again', () => {
    const error = new NotifierError('SLACK_AUTH', 'token revoked');
    expect(failureOutcome(error, item, true)).toEqual({ kind: 'given-up' });
  });
});

describe('createSender', () => {
  it('replies in the listing’s thread after its first message', async () => {
    const { chat, sender } = setup();
    const signal = new AbortController().signal;
    const first = await sender.send(single(), signal);
    const second = await sender.send(single(), signal);
    const other = await sender.send(single(null), signal);
    expect([first, second, other].map((o) => o.kind)).toEqual(['settled', 'settled', 'settled']);
    const firstTs = chat.calls[0]?.ts;
    expect(chat.calls.map((c) => c.threadTs)).toEqual([undefined, firstTs, undefined]);
  });

  it('a digest composer that throws RENDER_FAILED fails the digest, and the next item goes out', async () => {
    const real = createComposer(() => config);
    let broken = true;
    const composer: MessageComposer = {
      ...real,
      digest: (...args) => {
        if (broken) throw new NotifierError('RENDER_FAILED', 'digest template broke');
        return real.digest(...args);
      },
    };
    const { chat, sender } = setup({ composer });
    const signal = new AbortController().signal;
    expect(await sender.send(digestOf([1, 2]), signal)).toMatchObject({
      kind: 'settled',
      fate: { kind: 'failed', error: { code: 'RENDER_FAILED' } },
    });
    broken = false;
    expect(await sender.send(digestOf([3]), signal)).toMatchObject({
      kind: 'settled',
      fate: { kind: 'delivered', folded: 'digest' },
    });
    expect(chat.delivered().some((c) => c.file !== undefined)).toBe(true);
  });

  it('stops on SLACK_AUTH and is given up when the signal aborts mid-retry', async () => {
    const { clock, chat, sender } = setup();
    chat.failOn(1, slackErrors.auth('token_revoked'));
    expect(await sender.send(single(), new AbortController().signal)).toMatchObject({
      kind: 'stopped',
      error: { code: 'SLACK_AUTH' },
    });
    for (let n = 2; n <= 100; n += 1) chat.failOn(n, slackErrors.transient());
    const controller = new AbortController();
    const outcome = sender.send(single(), controller.signal);
    await clock.advance(100);
    controller.abort(new Error('revoked'));
    expect(await outcome).toEqual({ kind: 'given-up' });
  });

  it('records what was accepted, and sends nothing another sender delivered meanwhile', async () => {
    const recorded = new Set<string>();
    const ledger: DeliveryLedger = {
      seen: async () => new Set(),
      claim: async (keys) =>
        new Map(keys.map((k) => [k, recorded.has(k) ? ('done' as const) : ('mine' as const)])),
      record: async (keys) => {
        for (const k of keys) recorded.add(k);
      },
      release: async () => {},
    };
    const { chat, sender } = setup({ ledger });
    const signal = new AbortController().signal;
    const item = (): Item => {
      const it = newSingle('single-1', 'normal', '1', undefined, payload);
      attach(it, share('listings/0/7'));
      return it;
    };
    await sender.send(item(), signal);
    expect([...recorded]).toEqual(['listings/0/7|#sales-alerts']);
    expect(await sender.send(item(), signal)).toEqual({
      kind: 'settled',
      fate: { kind: 'delivered', folded: 'no', ts: '' },
    });
    expect(chat.calls).toHaveLength(1);
  });
});
