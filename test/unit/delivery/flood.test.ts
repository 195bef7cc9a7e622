/**
 * Flood control through the real scheduler, composer and pipeline decisions, on a fake chat and a manual
 * clock: coalescing, net zero, digests with their complete list, urgent first, lifting out of a digest,
 * and fates (what commits) for each.
 */
import { getEventListeners } from 'node:events';
import { beforeEach, describe, expect, it } from 'vitest';
import { type Config, parseConfig } from '../../../src/config/index.ts';
import { testRetryPolicy } from '../../../src/delivery/retry-policy.ts';
import { createDeliveryScheduler, type FloodOptions } from '../../../src/delivery/scheduler.ts';
import type { ChangeEvent } from '../../../src/domain/change.ts';
import { isNotifierError } from '../../../src/domain/errors.ts';
import { createComposer } from '../../../src/pipeline/compose.ts';
import { decide } from '../../../src/pipeline/index.ts';
import type { DeliveryLedger, Fate, MessageComposer } from '../../../src/ports/index.ts';
import { advanceAfterStart, testFlood } from '../../support/delivery.ts';
import { dec, makeUpdate } from '../../support/events.ts';
import { createFakeChat, type FakeChat, slackErrors } from '../../support/fake-chat.ts';
import { createManualClock, type ManualClock } from '../../support/fakes.ts';

// One channel for prices (normal) and unpublishing (urgent), so their order in it can be seen.
const config: Config = parseConfig(
  [
    'rules:',
    '  - { name: price moved, match: { field: price }, channels: [sales-alerts] }',
    '  - { name: unpublished, match: { field: status, from: [A], to: [U] }, channels: [sales-alerts], priority: urgent }',
  ].join('\n'),
  'flood-test',
);

const flood: FloodOptions = testFlood;

function setup(
  options: {
    chat?: FakeChat;
    flood?: Partial<FloodOptions>;
    composer?: MessageComposer;
    ledger?: DeliveryLedger;
  } = {},
) {
  const chat = options.chat ?? createFakeChat({ clock: clock });
  const scheduler = createDeliveryScheduler({
    destination: chat,
    composer: options.composer ?? createComposer(() => config),
    flood: { ...flood, ...options.flood },
    clock: clock,
    perChannel: { intervalMs: 1000, cap: 1 },
    burst: 3,
    workspace: { intervalMs: 1000, cap: 20 },
    maxQueuedPerChannel: 200,
    retry: testRetryPolicy,
    random: () => 0.5,
    ...(options.ledger === undefined ? {} : { ledger: options.ledger }),
  });
  const fates: Array<Fate | { error: unknown }> = [];
  /** Routes `event` through the real pipeline decision and submits its messages. */
  const submit = (event: ChangeEvent, signal = new AbortController().signal, origin?: string): void => {
    const outcome = decide(event, config);
    if (outcome.kind !== 'notify') throw new Error(`expected a notification, got ${outcome.reason}`);
    for (const message of outcome.messages) {
      const index = fates.length;
      fates.push({ error: 'pending' });
      scheduler.submit(message, outcome.event, signal, origin).fate.then(
        (fate) => {
          fates[index] = fate;
        },
        (error: unknown) => {
          fates[index] = { error };
        },
      );
    }
  };
  return { chat, scheduler, fates, submit };
}

const price = (id: number, before: string, after: string, title = `Listing ${id}`): ChangeEvent =>
  makeUpdate(
    { prc_amt: dec(after) },
    { prc_amt: dec(before), lst_ttl: title },
    {
      listingId: String(id),
      key: { lst_id: id },
    },
  );

const unpublish = (id: number): ChangeEvent =>
  makeUpdate({ LST_STAT_CD: 'U' }, { LST_STAT_CD: 'A' }, { listingId: String(id), key: { lst_id: id } });

/** Keeps the channel's burst busy so the next messages wait in the queue. */
const occupy = (submit: (e: ChangeEvent) => void) => {
  for (const id of [901, 902, 903]) submit(price(id, '10.00', '20.00'));
};

const texts = (chat: FakeChat) => chat.delivered().map((c) => c.payload.text);

/** The manual clock every test's scheduler and fake chat run on (time moves only by clock.advance). */
let clock: ManualClock;
beforeEach(() => {
  clock = createManualClock(0);
});

/** Time `ms` on, once what was just submitted ran up to its first wait (advanceAfterStart). */
const advance = (ms: number): Promise<void> => advanceAfterStart(clock, ms);

