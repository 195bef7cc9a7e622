import { describe, expect, it } from 'vitest';
import { createPaceWindow, paceViolation } from '../../../src/delivery/pace.ts';
import { createFallbackPaceGate, createMemoryPaceGate, localShare } from '../../../src/delivery/pace-gate.ts';
import { NotifierError } from '../../../src/domain/errors.ts';
import type { Clock, PaceBucket, PaceGate } from '../../../src/ports/index.ts';
import { noopMetrics } from '../../../src/ports/index.ts';
import { createCapturingLogger } from '../../support/fakes.ts';

/** A clock moved by hand. */
function handClock(start = 0): Clock & { set(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    sleep: async () => {},
    set: (ms) => {
      now = ms;
    },
  };
}

const channel: PaceBucket = { key: 'channel:#a', cap: 1, intervalMs: 1000, burst: 3 };
const workspace: PaceBucket = { key: 'workspace', cap: 2, intervalMs: 1000, burst: 2 };

describe('createMemoryPaceGate', () => {
  it('takes a slot in every bucket or in none', async () => {
    const clock = handClock();
    const gate = createMemoryPaceGate(clock);
    const other: PaceBucket = { ...channel, key: 'channel:#b' };
    expect(await gate.acquire([channel, workspace])).toBe(0);
    expect(await gate.acquire([other, workspace])).toBe(0);
    // The workspace (2 at once) is empty now: #b's bucket must not lose a token to the refusal.
    const wait = await gate.acquire([other, workspace]);
    expect(wait).toBeGreaterThan(0);
    clock.set(wait);
    expect(await gate.acquire([other, workspace])).toBe(0);
    expect(await gate.acquire([other])).toBe(0); // its burst of 3 holds one more
  });

  it('answered at t equals recording the call at its answer (send.ts pacing)', async () => {
    const clock = handClock();
    const gate = createMemoryPaceGate(clock);
    const bucket: PaceBucket = { ...channel, burst: 1 };
    const reference = createPaceWindow({ cap: 1, intervalMs: 1000, burst: 1 });
    for (const [send, answer] of [
      [0, 40],
      [1040, 1900],
      [2900, 2950],
    ] as const) {
      clock.set(send);
      expect(await gate.acquire([bucket])).toBe(reference.delayAt(send));
      clock.set(answer);
      await gate.answered(bucket);
      reference.record(answer);
    }
    clock.set(3949);
    expect(await gate.acquire([bucket])).toBe(reference.delayAt(3949));
  });

  it('a block empties the bucket until Retry-After has passed', async () => {
    const clock = handClock();
    const gate = createMemoryPaceGate(clock);
    await gate.block(channel, 5000);
    expect(await gate.acquire([channel])).toBe(5000);
    clock.set(5000);
    expect(await gate.acquire([channel])).toBe(0);
    expect(await gate.acquire([channel])).toBeGreaterThan(0); // no burst right after a 429
  });
});

describe('createFallbackPaceGate', () => {
  const failing = (): PaceGate & { down: boolean } => {
    const clock = handClock();
    const inner = createMemoryPaceGate(clock);
    const gate = {
      down: true,
      acquire: (b: readonly PaceBucket[]) =>
        gate.down ? Promise.reject(new Error('ECONNREFUSED')) : inner.acquire(b),
      answered: (b: PaceBucket) =>
        gate.down ? Promise.reject(new Error('ECONNREFUSED')) : inner.answered(b),
      block: (b: PaceBucket, ms: number) =>
        gate.down ? Promise.reject(new Error('ECONNREFUSED')) : inner.block(b, ms),
    };
    return gate;
  };

  it('paces on the local share (pace / replicas, no burst) while the store is gone, then goes back', async () => {
    const clock = handClock();
    const shared = failing();
    const logger = createCapturingLogger();
    const fallbacks: string[] = [];
    const gate = createFallbackPaceGate({
      shared,
      clock,
      replicas: 3,
      logger,
      metrics: { ...noopMetrics, storeFallback: (op) => fallbacks.push(op) },
    });
    // Calls whenever the gate allows, for 30 s: never faster than 1 per 3 s (1/s shared by 3).
    const times: number[] = [];
    for (let t = 0; t < 30_000; t += 100) {
      clock.set(t);
      if ((await gate.acquire([channel])) === 0) times.push(t);
    }
    expect(times.length).toBe(10);
    expect(paceViolation(times, { cap: 1, intervalMs: 3000, burst: 1 })).toBeNull();
    expect(gate.inFallback()).toBe(true);
    expect(fallbacks.length).toBeGreaterThan(0);
    expect(logger.lines.filter((l) => l.level === 'warn')).toHaveLength(1); // one line per switch
    shared.down = false;
    clock.set(31_000);
    expect(await gate.acquire([channel])).toBe(0);
    expect(gate.inFallback()).toBe(false);
    expect(logger.lines.filter((l) => l.level === 'info')).toHaveLength(1);
  });

  it('falls back only where the error table says degrade: a coded stop from the shared gate is thrown on', async () => {
    const stop = new NotifierError('CONFIG_INVALID', 'store.keyPrefix refused');
    const fallbacks: string[] = [];
    const gate = createFallbackPaceGate({
      shared: {
        acquire: () => Promise.reject(stop),
        answered: () => Promise.reject(stop),
        block: () => Promise.reject(stop),
      },
      clock: handClock(),
      replicas: 2,
      logger: createCapturingLogger(),
      metrics: { ...noopMetrics, storeFallback: (op) => fallbacks.push(op) },
    });
    await expect(gate.acquire([channel])).rejects.toBe(stop);
    await expect(gate.answered(channel)).rejects.toBe(stop);
    await expect(gate.block(channel, 1000)).rejects.toBe(stop);
    expect(gate.inFallback()).toBe(false);
    expect(fallbacks).toEqual([]);
  });

  it('localShare divides the pace and drops the burst', () => {
    expect(localShare(channel, 3)).toEqual({ key: 'channel:#a', cap: 1, intervalMs: 3000, burst: 1 });
    expect(localShare(channel, 1).intervalMs).toBe(1000);
  });
});
