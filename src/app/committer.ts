/**
 * Commits what the commit tracker says is finished: coalesced (a commit requested while one is on the
 * wire runs once more after it, with everything finished by then), one at a time, and retried with
 * backoff after a failure (a rebalance in progress, a moved coordinator, a broker that is away).
 */
import type { CommitOffset, CommitTracker } from '../delivery/commit-tracker.ts';
import { backoffDelay, type RetryPolicy } from '../delivery/retry-policy.ts';
import { describeError } from '../domain/errors.ts';
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
}

export interface Committer {
  /** Commit soon; resolves when this round (and any it coalesced) is done or failed. */
  schedule(): Promise<void>;
  /** Waits for a commit on the wire, then commits whatever is left. */
  flush(): Promise<void>;
}

export function createCommitter(opts: CommitterOptions): Committer {
  const { tracker, source, clock, logger, retry, random } = opts;
  let committing: Promise<void> | undefined;
  let again = false;
  let retryScheduled = false;
  let failures = 0;

  const run = async (): Promise<void> => {
    do {
      again = false;
      if (!opts.canCommit()) return;
      const offsets = tracker.committable();
      if (offsets.length === 0) return;
      try {
        await source.commit(offsets);
        failures = 0;
        tracker.markCommitted(offsets);
        opts.onCommitted?.(offsets);
        logger.debug({ offsets }, 'committed');
      } catch (error) {
        failures += 1;
        // The retry waits for its backoff: a request meanwhile is served by it.
        again = false;
        logger.warn({ offsets, error: describeError(error) }, 'commit failed; will retry');
        if (!opts.signal.aborted && !retryScheduled) {
          retryScheduled = true;
          clock.sleep(backoffDelay(retry, failures - 1, random), opts.signal).then(
            () => {
              retryScheduled = false;
              void schedule();
            },
            () => {
              retryScheduled = false;
            },
          );
        }
        return;
      }
    } while (again);
  };

  const schedule = (): Promise<void> => {
    if (committing !== undefined) {
      again = true;
      return committing;
    }
    committing = run().finally(() => {
      committing = undefined;
      // Asked for after run() last looked and before this ran (run returned with nothing to commit
      // while another record finished): that request would otherwise wait for the next one.
      if (again) void schedule();
    });
    return committing;
  };

  return {
    schedule,
    async flush() {
      if (committing !== undefined) await committing.catch(() => {});
      await schedule();
    },
  };
}
