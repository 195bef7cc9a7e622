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

/** A steady poll (a topic to appear): every `intervalMs`, no growth, no jitter. */
export const pollPolicy = (intervalMs: number): RetryPolicy => ({
  minDelayMs: intervalMs,
  maxDelayMs: intervalMs,
  factor: 1,
  jitter: 0,
});

// --- Policies the libraries run themselves (adapters hand them over; named here so that every retry
// timing of the service is in this file).

/** A policy a library runs itself, with a bound: it gives up after `retries` retries. */
export interface BoundedRetryPolicy extends RetryPolicy {
  retries: number;
}

/**
 * kafkajs's client retries (src/adapters/kafka-client.ts): keep trying to reach a broker that restarts
 * instead of giving up after kafkajs's default 5 retries (~30 s): 0.3 s doubling to 10 s, ±20 %
 * (kafkajs's own multiplier and randomization factor), 10 retries.
 */
export const kafkaClientRetryPolicy: BoundedRetryPolicy = {
  minDelayMs: 300,
  maxDelayMs: 10_000,
  factor: 2,
  jitter: 0.2,
  retries: 10,
};

/**
 * The dead-letter producer's retries inside one send() (kafka-dead-letter.ts): few, because the
 * caller's own backoff and its bound (src/app/dead-letter-guard.ts) decide how long to keep trying.
 */
export const deadLetterSendRetryPolicy: BoundedRetryPolicy = {
  minDelayMs: 300,
  maxDelayMs: 5000,
  factor: 2,
  jitter: 0.2,
  retries: 3,
};

/**
 * A policy in kafkajs's words (https://kafka.js.org/docs/retry-detailed): its `factor` is the
 * randomization (our jitter), its `multiplier` the growth (our factor).
 */
export const kafkajsRetry = (p: BoundedRetryPolicy) => ({
  initialRetryTime: p.minDelayMs,
  maxRetryTime: p.maxDelayMs,
  multiplier: p.factor,
  factor: p.jitter,
  retries: p.retries,
});

/**
 * @slack/web-api's own retry loop (src/adapters/slack-chat.ts): off. Its default of ten retries over
 * about thirty minutes would hold one call far past Kafka's session timeout; the scheduler retries
 * instead (slackRetryPolicy, through retrying()).
 */
export const slackClientRetryConfig = { retries: 0 } as const;

/**
 * ioredis reconnects (src/adapters/redis-store.ts retryStrategy): forever, `times` x 200 ms, at most
 * every 2 s, so that the store coming back soon ends the pace gate's fallback.
 */
export const redisReconnectPolicy = { stepMs: 200, maxDelayMs: 2000 } as const;

/** The wait before reconnect number `times` (1 for the first), as ioredis's retryStrategy wants it. */
export const reconnectDelay = (policy: typeof redisReconnectPolicy, times: number): number =>
  Math.min(times * policy.stepMs, policy.maxDelayMs);

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

/** What `retrying` does with a failure: try again after the policy's backoff, again at once, or give up. */
export type RetryVerdict = 'backoff' | 'now' | 'throw';

export interface RetryOptions {
  policy: RetryPolicy;
  random: () => number;
  /** Waits `ms`; rejects (ending the retries with that rejection) when the work is cancelled. */
  sleep(ms: number): Promise<void>;
  /** Decides per failure; `backoffs` is how many backoffs came before this one. Default: always 'backoff'. */
  verdict?(error: unknown, backoffs: number): RetryVerdict;
  /** Told before each backoff (for the log line). */
  onRetry?(error: unknown, backoffs: number, delayMs: number): void;
}

/**
 * The one retry loop (node-slack-sdk's retry-policies.ts is the model: named policies, one loop):
 * calls `attempt` until it resolves, the verdict says 'throw', or a sleep rejects. 'now' retries
 * without waiting: the failure carried its own wait (a 429's Retry-After is kept by the pace gate).
 */
export async function retrying<T>(attempt: () => Promise<T>, options: RetryOptions): Promise<T> {
  let backoffs = 0;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      const verdict = options.verdict?.(error, backoffs) ?? 'backoff';
      if (verdict === 'throw') throw error;
      if (verdict === 'now') continue;
      const delayMs = backoffDelay(options.policy, backoffs, options.random);
      options.onRetry?.(error, backoffs, delayMs);
      backoffs += 1;
      await options.sleep(delayMs);
    }
  }
}
