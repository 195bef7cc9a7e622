import { beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/index.ts';
import { maxInAnyWindow, paceViolation } from '../../../src/delivery/pace.ts';
import { testRetryPolicy } from '../../../src/delivery/retry-policy.ts';
import {
  createDeliveryScheduler,
  type DeliverySchedulerOptions,
  floodOff,
} from '../../../src/delivery/scheduler.ts';
import type { OutboundMessage } from '../../../src/domain/message.ts';
import { createComposer } from '../../../src/pipeline/compose.ts';
import { type DeliveryResult, noopMetrics } from '../../../src/ports/index.ts';
import { advanceAfterStart } from '../../support/delivery.ts';
import { createFakeChat, type FakeChat, slackErrors } from '../../support/fake-chat.ts';
import { createManualClock, type ManualClock } from '../../support/fakes.ts';

const makeMessage = (overrides: Partial<OutboundMessage> & { n?: number } = {}): OutboundMessage => ({
  channel: overrides.channel ?? 'sales-alerts',
  payload: overrides.payload ?? {
    text: `message ${overrides.n ?? 0}`,
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: `message ${overrides.n ?? 0}` } }],
  },
});

function makeScheduler(chat: FakeChat, overrides: Partial<DeliverySchedulerOptions> = {}) {
  return createDeliveryScheduler({
    destination: chat,
    composer: createComposer(() => parseConfig('', 'test')),
    flood: floodOff,
    clock: clock,
    perChannel: { intervalMs: 1000, cap: 1 },
    burst: 3,
    workspace: { intervalMs: 1000, cap: 20 },
    maxQueuedPerChannel: 200,
    retry: testRetryPolicy,
    random: () => 0.5,
    ...overrides,
  });
}

/** Records how each delivery settled, without awaiting it. */
function track(promise: Promise<DeliveryResult>) {
  const state: { result?: DeliveryResult; error?: unknown; settled: boolean } = { settled: false };
  promise.then(
    (result) => Object.assign(state, { result, settled: true }),
    (error: unknown) => Object.assign(state, { error, settled: true }),
  );
  return state;
}

const texts = (chat: FakeChat, channel?: string) => chat.delivered(channel).map((c) => c.payload.text);
const startTimes = (chat: FakeChat, channel: string) =>
  chat.calls.filter((c) => c.channel === channel).map((c) => c.at);

/** The manual clock every test's scheduler and fake chat run on (time moves only by clock.advance). */
let clock: ManualClock;
beforeEach(() => {
  clock = createManualClock(0);
});

/** Time `ms` on, once what was just submitted ran up to its first wait (advanceAfterStart). */
const advance = (ms: number): Promise<void> => advanceAfterStart(clock, ms);

