/**
 * The per-listing throttle (config rules[].throttle, src/delivery/throttle.ts) through the real
 * scheduler, lane, composer and pipeline decisions, on a fake chat and a manual clock: past perListing
 * messages of its own in the window, a listing's changes go into the channel's digest; the window
 * slides; other listings, urgent changes and changes a rule without a throttle sends are not held back.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { type Config, parseConfig } from '../../../src/config/index.ts';
import { testRetryPolicy } from '../../../src/delivery/retry-policy.ts';
import { createDeliveryScheduler, type FloodOptions } from '../../../src/delivery/scheduler.ts';
import type { ChangeEvent } from '../../../src/domain/change.ts';
import { createComposer } from '../../../src/pipeline/compose.ts';
import { decide } from '../../../src/pipeline/index.ts';
import type { Fate, Submission } from '../../../src/ports/index.ts';
import { advanceAfterStart, testFlood } from '../../support/delivery.ts';
import { dec, makeUpdate } from '../../support/events.ts';
import { createFakeChat, type FakeChat } from '../../support/fake-chat.ts';
import { createManualClock, createRecordingMetrics, type ManualClock } from '../../support/fakes.ts';

const HOUR = 3_600_000;

const throttled: Config = parseConfig(
  [
    'rules:',
    '  - name: price moved',
    '    match: { field: price }',
    '    channels: [sales-alerts]',
    '    throttle: { perListing: 3, windowMs: 3600000 }',
    '  - { name: unpublished, match: { field: status, from: [A], to: [U] }, channels: [sales-alerts], priority: urgent }',
  ].join('\n'),
  'throttle-test',
);

const flood: FloodOptions = testFlood;

let clock: ManualClock;
beforeEach(() => {
  clock = createManualClock(0);
});

/** Time `ms` on, once what was just submitted ran up to its first wait (advanceAfterStart). */
const advance = (ms: number): Promise<void> => advanceAfterStart(clock, ms);

function setup(config: Config = throttled) {
  const chat: FakeChat = createFakeChat({ clock });
  const folds: string[] = [];
  const scheduler = createDeliveryScheduler({
    destination: chat,
    composer: createComposer(() => config),
    flood,
    clock,
    metrics: { ...createRecordingMetrics(), folded: (_channel, kind) => folds.push(kind) },
    perChannel: { intervalMs: 1000, cap: 1 },
    burst: 3,
    workspace: { intervalMs: 1000, cap: 20 },
    maxQueuedPerChannel: 200,
    retry: testRetryPolicy,
    random: () => 0.5,
  });
  const fates: Array<Fate | undefined> = [];
  const submissions: Submission[] = [];
  const submit = (event: ChangeEvent): void => {
    const outcome = decide(event, config);
    if (outcome.kind !== 'notify') throw new Error(`expected a notification, got ${outcome.reason}`);
    for (const message of outcome.messages) {
      const index = fates.length;
      fates.push(undefined);
      const submission = scheduler.submit(message, outcome.event, new AbortController().signal);
      submissions.push(submission);
      void submission.fate.then((fate) => {
        fates[index] = fate;
      });
    }
  };
  /** Submits the change and lets the channel send what it can (past the digest's quiet time). */
  const change = async (event: ChangeEvent, ms = 5000): Promise<void> => {
    submit(event);
    await advance(ms);
  };
  /** Lets every digest out: a digest a throttled listing opened collects for its whole window. */
  const finish = async (): Promise<void> => {
    await advance(flood.digestWindowMs);
    await scheduler.onIdle();
  };
  return { chat, scheduler, folds, fates, submissions, submit, change, finish };
}

/** Listing `id`'s price from `cents / 100` to 2 % lower (the default price field notifies from 1 %). */
const price = (id: number, step: number): ChangeEvent => {
  const before = (100 * 0.98 ** step).toFixed(2);
  const after = (100 * 0.98 ** (step + 1)).toFixed(2);
  return makeUpdate(
    { prc_amt: dec(after) },
    { prc_amt: dec(before), lst_ttl: `Listing ${id}` },
    { listingId: String(id), key: { lst_id: id } },
  );
};

const unpublish = (id: number): ChangeEvent =>
  makeUpdate({ LST_STAT_CD: 'U' }, { LST_STAT_CD: 'A' }, { listingId: String(id), key: { lst_id: id } });

/** Top-level messages of their own for listing `id` (digests carry no "(#id)" header). */
const ownMessages = (chat: FakeChat, id: number) =>
  chat
    .delivered()
    .filter((c) => c.threadTs === undefined && c.file === undefined && c.payload.text.includes(`(#${id})`));

/** The listing ids in the digests' CSV files, one per line. */
const csvListings = (chat: FakeChat): string[] =>
  chat
    .delivered()
    .filter((c) => c.file !== undefined)
    .flatMap((c) => (c.file?.content.toString('utf8') ?? '').split(/\r?\n/).slice(1))
    .map((line) => /^"?(\d+)"?,/.exec(line)?.[1])
    .filter((id): id is string => id !== undefined);

