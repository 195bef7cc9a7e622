/**
 * How long to wait before retrying a transient failure (5xx, network, timeout): capped exponential
 * backoff with proportional jitter, so that many channels retrying after one Slack outage do not all
 * come back in the same millisecond. Pure: the random source is passed in (STYLE.md habit 6).
 */
export interface RetryPolicy {
  /** Delay before the first retry (attempt 0), in ms. */
  minDelayMs: number;
  /** No delay is ever longer than this, jitter included, in ms. */
  maxDelayMs: number;
  /** Each further attempt multiplies the delay by this. */
  factor: number;
  /** 0..1: the delay is spread uniformly over ±jitter of its nominal value (0.2 = ±20 %). */
  jitter: number;
}

/** Production policy (config `delivery.retry` defaults): 0.5 s, 1 s, 2 s ... capped at 30 s, ±20 %. */
export const slackRetryPolicy: RetryPolicy = { minDelayMs: 500, maxDelayMs: 30_000, factor: 2, jitter: 0.2 };

/** For tests: short and deterministic (no jitter). */
export const testRetryPolicy: RetryPolicy = { minDelayMs: 10, maxDelayMs: 100, factor: 2, jitter: 0 };

/** Exponents past this change nothing (the cap is reached long before) and would overflow to Infinity. */
const maxExponent = 64;

/**
 * The delay before retry number `attempt` (0 for the first retry), in whole ms, within
 * [0, policy.maxDelayMs]. `random` returns a number in [0, 1) like Math.random.
 */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number): number {
  const exponent = Math.min(Math.max(0, Math.floor(attempt)), maxExponent);
  const nominal = Math.min(policy.maxDelayMs, policy.minDelayMs * policy.factor ** exponent);
  const spread = 1 + policy.jitter * (2 * random() - 1);
  return Math.round(Math.min(policy.maxDelayMs, Math.max(0, nominal * spread)));
}
