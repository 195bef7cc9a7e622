/**
 * One call to the chat destination through the pace gates, retried until it has a final answer.
 *
 * Slack's rule for chat.postMessage (https://docs.slack.dev/apis/web-api/rate-limits, "Posting
 * messages"): about one message per second per channel, short bursts allowed but not guaranteed to be
 * stored, an unnumbered workspace-wide limit; past it, HTTP 429 with Retry-After.
 * - Every HTTP call (first attempts and retries alike) passes two token-bucket gates (pace.ts): the
 *   channel's and the workspace's, taken together and atomically just before the call (PaceGate: in
 *   this process, or in the shared store so that all replicas together keep the pace). The channel's
 *   bucket is then pushed to one emission after the answer: Slack saw the call somewhere between our
 *   send and its answer, so pacing from the answer keeps the calls as Slack sees them within the pace
 *   whatever the network delays (measured against the stand-in: pacing from the send alone met a 429
 *   every few hundred calls at equal pace).
 * - A 429 (a retryable failure carrying its own wait, details.retryAfterMs) blocks that channel's
 *   bucket for Retry-After (shared: every replica waits), then the same call is made again.
 * - Transient failures retry with capped exponential backoff and jitter (retry-policy.ts), without
 *   giving up, until the signal aborts.
 * - Permanent failures are the answer ({ ok: false }); an auth failure is thrown ('stop').
 * The decision per error is dispositionOf (src/domain/errors.ts), nowhere else.
 */
import { dispositionOf, failureLabel, isNotifierError, NotifierError } from '../domain/errors.ts';
import type { Clock, Logger, Metrics, PaceBucket, PaceGate } from '../ports/index.ts';
import { type RetryPolicy, retrying } from './retry-policy.ts';

export type CallResult<T> = { ok: true; value: T } | { ok: false; error: NotifierError };

export interface Gates {
  pace: PaceGate;
  channel: PaceBucket;
  workspace: PaceBucket;
}

export interface SendDeps {
  clock: Clock;
  metrics: Metrics;
  logger: Logger;
  retry: RetryPolicy;
  random: () => number;
}

/** Waits until both gates allow a call and takes a slot in each. */
async function acquire(gates: Gates, clock: Clock, metrics: Metrics, signal: AbortSignal): Promise<void> {
  let waited = 0;
  for (;;) {
    signal.throwIfAborted();
    // Whole ms: timers round fractions (intervalMs / cap need not be an integer) down.
    const delay = Math.ceil(await gates.pace.acquire([gates.channel, gates.workspace]));
    if (delay <= 0) {
      if (waited > 0) metrics.paceWait(waited);
      return;
    }
    waited += delay;
    await clock.sleep(delay, signal);
  }
}

/**
 * The wait a retryable failure names itself (details.retryAfterMs: a 429's Retry-After, as every
 * destination reports it, ports ChatDestination): the channel is blocked for it and the call made again
 * then, instead of backing off. Whether to retry at all is the table's (dispositionOf).
 */
function ownWaitOf(error: unknown): number | undefined {
  if (!isNotifierError(error)) return undefined;
  const { retryAfterMs } = error.details;
  return typeof retryAfterMs === 'number' && Number.isFinite(retryAfterMs) ? retryAfterMs : undefined;
}

/**
 * Makes `call` through the gates until it succeeds (ok), fails permanently (ok: false), throws a
 * 'stop' error, or `signal` aborts (rejects with its reason). A destination that throws something
 * other than a NotifierError broke its contract: that is INTERNAL and stops the service.
 */
export async function sendGated<T>(
  channel: string,
  gates: Gates,
  call: () => Promise<T>,
  deps: SendDeps,
  signal: AbortSignal,
): Promise<CallResult<T>> {
  const { clock, metrics, logger } = deps;
  const attempt = async (): Promise<CallResult<T>> => {
    signal.throwIfAborted();
    await acquire(gates, clock, metrics, signal);
    try {
      const value = await call();
      await gates.pace.answered(gates.channel);
      metrics.slackCall('ok');
      return { ok: true, value };
    } catch (thrown) {
      await gates.pace.answered(gates.channel);
      if (!isNotifierError(thrown)) {
        throw new NotifierError('INTERNAL', `chat destination threw: ${String(thrown)}`, { cause: thrown });
      }
      metrics.slackCall(failureLabel(thrown));
      if (dispositionOf(thrown) === 'dead-letter') {
        logger.warn({ channel, code: thrown.code, details: thrown.details }, 'Slack refused the message');
        return { ok: false, error: thrown };
      }
      throw thrown;
    }
  };
  return retrying(attempt, {
    policy: deps.retry,
    random: deps.random,
    sleep: (ms) => clock.sleep(ms, signal),
    verdict: (error) => {
      if (signal.aborted || dispositionOf(error) !== 'retry') return 'throw';
      const retryAfterMs = ownWaitOf(error);
      if (retryAfterMs !== undefined) {
        void gates.pace.block(gates.channel, retryAfterMs).catch(() => {});
        metrics.rateLimited(channel);
        logger.warn({ channel, retryAfterMs }, 'Slack rate limited the channel; pausing it for Retry-After');
        return 'now';
      }
      return 'backoff';
    },
    onRetry: (error, backoffs, delayMs) => {
      const e = error as NotifierError;
      logger.warn(
        { channel, code: e.code, details: e.details, attempt: backoffs + 1, delayMs },
        'Slack call failed; retrying',
      );
    },
  });
}