describe('coalescing', () => {
  it('turns two changes of a queued listing into one message with the net change', async () => {
    const { chat, scheduler, fates, submit } = setup();
    occupy(submit);
    submit(price(1, '120.00', '110.00'));
    submit(price(1, '110.00', '96.00'));
    await advance(5000);
    await scheduler.onIdle();
    const listing1 = texts(chat).filter((t) => t.includes('#1)'));
    expect(listing1).toHaveLength(1);
    expect(listing1[0]).toContain('$120.00');
    expect(listing1[0]).toContain('$96.00');
    expect(listing1[0]).toContain('-20');
    expect(fates.slice(3)).toEqual([
      expect.objectContaining({ kind: 'delivered', folded: 'coalesced' }),
      expect.objectContaining({ kind: 'delivered', folded: 'coalesced' }),
    ]);
  });

  it('drops the pending message when the listing changes back to where it started (netZero: drop)', async () => {
    const { chat, scheduler, fates, submit } = setup();
    occupy(submit);
    submit(price(1, '120.00', '110.00'));
    submit(price(1, '110.00', '120.00'));
    await advance(5000);
    await scheduler.onIdle();
    expect(texts(chat).filter((t) => t.includes('#1)'))).toEqual([]);
    expect(fates.slice(3).map((f) => ('kind' in f ? f.kind : f))).toEqual(['dropped', 'dropped']);
  });

  it('keeps both messages when the config says netZero: keep', async () => {
    const { chat, scheduler, submit } = setup({ flood: { netZero: 'keep' } });
    occupy(submit);
    submit(price(1, '120.00', '110.00'));
    submit(price(1, '110.00', '120.00'));
    await advance(5000);
    await scheduler.onIdle();
    expect(texts(chat).filter((t) => t.includes('#1)'))).toHaveLength(2);
  });

  it('does not touch a message already on its way: the next change is a message of its own', async () => {
    const { chat, scheduler, submit } = setup();
    submit(price(1, '120.00', '110.00')); // sent at once (burst)
    await advance(0);
    submit(price(1, '110.00', '96.00'));
    await advance(3000);
    await scheduler.onIdle();
    expect(texts(chat).filter((t) => t.includes('#1)'))).toHaveLength(2);
  });
});