describe('DeliveryScheduler pace', () => {
  it('sends a burst of 3 at once, then one per second per channel, in order', async () => {
    const chat = createFakeChat({ clock: clock });
    const scheduler = makeScheduler(chat);
    const states = Array.from({ length: 8 }, (_, n) => track(scheduler.deliver(makeMessage({ n }))));

    await advance(0);
    expect(chat.calls.map((c) => c.at)).toEqual([0, 0, 0]);
    await advance(999);
    expect(chat.calls).toHaveLength(3);
    await advance(1);
    expect(chat.calls).toHaveLength(4);
    await advance(10_000);

    expect(states.every((s) => s.settled && s.result?.ok)).toBe(true);
    expect(texts(chat)).toEqual(Array.from({ length: 8 }, (_, n) => `message ${n}`));
    expect(startTimes(chat, 'sales-alerts')).toEqual([0, 0, 0, 1000, 2000, 3000, 4000, 5000]);
    expect(scheduler.pending()).toBe(0);
  });

  it('paces from each answer, so slow answers space the calls further apart', async () => {
    const chat = createFakeChat({ clock: clock, latencyMs: 300 });
    const oneAtATime = makeScheduler(chat, { burst: 1 });
    for (let n = 0; n < 3; n++) oneAtATime.deliver(makeMessage({ n }));
    await advance(10_000);
    expect(startTimes(chat, 'sales-alerts')).toEqual([0, 1300, 2600]);

    const bursty = createFakeChat({ clock: clock, latencyMs: 300 });
    const withBurst = makeScheduler(bursty);
    for (let n = 0; n < 6; n++) withBurst.deliver(makeMessage({ n }));
    await advance(10_000);
    // The bucket still holds one per second once the burst is spent: 1300, 2300, 3300.
    expect(startTimes(bursty, 'sales-alerts').map((t) => t - 10_000)).toEqual([
      0, 300, 600, 1300, 2300, 3300,
    ]);
  });

  it('paces channels independently', async () => {
    const chat = createFakeChat({ clock: clock });
    const scheduler = makeScheduler(chat, { burst: 1 });
    for (let n = 0; n < 3; n++) {
      scheduler.deliver(makeMessage({ n, channel: 'a' }));
      scheduler.deliver(makeMessage({ n, channel: 'b' }));
    }
    await advance(5000);
    expect(startTimes(chat, 'a')).toEqual([0, 1000, 2000]);
    expect(startTimes(chat, 'b')).toEqual([0, 1000, 2000]);
  });

  it('caps all channels together at the workspace pace', async () => {
    const chat = createFakeChat({ clock: clock });
    const scheduler = makeScheduler(chat, { workspace: { intervalMs: 1000, cap: 4 } });
    const channels = ['a', 'b', 'c', 'd', 'e', 'f'];
    for (const channel of channels)
      for (let n = 0; n < 3; n++) scheduler.deliver(makeMessage({ n, channel }));
    await advance(30_000);
    await scheduler.onIdle();

    const all = chat.calls.map((c) => c.at).sort((x, y) => x - y);
    expect(all).toHaveLength(18);
    expect(paceViolation(all, { cap: 4, intervalMs: 1000, burst: 4 })).toBeNull();
    for (const channel of channels) {
      expect(paceViolation(startTimes(chat, channel), { cap: 1, intervalMs: 1000, burst: 3 })).toBeNull();
    }
  });

  it('holds 500 messages on one channel to the pace: no window above it', async () => {
    const chat = createFakeChat({ clock: clock, latencyMs: 30 });
    const scheduler = makeScheduler(chat, { perChannel: { intervalMs: 20, cap: 1 }, burst: 3 });
    for (let n = 0; n < 500; n++) scheduler.deliver(makeMessage({ n }));
    await advance(60_000);
    await scheduler.onIdle();
    const times = startTimes(chat, 'sales-alerts');
    expect(times).toHaveLength(500);
    expect(paceViolation(times, { cap: 1, intervalMs: 20, burst: 3 })).toBeNull();
    // With 30 ms per call and concurrency 1, calls are 30 ms apart: at most 34 per second.
    expect(maxInAnyWindow(times, 1000)).toBeLessThanOrEqual(34);
  });
});

