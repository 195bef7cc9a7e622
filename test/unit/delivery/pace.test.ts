import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createPaceWindow, maxInAnyWindow, paceViolation } from '../../../src/delivery/pace.ts';

/** Starts calls as early as the gate allows, at or after each requested time. */
function gated(requests: number[], limit: { cap: number; intervalMs: number; burst: number }): number[] {
  const gate = createPaceWindow(limit);
  const starts: number[] = [];
  let now = 0;
  for (const r of requests) {
    now = Math.max(now, r);
    now += gate.delayAt(now);
    gate.record(now);
    starts.push(now);
  }
  return starts;
}

describe('createPaceWindow', () => {
  it('lets a burst go at once, then one call per interval, evenly spaced', () => {
    expect(gated([0, 0, 0, 0, 0, 0], { cap: 1, intervalMs: 1000, burst: 3 })).toEqual([
      0, 0, 0, 1000, 2000, 3000,
    ]);
  });

  it('refills the bucket during a quiet spell, but no further than burst', () => {
    const starts = gated([0, 0, 0, 10_000, 10_000, 10_000, 10_000], { cap: 1, intervalMs: 1000, burst: 3 });
    expect(starts).toEqual([0, 0, 0, 10_000, 10_000, 10_000, 11_000]);
  });

  it('with burst 1 is a strict one per interval', () => {
    expect(gated([0, 0, 0], { cap: 1, intervalMs: 1000, burst: 1 })).toEqual([0, 1000, 2000]);
  });

  it('blockUntil holds every call back until Retry-After has passed', () => {
    const gate = createPaceWindow({ cap: 1, intervalMs: 1000, burst: 3 });
    gate.blockUntil(5000);
    expect(gate.delayAt(1000)).toBe(4000);
    gate.blockUntil(2000); // an earlier block does not shorten the current one
    expect(gate.delayAt(1000)).toBe(4000);
    expect(gate.delayAt(5000)).toBe(0);
  });

  it('after a Retry-After pause, resumes at the sustained pace without a burst', () => {
    const gate = createPaceWindow({ cap: 1, intervalMs: 1000, burst: 3 });
    gate.blockUntil(5000);
    expect(gate.delayAt(5000)).toBe(0);
    gate.record(5000);
    expect(gate.delayAt(5000)).toBe(1000);
    // Burst credit comes back with quiet time, as usual.
    expect(gate.delayAt(9000)).toBe(0);
  });

  it('whatever the requests, gated calls never outrun the pace', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(20_000), { maxLength: 60 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 2000 }),
        (requests, cap, burst, intervalMs) => {
          const limit = { cap, intervalMs, burst };
          const starts = gated(
            [...requests].sort((a, b) => a - b),
            limit,
          );
          expect(paceViolation(starts, limit)).toBeNull();
          // Also as a plain window count: never more than burst + cap in any interval.
          expect(maxInAnyWindow(starts, intervalMs)).toBeLessThanOrEqual(burst + cap);
        },
      ),
    );
  });
});

describe('paceViolation', () => {
  it('names the first call that outran the pace', () => {
    expect(paceViolation([0, 0, 0, 999], { cap: 1, intervalMs: 1000, burst: 3 })).toEqual({
      index: 3,
      at: 999,
    });
    expect(paceViolation([0, 0, 0, 1000], { cap: 1, intervalMs: 1000, burst: 3 })).toBeNull();
  });
});

describe('maxInAnyWindow', () => {
  it('counts the most times in any window of the given length', () => {
    expect(maxInAnyWindow([], 1000)).toBe(0);
    expect(maxInAnyWindow([0, 500, 999, 1000, 1999], 1000)).toBe(3);
  });
});
