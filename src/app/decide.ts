/**
 * The pipeline step of the record loop: a record's outcome, with the errors the table calls
 * transient ('retry', src/domain/errors.ts dispositionOf) retried in place. The retry waits inside the
 * batch handler, heartbeating, so a broker or registry that is away for a while costs no rebalance;
 * the wait ends early when the loop stops or the batch goes stale (undefined is returned then).
 */
import { type RetryPolicy, retrying } from '../delivery/retry-policy.ts';
import { asRecordFailure, describeError, dispositionOf } from '../domain/errors.ts';
import type { Outcome } from '../domain/outcome.ts';
import type { SourceRecord } from '../domain/record.ts';
import type { Clock, Logger, RecordPipeline, SourceBatch } from '../ports/index.ts';
import type { LoopState } from './loop-state.ts';

export interface DecideDeps {
  pipeline: RecordPipeline;
  retry: RetryPolicy;
  random: () => number;
  clock: Clock;
  logger: Logger;
  /** How often to heartbeat while waiting (kafkajs's heartbeatInterval). */
  heartbeatEveryMs: number;
  state: Pick<LoopState, 'stopping' | 'everything'>;
}

/** Sleeps `ms` in the handler, heartbeating; rejects when a stop or a stale batch cuts it short. */
async function sleepWithHeartbeat(deps: DecideDeps, batch: SourceBatch, ms: number): Promise<void> {
  let remaining = ms;
  while (remaining > 0) {
    const step = Math.min(remaining, deps.heartbeatEveryMs);
    await deps.clock.sleep(step, deps.state.everything.signal);
    remaining -= step;
    await batch.heartbeat().catch(() => {});
    if (deps.state.stopping || !batch.isActive()) throw new Error('batch no longer active');
  }
}

/** The pipeline's outcome, retrying 'retry' errors in place; undefined when the batch went stale meanwhile. */
export async function decide(
  deps: DecideDeps,
  batch: SourceBatch,
  record: SourceRecord,
): Promise<Outcome | undefined> {
  // The first attempt outside the retry loop: most records need no retry, and the loop's closures and
  // options cost every record (issue 16). A failure enters the loop as its first attempt's, so the
  // backoffs, log lines and verdicts are the loop's as before.
  let first: { error: unknown } | undefined;
  try {
    return await deps.pipeline.process(record);
  } catch (error) {
    first = { error };
  }
  const attempt = (): Promise<Outcome> => {
    if (first === undefined) return deps.pipeline.process(record);
    const { error } = first;
    first = undefined;
    return Promise.reject(error);
  };
  try {
    return await retrying(attempt, {
      policy: deps.retry,
      random: deps.random,
      sleep: (ms) => sleepWithHeartbeat(deps, batch, ms),
      verdict: (error) => (dispositionOf(error) === 'retry' ? 'backoff' : 'throw'),
      onRetry: (error, _, delayMs) =>
        deps.logger.warn(
          {
            topic: record.topic,
            partition: record.partition,
            offset: record.offset,
            delayMs,
            error: describeError(error),
          },
          'pipeline failed transiently; retrying',
        ),
    });
  } catch (error) {
    if (deps.state.stopping || !batch.isActive()) return undefined;
    // The pipeline should have returned this as an outcome; honour the table all the same. Anything
    // not coded is this record's failure, never the service's (issue 19): PROCESSING_FAILED.
    const e = asRecordFailure(error, 'pipeline');
    if (e.disposition === 'dead-letter') return { kind: 'dead-letter', reason: e.code, error: e };
    throw error;
  }
}