describe('DeliveryScheduler failures', () => {
  it('on 429 pauses only that channel for Retry-After, then resends the same message', async () => {
    const chat = createFakeChat({ clock: clock }).failOn(1, slackErrors.rateLimited(5000));
    const rateLimited: string[] = [];
    const scheduler = makeScheduler(chat, {
      burst: 1,
      metrics: { ...noopMetrics, rateLimited: (ch) => rateLimited.push(ch) },
    });
    const a0 = track(scheduler.deliver(makeMessage({ n: 0, channel: 'a' })));
    const a1 = track(scheduler.deliver(makeMessage({ n: 1, channel: 'a' })));
    const b0 = track(scheduler.deliver(makeMessage({ n: 0, channel: 'b' })));

    await advance(0);
    expect(b0.result).toEqual({ ok: true, ts: expect.any(String) });
    expect(a0.settled).toBe(false);
    await advance(4999);
    expect(startTimes(chat, 'a')).toEqual([0]);
    await advance(1);
    expect(startTimes(chat, 'a')).toEqual([0, 5000]);
    expect(a0.result?.ok).toBe(true);
    await advance(1000);
    expect(a1.result?.ok).toBe(true);
    expect(texts(chat, 'a')).toEqual(['message 0', 'message 1']);
    expect(rateLimited).toEqual(['a']);
  });

  it('retries transient failures with growing backoff, in order, without giving up', async () => {
    const chat = createFakeChat({ clock: clock });
    for (let n = 1; n <= 12; n++) chat.failOn(n, slackErrors.transient('http_503'));
    const results: string[] = [];
    const scheduler = makeScheduler(chat, {
      perChannel: { intervalMs: 1, cap: 1 },
      metrics: { ...noopMetrics, slackCall: (r) => results.push(r) },
    });
    const first = track(scheduler.deliver(makeMessage({ n: 0 })));
    const second = track(scheduler.deliver(makeMessage({ n: 1 })));
    await advance(2000);

    expect(first.result?.ok).toBe(true);
    expect(second.result?.ok).toBe(true);
    // testRetryPolicy: 10, 20, 40, 80, then capped at 100 ms.
    const gaps = chat.calls.slice(1, 13).map((c, i) => c.at - (chat.calls[i]?.at ?? 0));
    expect(gaps).toEqual([10, 20, 40, 80, 100, 100, 100, 100, 100, 100, 100, 100]);
    expect(texts(chat)).toEqual(['message 0', 'message 1']);
    expect(results.filter((r) => r === 'http_503')).toHaveLength(12);
    expect(results.filter((r) => r === 'ok')).toHaveLength(2);
  });

  it('counts retries against the channel pace too', async () => {
    const chat = createFakeChat({ clock: clock });
    for (let n = 1; n <= 5; n++) chat.failOn(n, slackErrors.transient());
    const scheduler = makeScheduler(chat);
    scheduler.deliver(makeMessage());
    await advance(10_000);
    // Backoff asks for 10, 20, 40, 80 ms, but after the burst of 3 the pace allows one per second.
    expect(chat.calls.map((c) => c.at)).toEqual([0, 10, 30, 1000, 2000, 3000]);
  });

  it('resolves ok:false for a permanent failure and goes on with the next message', async () => {
    const chat = createFakeChat({ clock: clock }).failOn(1, slackErrors.permanent('channel_not_found'));
    const scheduler = makeScheduler(chat);
    const first = track(scheduler.deliver(makeMessage({ n: 0 })));
    const second = track(scheduler.deliver(makeMessage({ n: 1 })));
    await advance(0);
    expect(first.result).toMatchObject({
      ok: false,
      error: {
        code: 'SLACK_PERMANENT',
        disposition: 'dead-letter',
        details: { slackError: 'channel_not_found' },
      },
    });
    expect(second.result?.ok).toBe(true);
    expect(chat.calls).toHaveLength(2);
  });

  it('on SLACK_AUTH rejects that call, everything queued and everything after', async () => {
    const chat = createFakeChat({ clock: clock }).failOn(1, slackErrors.auth('token_revoked'));
    const scheduler = makeScheduler(chat, { burst: 1 });
    const first = track(scheduler.deliver(makeMessage({ n: 0 })));
    const queued = track(scheduler.deliver(makeMessage({ n: 1 })));
    const otherChannel = track(scheduler.deliver(makeMessage({ n: 2, channel: 'b' })));
    await advance(0);

    expect(first.error).toMatchObject({ code: 'SLACK_AUTH', disposition: 'stop' });
    expect(queued.error).toBe(first.error);
    expect(otherChannel.settled).toBe(true); // it had been sent before the auth failure came back
    await expect(scheduler.deliver(makeMessage({ n: 3 }))).rejects.toBe(first.error);
    await advance(10_000);
    expect(chat.calls.filter((c) => c.channel === 'sales-alerts')).toHaveLength(1);
    expect(scheduler.pending()).toBe(0);
  });

  it('stops a delivery that is backing off when SLACK_AUTH arrives on another channel', async () => {
    const chat = createFakeChat({ clock: clock })
      .failOn(1, slackErrors.transient())
      .failOn(2, slackErrors.auth('invalid_auth'));
    const scheduler = makeScheduler(chat, {
      retry: { minDelayMs: 60_000, maxDelayMs: 60_000, factor: 1, jitter: 0 },
    });
    const backingOff = track(scheduler.deliver(makeMessage({ n: 0, channel: 'a' })));
    const auth = track(scheduler.deliver(makeMessage({ n: 1, channel: 'b' })));
    await advance(0);
    expect(auth.error).toMatchObject({ code: 'SLACK_AUTH' });
    expect(backingOff.error).toBe(auth.error);
    await scheduler.onIdle();
    expect(chat.calls).toHaveLength(2);
  });

  it('stops on a non-NotifierError from the destination: a broken adapter contract is a bug (INTERNAL)', async () => {
    const scheduler = makeScheduler(createFakeChat(), {
      destination: {
        post: async () => {
          throw new TypeError('boom');
        },
        upload: async () => ({ fileId: 'F1' }),
      },
    });
    const state = track(scheduler.deliver(makeMessage()));
    await advance(100);
    expect(state.error).toMatchObject({ code: 'INTERNAL', disposition: 'stop' });
  });
});