describe('digests', () => {
  it("a digest cut by its size goes on as parts in the first part's thread: one top-level digest per window", async () => {
    const { chat, scheduler, fates, submit } = setup({ flood: { maxDigestItems: 50 } });
    for (let id = 1; id <= 300; id += 1) submit(price(id, '100.00', '85.00'));
    await advance(60_000);
    await scheduler.onIdle();
    const top = chat.delivered().filter((c) => c.threadTs === undefined);
    expect(top).toHaveLength(10); // 9 messages of their own and the digest's first part
    const digestTs = top[9]?.ts;
    const files = chat.delivered().filter((c) => c.file !== undefined);
    expect(files.length).toBeGreaterThanOrEqual(6);
    expect(files.every((f) => f.threadTs === digestTs)).toBe(true);
    const rows = files.flatMap((f) => (f.file?.content.toString('utf8') ?? '').split(/\r?\n/).slice(1));
    const ids = rows.map((r) => /^(\d+),/.exec(r)?.[1]).filter((id) => id !== undefined);
    expect(ids).toHaveLength(291);
    expect(new Set(ids).size).toBe(291);
    expect(fates.every((f) => 'kind' in f && f.kind === 'delivered')).toBe(true);
  });

  // Regression (issue 16): every folded record added abort listeners to its partition's signal, whose
  // list Node walks on each add; a 100,000-row bulk spent minutes there and the urgent change waited.
  it('a bulk folded into a digest keeps a few abort listeners on its partition signal, not one per record', async () => {
    const { chat, scheduler, fates, submit } = setup();
    const partition = new AbortController();
    for (let id = 1; id <= 2000; id += 1) submit(price(id, '100.00', '85.00'), partition.signal);
    // The queued singles and the open digest: one listener each (and the scheduler's one).
    expect(getEventListeners(partition.signal, 'abort').length).toBeLessThanOrEqual(12);
    await advance(30_000);
    await scheduler.onIdle();
    expect(getEventListeners(partition.signal, 'abort').length).toBeLessThanOrEqual(1);
    expect(fates.every((f) => 'kind' in f && f.kind === 'delivered')).toBe(true);
    expect(chat.delivered().filter((c) => c.file !== undefined)).toHaveLength(1);
  });

  it('folds the overflow into one digest with the complete list as a CSV in its thread', async () => {
    const { chat, scheduler, fates, submit } = setup();
    for (let id = 1; id <= 100; id += 1) submit(price(id, '100.00', id % 10 === 0 ? '110.00' : '85.00'));
    expect(scheduler.pendingByChannel()).toEqual({ '#sales-alerts': 9 });
    await advance(30_000);
    await scheduler.onIdle();

    const top = chat.delivered().filter((c) => c.threadTs === undefined);
    expect(top).toHaveLength(10); // 9 messages and the digest: the budget of 10 s at 1/s
    const digest = top[9];
    expect(digest?.payload.text).toMatch(/91/);
    const file = chat.delivered().find((c) => c.file !== undefined);
    expect(file?.threadTs).toBe(digest?.ts);
    const csv = file?.file?.content.toString('utf8') ?? '';
    for (let id = 10; id <= 100; id += 1) expect(csv).toMatch(new RegExp(`^${id},`, 'm'));
    expect(fates.every((f) => 'kind' in f && f.kind === 'delivered')).toBe(true);
    expect(fates.filter((f) => 'folded' in f && f.folded === 'digest')).toHaveLength(91);
  });

  it('keeps one digest open while a bulk streams in, and sends it once the changes pause', async () => {
    const { chat, scheduler, submit } = setup();
    for (let id = 1; id <= 20; id += 1) submit(price(id, '100.00', '90.00'));
    // Changes keep coming every 1.5 s (under the 2 s quiet period) for 9 s, within the 10 s window.
    for (let id = 21; id <= 26; id += 1) {
      await advance(1500);
      submit(price(id, '100.00', '90.00'));
    }
    await advance(60_000);
    await scheduler.onIdle();
    const files = chat.delivered().filter((c) => c.file !== undefined);
    expect(files).toHaveLength(1);
    const csv = files[0]?.file?.content.toString('utf8') ?? '';
    for (let id = 10; id <= 26; id += 1) expect(csv).toMatch(new RegExp(`^${id},`, 'm'));
    expect(chat.delivered().filter((c) => c.threadTs === undefined)).toHaveLength(10);
  });

  it('sends a digest at the end of its window even when changes never pause', async () => {
    const { chat, scheduler, submit } = setup();
    for (let id = 1; id <= 20; id += 1) submit(price(id, '100.00', '90.00'));
    for (let id = 21; id <= 35; id += 1) {
      await advance(1000);
      submit(price(id, '100.00', '90.00'));
    }
    await advance(60_000);
    await scheduler.onIdle();
    // The 10 s window closed one digest mid-stream; the rest went into a second one, with no messages
    // of their own in between (the flood went on).
    expect(chat.delivered().filter((c) => c.file !== undefined)).toHaveLength(2);
    expect(chat.delivered().filter((c) => c.threadTs === undefined)).toHaveLength(11);
  });

  it('pages the complete list into thread replies when files are off for the channel', async () => {
    const { chat, scheduler, submit } = setup({
      flood: { channels: { 'sales-alerts': { completeList: 'thread' } } },
    });
    for (let id = 1; id <= 300; id += 1) submit(price(id, '100.00', '85.00'));
    await advance(60_000);
    await scheduler.onIdle();
    const digest = chat.delivered().filter((c) => c.threadTs === undefined)[9];
    const replies = chat.delivered().filter((c) => c.threadTs === digest?.ts);
    expect(replies.length).toBeGreaterThan(0);
    expect(chat.delivered().some((c) => c.file !== undefined)).toBe(false);
    const listed = replies.map((r) => JSON.stringify(r.payload.blocks)).join('\n');
    for (let id = 10; id <= 300; id += 1) expect(listed).toContain(`Listing ${id}`);
  });

  it('coalesces a listing that changes again inside the digest: one line with the net change', async () => {
    const { chat, scheduler, submit } = setup();
    for (let id = 1; id <= 20; id += 1) submit(price(id, '100.00', '90.00'));
    submit(price(15, '90.00', '50.00'));
    await advance(30_000);
    await scheduler.onIdle();
    const csv =
      chat
        .delivered()
        .find((c) => c.file !== undefined)
        ?.file?.content.toString('utf8') ?? '';
    const rows = csv.split('\n').filter((line) => line.startsWith('15,'));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toContain('100.00');
    expect(rows[0]).toContain('50.00');
  });

  it('a digest refused for good fails every record it carries (they are dead-lettered per channel)', async () => {
    const chat = createFakeChat({ clock: clock }).failOn(10, slackErrors.permanent('channel_not_found'));
    const { scheduler, fates, submit } = setup({ chat });
    for (let id = 1; id <= 20; id += 1) submit(price(id, '100.00', '90.00'));
    await advance(30_000);
    await scheduler.onIdle();
    expect(fates.filter((f) => 'kind' in f && f.kind === 'failed')).toHaveLength(11);
    expect(fates.filter((f) => 'kind' in f && f.kind === 'delivered')).toHaveLength(9);
  });
});

