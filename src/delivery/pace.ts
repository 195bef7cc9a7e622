/**
 * A pace gate: a token bucket (in its GCRA form) holding `burst` calls and refilled at `perIntervalCap`
 * calls per `intervalMs`, plus a "blocked until" instant set from a 429's Retry-After. Under steady load
 * calls leave evenly spaced (1000 ms apart at 1 per second); after a quiet spell up to `burst` may leave
 * at once. That is Slack's "1 per second, short bursts >1 allowed" for chat.postMessage
 * (https://docs.slack.dev/apis/web-api/rate-limits), modelled as the leaky bucket its behaviour suggests.
 *
 * Why not p-queue's `interval`/`intervalCap`: it counts task starts, and a delivery task may make several
 * calls (retries) or wait on the workspace gate after its channel slot opened. And a sliding window of
 * `burst` per `burst * interval` would send bursts of `burst` every window under steady load, which
 * Slack says it may not store. Pure: the caller passes the time in.
 */
export interface PaceLimit {
  /** Calls per interval, sustained. */
  cap: number;
  /** Interval length in ms. */
  intervalMs: number;
  /** Calls that may leave at once after a quiet spell (bucket size, at least 1). */
  burst: number;
}

export interface PaceWindow {
  /** ms to wait from `now` before a call may start (0 = now). */
  delayAt(now: number): number;
  /** A call started at `now` (the caller checked delayAt(now) === 0). */
  record(now: number): void;
  /**
   * The answer to a call recorded at send came at `now`: the next call leaves no sooner than one
   * emission after it. With `record` at send this equals recording at the answer alone (the shared
   * gates must take the slot at send, or two replicas could both send into it).
   */
  answered(now: number): void;
  /**
   * A 429's pause: no call may start before `until` (epoch ms), and the bucket is empty then, so the
   * calls after the pause leave at the sustained pace rather than in a burst (a burst right after
   * Slack said "slow down" is the likeliest call to be refused again). Later blocks extend, earlier
   * ones are ignored.
   */
  blockUntil(until: number): void;
}

export function createPaceWindow({ cap, intervalMs, burst }: PaceLimit): PaceWindow {
  const emission = intervalMs / cap; // ms per call at the sustained pace
  const tolerance = (Math.max(1, burst) - 1) * emission; // how far ahead of the pace a call may be
  let theoreticalArrival = Number.NEGATIVE_INFINITY;
  let blockedUntil = Number.NEGATIVE_INFINITY;
  return {
    delayAt(now) {
      return Math.max(0, blockedUntil - now, theoreticalArrival - tolerance - now);
    },
    record(now) {
      theoreticalArrival = Math.max(theoreticalArrival, now) + emission;
    },
    answered(now) {
      theoreticalArrival = Math.max(theoreticalArrival, now + emission);
    },
    blockUntil(until) {
      blockedUntil = Math.max(blockedUntil, until);
      theoreticalArrival = Math.max(theoreticalArrival, blockedUntil + tolerance);
    },
  };
}

/**
 * Checks that call times (ascending, ms) never outran a pace, i.e. that for every pair i <= j,
 * j - i + 1 <= burst + (t[j] - t[i]) * cap / intervalMs. Returns the first call that did, or null.
 * Tests use it on recorded calls; the stand-in reports it.
 */
export function paceViolation(
  sortedTimes: readonly number[],
  limit: PaceLimit,
): { index: number; at: number } | null {
  // Replaying the bucket is the same test in O(n): a call that finds it empty outran the pace.
  const gate = createPaceWindow(limit);
  for (const [index, at] of sortedTimes.entries()) {
    if (gate.delayAt(at) > 1e-6) return { index, at }; // tolerance: float rounding of intervalMs / cap
    gate.record(at);
  }
  return null;
}

/** Max number of times (ascending, ms) within any half-open window of `windowMs`: "max per second". */
export function maxInAnyWindow(sortedTimes: readonly number[], windowMs: number): number {
  let max = 0;
  let lo = 0;
  for (let hi = 0; hi < sortedTimes.length; hi++) {
    while ((sortedTimes[hi] ?? 0) - (sortedTimes[lo] ?? 0) >= windowMs) lo++;
    max = Math.max(max, hi - lo + 1);
  }
  return max;
}
