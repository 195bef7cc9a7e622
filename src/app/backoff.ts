/**
 * Capped exponential backoff with jitter, for the retries the service itself runs (the pipeline's
 * REGISTRY_UNAVAILABLE, dead-letter writes, commits). Slack retries are the delivery scheduler's.
 */
export interface BackoffPolicy {
  /** First delay. */
  minDelayMs: number;
  /** Ceiling for any delay. */
  maxDelayMs: number;
  /** Growth per attempt (2 doubles). */
  factor: number;
  /** 0..1: the share of each delay that is random ("equal jitter" at 0.5, none at 0). */
  jitter: number;
}

/** Delay before retry number `attempt` (0 for the first retry). `random` returns [0, 1). */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number): number {
  const grown = policy.minDelayMs * policy.factor ** Math.max(0, attempt);
  const capped = Math.min(policy.maxDelayMs, Number.isFinite(grown) ? grown : policy.maxDelayMs);
  const jitter = Math.min(1, Math.max(0, policy.jitter));
  return Math.round(capped * (1 - jitter * random()));
}