describe('urgent changes', () => {
  it('go ahead of every normal message waiting in the channel', async () => {
    const { chat, scheduler, submit } = setup();
    for (let id = 1; id <= 50; id += 1) submit(price(id, '100.00', '90.00'));
    submit(unpublish(777));
    await advance(30_000);
    await scheduler.onIdle();
    const order = texts(chat);
    const urgentAt = order.findIndex((t) => t.includes('#777)'));
    // One message at a time per channel: the one already on its way goes first, the unpublish next.
    expect(urgentAt).toBe(1);
  });

  it('lift a listing out of the digest and send its net change first, keeping the listing’s order', async () => {
    const { chat, scheduler, fates, submit } = setup();
    for (let id = 1; id <= 30; id += 1) submit(price(id, '100.00', '90.00'));
    submit(
      makeUpdate(
        { LST_STAT_CD: 'U', prc_amt: dec('90.00') },
        { LST_STAT_CD: 'A', prc_amt: dec('90.00'), lst_ttl: 'Listing 25' },
        { listingId: '25', key: { lst_id: 25 } },
      ),
    );
    await advance(30_000);
    await scheduler.onIdle();
    const lifted = texts(chat).filter((t) => t.includes('#25)'));
    expect(lifted).toHaveLength(1);
    expect(lifted[0]).toContain('$100.00'); // the price change from the digest, now in the urgent message
    expect(lifted[0]).toContain('Unpublished');
    const csv =
      chat
        .delivered()
        .find((c) => c.file !== undefined)
        ?.file?.content.toString('utf8') ?? '';
    expect(csv).not.toMatch(/^25,/m);
    expect(fates.every((f) => 'kind' in f && f.kind === 'delivered')).toBe(true);
  });
});

describe('flood control off', () => {
  it('sends one message per change in order (the behaviour before flood control)', async () => {
    const { chat, scheduler, submit } = setup({ flood: { enabled: false } });
    for (let id = 1; id <= 15; id += 1) submit(price(id, '100.00', '90.00'));
    submit(price(1, '90.00', '80.00'));
    await advance(30_000);
    await scheduler.onIdle();
    expect(chat.delivered()).toHaveLength(16);
    expect(chat.delivered().some((c) => c.threadTs !== undefined)).toBe(false);
  });
});

describe('aborts', () => {
  it('a queued message whose records were all given up is never sent', async () => {
    const { chat, scheduler, fates, submit } = setup();
    occupy(submit);
    const revoked = new AbortController();
    submit(price(1, '120.00', '110.00'), revoked.signal);
    revoked.abort(new Error('partition revoked'));
    await advance(5000);
    await scheduler.onIdle();
    expect(texts(chat).filter((t) => t.includes('#1)'))).toEqual([]);
    expect(fates[3]).toEqual({ error: new Error('partition revoked') });
  });
});