describe('lane: per-listing throttle', () => {
  it("sends a listing's 4th change in the window to the digest, its first three as messages of their own", async () => {
    const { chat, finish, folds, fates, submissions, change } = setup();
    for (let step = 0; step < 4; step += 1) await change(price(1, step));
    await finish();

    expect(ownMessages(chat, 1)).toHaveLength(3);
    expect(csvListings(chat)).toEqual(['1']);
    expect(fates.map((f) => (f?.kind === 'delivered' ? f.folded : f?.kind))).toEqual([
      'no',
      'no',
      'no',
      'digest',
    ]);
    expect(submissions.map((s) => s.throttled === true)).toEqual([false, false, false, true]);
    expect(folds).toEqual(['throttled']);
  });

  it('conveys the further changes of a flapping listing once: one digest line, their net change', async () => {
    const { chat, finish, fates, change } = setup();
    // A change a second: each of the first three goes out before the next arrives (burst 3).
    for (let step = 0; step < 8; step += 1) await change(price(1, step), 1000);
    await finish();

    expect(ownMessages(chat, 1)).toHaveLength(3);
    // Changes 4..8 in one digest (it collects for its whole window, not until a pause), as one line
    // from the 4th change's before to the 8th's after.
    const files = chat.delivered().filter((c) => c.file !== undefined);
    expect(files).toHaveLength(1);
    const [line] = (files[0]?.file?.content.toString('utf8') ?? '').split(/\r?\n/).slice(1);
    expect(line).toMatch(/^1,/);
    expect(line).toContain((100 * 0.98 ** 3).toFixed(2));
    expect(line).toContain((100 * 0.98 ** 8).toFixed(2));
    expect(fates.every((f) => f?.kind === 'delivered')).toBe(true);
  });

  it('sends a slow flapper’s throttled changes in one digest per window, not one per change', async () => {
    const { chat, finish, change } = setup();
    for (let step = 0; step < 3; step += 1) await change(price(1, step));
    // Past its limit, a change every 3 s, with pauses longer than the digests' quiet time (2 s).
    for (let step = 3; step < 9; step += 1) await change(price(1, step), 3000);
    await finish();

    expect(ownMessages(chat, 1)).toHaveLength(3);
    // 18 s of changes, a 10 s window: two digests.
    expect(csvListings(chat)).toEqual(['1', '1']);
  });

  it('lets the listing have a message of its own again once its oldest message left the window', async () => {
    const { chat, finish, change } = setup();
    for (let step = 0; step < 3; step += 1) await change(price(1, step));
    // The first went out at about 0 s: an hour later it is out of the window.
    await advance(HOUR);
    await change(price(1, 3));
    await finish();

    expect(ownMessages(chat, 1)).toHaveLength(4);
    expect(csvListings(chat)).toEqual([]);
  });

  it('leaves other listings alone, even while a throttled listing’s digest is open', async () => {
    const { chat, finish, submit, change } = setup();
    for (let step = 0; step < 3; step += 1) await change(price(1, step));
    submit(price(1, 3)); // throttled: opens a digest
    submit(price(2, 0)); // another listing, the channel well within its budget
    await advance(5000);
    await finish();

    expect(ownMessages(chat, 2)).toHaveLength(1);
    expect(csvListings(chat)).toEqual(['1']);
  });

  it('never throttles an urgent change', async () => {
    const { chat, finish, fates, change } = setup();
    for (let step = 0; step < 3; step += 1) await change(price(1, step));
    await change(unpublish(1));
    await finish();

    expect(ownMessages(chat, 1)).toHaveLength(4);
    expect(fates.at(-1)).toMatchObject({ kind: 'delivered', folded: 'no' });
    expect(csvListings(chat)).toEqual([]);
  });

  it('does not throttle a change another rule without a throttle sends to the same channel', async () => {
    const config = parseConfig(
      [
        'rules:',
        '  - { name: price moved, match: { field: price }, channels: [sales-alerts], throttle: { perListing: 3 } }',
        '  - { name: every price, match: { field: price }, channels: [sales-alerts] }',
      ].join('\n'),
      'throttle-test-two-rules',
    );
    const { chat, finish, change } = setup(config);
    for (let step = 0; step < 5; step += 1) await change(price(1, step));
    await finish();

    expect(ownMessages(chat, 1)).toHaveLength(5);
    expect(csvListings(chat)).toEqual([]);
  });

  it('does not count a message that cancelled out before it was sent (net zero)', async () => {
    const { chat, finish, folds, submit, change } = setup();
    // Three other listings use the channel's burst, so listing 1's message waits in the queue...
    for (const id of [901, 902, 903]) submit(price(id, 0));
    submit(price(1, 0));
    // ...and its change back cancels it.
    submit(
      makeUpdate(
        { prc_amt: dec('100.00') },
        { prc_amt: dec('98.00'), lst_ttl: 'Listing 1' },
        { listingId: '1', key: { lst_id: 1 } },
      ),
    );
    await advance(5000);
    expect(folds).toEqual(['cancelled']);
    for (let step = 0; step < 3; step += 1) await change(price(1, step));
    await finish();

    expect(ownMessages(chat, 1)).toHaveLength(3);
    expect(csvListings(chat)).toEqual([]);
  });
});
