/**
 * One call to the chat destination through the pace gates, retried until it has a final answer.
 *
 * Slack's rule for chat.postMessage (https://docs.slack.dev/apis/web-api/rate-limits, "Posting
 * messages"): about one message per second per channel, short bursts allowed but not guaranteed to be
 * stored, an unnumbered workspace-wide limit; past it, HTTP 429 with Retry-After.
 * - Every HTTP call (first attempts and retries alike) passes two token-bucket gates (pace.ts): the
 *   channel's and the workspace's, checked at the same instant just before the call. The workspace gate
 *   records the call then (it is shared, so the slot is taken at once); the channel gate records it when
 *   the answer arrives: Slack saw the call somewhere between our send and its answer, so pacing from the
 *   answer keeps the calls as Slack sees them within the pace whatever the network delays (measured
 *   against the stand-in: pacing from the send met a 429 every few hundred calls at equal pace).
 * - A 429 blocks that channel's gate for Retry-After, then the same call is made again.
 * - Transient failures retry with capped exponential backoff and jitter (retry-policy.ts), without
 *   giving up, until the signal aborts.
 * - Permanent failures are the answer ({ ok: false }); an auth failure is thrown ('stop').
 * The decision per error is dispositionOf (src/domain/errors.ts), nowhere else.
 */
import { dispositionOf, failureLabel, isNotifierError, NotifierError } from '../domain/errors.ts';
import type { Clock, Logger, Metrics } from '../ports/index.ts';
import type { PaceWindow } from './pace.ts';
import { type RetryPolicy, retrying } from './retry-policy.ts';

export type CallResult<T> = { ok: true; value: T } | { ok: false; error: NotifierError };

export interface Gates {
  channel: PaceWindow;
  workspace: PaceWindow;
}

export interface SendDeps {
  clock: Clock;
  metrics: Metrics;
  logger: Logger;
  retry: RetryPolicy;
  random: () => number;
}

/** Waits until both gates allow a call and takes the workspace's slot. */
async function acquire(gates: Gates, clock: Clock, signal: AbortSignal): Promise<void> {
  for (;;) {
    const now = clock.now();
    // Whole ms: timers round fractions (intervalMs / cap need not be an integer) down.
    const delay = Math.ceil(Math.max(gates.channel.delayAt(now), gates.workspace.delayAt(now)));
    if (delay <= 0) {
      gates.workspace.record(now);
      return;
    }
    await clock.sleep(delay, signal);
  }
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
    await acquire(gates, clock, signal);
    try {
      const value = await call();
      gates.channel.record(clock.now());
      metrics.slackCall('ok');
      return { ok: true, value };
    } catch (thrown) {
      gates.channel.record(clock.now());
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
      if (isNotifierError(error) && error.code === 'SLACK_RATE_LIMITED') {
        const retryAfterMs = Number(error.details.retryAfterMs ?? 1000);
        gates.channel.blockUntil(clock.now() + retryAfterMs);
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