describe('lane: an item that fails on its own', () => {
  // The sender's catch (src/delivery/lane/sender.ts `failureOutcome`): an item whose sending meets an
  // error that is not a 'stop' (a compose or digest bug met with this data, issue 19) fails alone, as
  // PROCESSING_FAILED, so its records are dead-lettered, and the lane goes on with the next item.
  it('a digest bug becomes a dead letter per folded record (PROCESSING_FAILED), and the lane goes on', async () => {
    const real = createComposer(() => config);
    let broken = true;
    const composer: MessageComposer = {
      slim: (e) => real.slim(e),
      net: (a, b) => real.net(a, b),
      single: (e, key) => real.single(e, key),
      digest: (key, events, options) => {
        // What deep data did to the noise fast path (issue 19, finding 1), met while composing.
        if (broken) throw new RangeError('Maximum call stack size exceeded');
        return real.digest(key, events, options);
      },
    };
    const { chat, scheduler, fates, submit } = setup({ composer });
    // 9 messages of their own within the budget (10 s at 1/s), the other 91 folded into a digest.
    for (let id = 1; id <= 100; id += 1) submit(price(id, '100.00', '85.00'));
    await advance(60_000);
    await scheduler.onIdle();

    const failed = fates.filter(
      (f): f is Extract<Fate, { kind: 'failed' }> => 'kind' in f && f.kind === 'failed',
    );
    expect(failed).toHaveLength(91);
    for (const f of failed) {
      expect(isNotifierError(f.error)).toBe(true);
      expect(f.error).toMatchObject({
        code: 'PROCESSING_FAILED',
        disposition: 'dead-letter',
        details: { stage: 'digest', name: 'RangeError' },
      });
    }
    expect(fates.filter((f) => 'kind' in f && f.kind === 'delivered')).toHaveLength(9);

    // The lane goes on (a stop would reject every later submit): the next change is delivered.
    broken = false;
    submit(price(500, '100.00', '85.00'));
    await advance(30_000);
    await scheduler.onIdle();
    expect(fates.at(-1)).toMatchObject({ kind: 'delivered' });
    expect(chat.delivered().some((c) => c.payload.text.includes('#500)'))).toBe(true);
  });
});

describe('a digest whose message went out before a crash, its file not', () => {
  it("goes on in that message's thread when its records are read again: the file, not a second message", async () => {
    // One store shared by the sender that dies and the one after it (Redis, in the service).
    const heads = new Map<string, string>();
    const recorded = new Set<string>();
    const ledger: DeliveryLedger = {
      seen: async (keys) => new Set(keys.filter((k) => recorded.has(k))),
      claim: async (keys) =>
        new Map(keys.map((k) => [k, recorded.has(k) ? ('done' as const) : ('mine' as const)])),
      record: async (keys) => {
        for (const k of keys) recorded.add(k);
      },
      release: async () => {},
      markHead: async (keys, ts) => {
        for (const k of keys) heads.set(k, ts);
      },
      heads: async (keys) =>
        new Map(
          keys.flatMap((k): Array<[string, string]> => {
            const ts = heads.get(k);
            return ts === undefined ? [] : [[k, ts]];
          }),
        ),
    };
    const bulk = Array.from({ length: 100 }, (_, i) => i + 1);
    const origin = (id: number) => `listings/0/${id}`;

    // The first sender posts its messages and the digest's message; its upload never returns (killed).
    const dying = createFakeChat({ clock: clock });
    dying.upload = () => new Promise(() => {});
    const first = setup({ chat: dying, ledger });
    for (const id of bulk) first.submit(price(id, '100.00', '85.00'), undefined, origin(id));
    await advance(30_000);
    const digest = dying
      .delivered()
      .find((c) => c.threadTs === undefined && c.payload.text.startsWith('Digest'));
    expect(digest?.ts).toBeDefined();
    expect(dying.delivered().filter((c) => c.file !== undefined)).toHaveLength(0);

    // Restarted: its records are read again (the ledger filter leaves out what was recorded).
    const chat = createFakeChat({ clock: clock });
    const second = setup({ chat, ledger });
    for (const id of bulk) {
      if (!recorded.has(`${origin(id)}|#sales-alerts`))
        second.submit(price(id, '100.00', '85.00'), undefined, origin(id));
    }
    await advance(30_000);
    await second.scheduler.onIdle();
    // No second digest message: the channel's budget is free again after the restart, so the first
    // records read again go as messages of their own; the rest are the file in the first message's thread.
    const top = chat.delivered().filter((c) => c.threadTs === undefined);
    expect(top.filter((c) => c.payload.text.startsWith('Digest'))).toHaveLength(0);
    const files = chat.delivered().filter((c) => c.file !== undefined);
    expect(files).toHaveLength(1);
    expect(files[0]?.threadTs).toBe(digest?.ts);
    const csv = files[0]?.file?.content.toString('utf8') ?? '';
    const inCsv = bulk.filter((id) => new RegExp(`^${id},`, 'm').test(csv));
    const alone = bulk.filter((id) => top.some((c) => c.payload.text.includes(`Listing ${id} `)));
    // Every listing of the first digest once: in the file or on its own, never both.
    expect([...inCsv, ...alone].sort((a, b) => a - b)).toEqual(bulk.filter((id) => id >= 10));
    expect(second.fates.every((f) => 'kind' in f && f.kind === 'delivered')).toBe(true);
  });
});