describe('DeliveryScheduler abort', () => {
  it('rejects a queued delivery with the reason at once, and never sends it', async () => {
    const chat = createFakeChat({ clock: clock });
    const scheduler = makeScheduler(chat, { burst: 1 });
    const controller = new AbortController();
    track(scheduler.deliver(makeMessage({ n: 0 })));
    const queued = track(scheduler.deliver(makeMessage({ n: 1 }), controller.signal));
    await advance(0);
    controller.abort(new Error('shutdown deadline'));
    await advance(0);
    expect(queued.error).toEqual(new Error('shutdown deadline'));
    expect(scheduler.pending()).toBe(0);
    await advance(5000);
    expect(texts(chat)).toEqual(['message 0']);
  });

  it('ends retries when the signal aborts', async () => {
    const chat = createFakeChat({ clock: clock });
    for (let n = 1; n <= 1000; n++) chat.failOn(n, slackErrors.transient('timeout'));
    const scheduler = makeScheduler(chat, { perChannel: { intervalMs: 1, cap: 1 } });
    const controller = new AbortController();
    const state = track(scheduler.deliver(makeMessage(), controller.signal));
    await advance(1000);
    const callsSoFar = chat.calls.length;
    expect(callsSoFar).toBeGreaterThan(5);
    controller.abort('revoked');
    await advance(0);
    expect(state.error).toBe('revoked');
    await advance(5000);
    expect(chat.calls).toHaveLength(callsSoFar);
    expect(scheduler.pending()).toBe(0);
  });

  it('keeps the channel busy (pending, in order) while an aborted call is still in flight', async () => {
    const chat = createFakeChat({ clock: clock, latencyMs: 500 });
    const scheduler = makeScheduler(chat);
    const controller = new AbortController();
    const inFlight = track(scheduler.deliver(makeMessage({ n: 0 }), controller.signal));
    const next = track(scheduler.deliver(makeMessage({ n: 1 })));
    await advance(100);
    controller.abort('deadline');
    await advance(0);
    expect(inFlight.error).toBe('deadline');
    expect(scheduler.pending()).toBe(2);
    expect(chat.calls).toHaveLength(1);
    await advance(400);
    expect(chat.calls.map((c) => c.at)).toEqual([0, 500]);
    await advance(500);
    expect(next.result?.ok).toBe(true);
  });

  it('rejects at once when the signal has already aborted', async () => {
    const scheduler = makeScheduler(createFakeChat());
    await expect(scheduler.deliver(makeMessage(), AbortSignal.abort('gone'))).rejects.toBe('gone');
    expect(scheduler.pending()).toBe(0);
  });
});

describe('DeliveryScheduler accounting', () => {
  it('counts pending per channel, reports queue depth, and waitForRoom waits for a free slot', async () => {
    const chat = createFakeChat({ clock: clock });
    const depths: Array<[string, number]> = [];
    const scheduler = makeScheduler(chat, {
      burst: 1,
      maxQueuedPerChannel: 2,
      metrics: { ...noopMetrics, setQueueDepth: (ch, d) => depths.push([ch, d]) },
    });
    scheduler.deliver(makeMessage({ n: 0, channel: 'a' }));
    scheduler.deliver(makeMessage({ n: 1, channel: 'a' }));
    scheduler.deliver(makeMessage({ n: 0, channel: 'b' }));
    expect(scheduler.pending()).toBe(3);
    expect(scheduler.pendingByChannel()).toEqual({ a: 2, b: 1 });

    let room = false;
    scheduler.waitForRoom('a').then(() => {
      room = true;
    });
    await expect(scheduler.waitForRoom('b')).resolves.toBeUndefined();
    await advance(0);
    expect(scheduler.pendingByChannel()).toEqual({ a: 1 });
    expect(room).toBe(true);

    let idle = false;
    scheduler.onIdle().then(() => {
      idle = true;
    });
    await advance(999);
    expect(idle).toBe(false);
    await advance(1);
    expect(idle).toBe(true);
    expect(scheduler.pendingByChannel()).toEqual({});
    expect(depths.filter(([ch]) => ch === 'a').map(([, d]) => d)).toEqual([1, 2, 1, 0]);
  });
});
