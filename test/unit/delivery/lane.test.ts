/**
 * The lane's own catch (src/delivery/lane.ts `run`): an item whose sending meets an error that is not a
 * 'stop' (a compose or digest bug met with this data, issue 19) fails alone, as PROCESSING_FAILED, so
 * its records are dead-lettered, and the lane goes on with the next item. Through the real scheduler.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../../src/adapters/system-clock.ts';
import { type Config, parseConfig } from '../../../src/config/index.ts';
import { testRetryPolicy } from '../../../src/delivery/retry-policy.ts';
import { createDeliveryScheduler, type FloodOptions } from '../../../src/delivery/scheduler.ts';
import type { ChangeEvent } from '../../../src/domain/change.ts';
import { isNotifierError } from '../../../src/domain/errors.ts';
import { createComposer } from '../../../src/pipeline/compose.ts';
import { decide } from '../../../src/pipeline/index.ts';
import type { Fate, MessageComposer } from '../../../src/ports/index.ts';
import { dec, makeUpdate } from '../../support/events.ts';
import { createFakeChat } from '../../support/fake-chat.ts';

const config: Config = parseConfig(
  'rules:\n  - { name: price moved, match: { field: price }, channels: [sales-alerts] }',
  'lane-test',
);
const flood: FloodOptions = {
  enabled: true,
  budgetMs: 10_000,
  digestQuietMs: 2_000,
  digestWindowMs: 10_000,
  maxDigestItems: 20_000,
  coalesce: true,
  netZero: 'drop',
  completeList: 'file',
  channels: {},
};

const price = (id: number): ChangeEvent =>
  makeUpdate(
    { prc_amt: dec('85.00') },
    { prc_amt: dec('100.00'), lst_ttl: `Listing ${id}` },
    { listingId: String(id), key: { lst_id: id } },
  );

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('lane: an item that fails on its own', () => {
  it('a digest bug becomes a dead letter per folded record (PROCESSING_FAILED), and the lane goes on', async () => {
    const chat = createFakeChat({ clock: systemClock });
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
    const scheduler = createDeliveryScheduler({
      destination: chat,
      composer,
      flood,
      clock: systemClock,
      perChannel: { intervalMs: 1000, cap: 1 },
      burst: 3,
      workspace: { intervalMs: 1000, cap: 20 },
      maxQueuedPerChannel: 200,
      retry: testRetryPolicy,
      random: () => 0.5,
    });
    const fates: Array<Fate | { error: unknown }> = [];
    const submit = (event: ChangeEvent): void => {
      const outcome = decide(event, config);
      if (outcome.kind !== 'notify') throw new Error(`expected a notification, got ${outcome.reason}`);
      for (const message of outcome.messages) {
        const index = fates.push({ error: 'pending' }) - 1;
        scheduler.submit(message, outcome.event, new AbortController().signal).fate.then(
          (fate) => {
            fates[index] = fate;
          },
          (error: unknown) => {
            fates[index] = { error };
          },
        );
      }
    };
    // 9 messages of their own within the budget (10 s at 1/s), the other 91 folded into a digest.
    for (let id = 1; id <= 100; id += 1) submit(price(id));
    await vi.advanceTimersByTimeAsync(60_000);
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
    submit(price(500));
    await vi.advanceTimersByTimeAsync(30_000);
    await scheduler.onIdle();
    expect(fates.at(-1)).toMatchObject({ kind: 'delivered' });
    expect(chat.delivered().some((c) => c.payload.text.includes('#500)'))).toBe(true);
  });
});
