/**
 * What the delivery tests that drive the real scheduler on a manual clock share: flood control as they
 * set it (a short quiet spell and window), a pace that never holds a call back, and how time is moved.
 */
import { testRetryPolicy } from '../../src/delivery/retry-policy.ts';
import type { FloodOptions } from '../../src/delivery/scheduler.ts';
import type { ManualClock } from './fakes.ts';

/** Flood control on: a 10 s budget, digests after 2 s quiet or 10 s at most, a CSV file each. */
export const testFlood: FloodOptions = {
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

/** Scheduler options whose pace never waits (tests of what is sent, not when). */
export const unpaced = {
  perChannel: { intervalMs: 1, cap: 100 },
  burst: 100,
  workspace: { intervalMs: 1, cap: 100 },
  maxQueuedPerChannel: 200,
  retry: testRetryPolicy,
};

/**
 * Moves `clock` `ms` on, after letting what was just submitted run up to its first wait: the calls start
 * asynchronously (the pace gate answers through a promise), so a clock moved at once would leave them
 * behind at the new time. advance(0) wakes only what is due now (fake timers' tickAsync does the same).
 */
export async function advanceAfterStart(clock: ManualClock, ms: number): Promise<void> {
  await clock.advance(0);
  await clock.advance(ms);
}
