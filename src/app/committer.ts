/**
 * Commits what the commit tracker says is finished: coalesced (a commit requested while one is on the
 * wire runs once more after it, with everything finished by then), one at a time, and retried with
 * backoff after a failure the error table says to retry (KAFKA_COMMIT_FAILED: a rebalance in progress,
 * a moved coordinator, a broker that is away). Anything else (an INTERNAL bug) is not retried: it is
 * logged and handed to onFatal, as the table's 'stop' says (src/domain/errors.ts).
 *
 * One retrying() loop (src/delivery/retry-policy.ts) runs the rounds while there is work; a request
 * during its backoff ends the wait at once (a rejoin must not wait out a backoff from before it).
 */
import type { CommitOffset, CommitTracker } from '../delivery/commit-tracker.ts';
import { type RetryPolicy, retrying } from '../delivery/retry-policy.ts';
import { describeError, dispositionOf } from '../domain/errors.ts';
import type { Clock, Logger, RecordSource } from '../ports/index.ts';

export interface CommitterOptions {
  tracker: CommitTracker;
  source: Pick<RecordSource, 'commit'>;
  clock: Clock;
  logger: Logger;
  retry: RetryPolicy;
  random: () => number;
  /** Commits wait while this is false (membership in doubt); call schedule() again once it holds. */
  canCommit: () => boolean;
  /** Aborting it cancels a pending retry (shutdown). */
  signal: AbortSignal;
  onCommitted?: (offsets: CommitOffset[]) => void;
  /**
   * Told of a commit failure the error table does not say to retry (a 'stop': a bug). Later requests
   * still commit (a drain commits what finished). Default: none (the failure is logged only).
   */
  onFatal?: (error: unknown) => void;
}

export interface Committer {
  /** Commit soon; resolves when this round (and any it coalesced) is done or failed. */
  schedule(): Promise<void>;
  /** Waits for a commit on the wire, then commits whatever is left. */
  flush(): Promise<void>;
}

export function createCommitter(opts: CommitterOptions): Committer {
  const { tracker, source, clock, logger, retry, random } = opts;
  /** The rounds and their retries, while a request is being served. */
  let loop: Promise<void> | undefined;
  /** A request came while a round was on the wire or waiting for its backoff. */
  let again = false;
  /** Requests waiting for the end of the next round (success or failure). */
  let waiters: Array<() => void> = [];
  /** Ends the backoff now (a request came meanwhile). */
  let wake: (() => void) | undefined;
  /** The offsets of the last refused commit (for the log line). */
  let refused: CommitOffset[] = [];

  const endRound = (): void => {
    const ended = waiters;
    waiters = [];
    for (const resolve of ended) resolve();
  };

  /** Commits until nothing more was asked for meanwhile; throws the first refusal. */
  const round = async (): Promise<void> => {
    try {
      do {
        again = false;
        if (!opts.canCommit()) return;
        const offsets = tracker.committable();
        if (offsets.length === 0) return;
        try {
          await source.commit(offsets);
        } catch (error) {
          // The retry (after its backoff) serves a request that came meanwhile.
          again = false;
          refused = offsets;
          throw error;
        }
        tracker.markCommitted(offsets);
        opts.onCommitted?.(offsets);
        logger.debug({ offsets }, 'committed');
      } while (again);
    } finally {
      endRound();
    }
  };

  /** The backoff's wait: cancelled by shutdown (ending the retries), cut short by a request. */
  const sleep = (ms: number): Promise<void> => {
    // Asked for (or flushed) between the failure and this wait: served at once.
    if (again || waiters.length > 0) return Promise.resolve();
    const woken = new AbortController();
    wake = () => woken.abort();
    return clock.sleep(ms, AbortSignal.any([opts.signal, woken.signal])).then(
      () => {
        wake = undefined;
      },
      (error: unknown) => {
        wake = undefined;
        if (opts.signal.aborted) throw error;
      },
    );
  };

  const schedule = (): Promise<void> => {
    const done = new Promise<void>((resolve) => waiters.push(resolve));
    if (loop !== undefined) {
      again = true;
      wake?.();
      return done;
    }
    loop = retrying(round, {
      policy: retry,
      random,
      sleep,
      verdict: (error) => (!opts.signal.aborted && dispositionOf(error) === 'retry' ? 'backoff' : 'throw'),
      onRetry: (error, _backoffs, delayMs) =>
        logger.warn({ offsets: refused, delayMs, error: describeError(error) }, 'commit failed; will retry'),
    })
      .catch((error: unknown) => {
        const fields = { offsets: refused, error: describeError(error) };
        // Shutting down: what is left is committed by the next owner (or the drain's own commit).
        if (opts.signal.aborted) return logger.warn(fields, 'commit failed while shutting down');
        // Not transient: no record to dead-letter and nothing to go on without, so the table's stop.
        logger.error(fields, 'commit failed and will not be retried');
        opts.onFatal?.(error);
      })
      .finally(() => {
        loop = undefined;
        // Asked for after the last round looked and before this ran (it returned with nothing to
        // commit while another record finished): that request would otherwise wait for the next one.
        if (again) void schedule();
        else endRound();
      });
    return done;
  };

  return {
    schedule,
    async flush() {
      // A round on the wire ends first (its failure included); a backoff is not waited out.
      if (loop !== undefined && wake === undefined)
        await new Promise<void>((resolve) => waiters.push(resolve));
      await schedule();
    },
  };
}
