/**
 * Where a record's offset becomes committable: the one place a taken entry (one record, or a fold run
 * of several, fold-run.ts) ends. A 'finished' completion marks its commit-tracker ticket finished,
 * which makes its offsets committable once every earlier offset of the partition is finished too
 * (src/delivery/commit-tracker.ts), and asks the committer (committer.ts) to commit; an 'abandoned'
 * one leaves its offsets uncommitted, to be read again (a revoked partition, a shutdown deadline); a
 * 'fatal' one stops the service. Either way the entry's counts are given back, partitions paused for
 * room may fetch again, and a drain waiting for idleness is woken.
 */
import type { CommitTracker, Ticket } from '../delivery/commit-tracker.ts';
import type { Clock } from '../ports/index.ts';
import type { Backpressure } from './backpressure.ts';
import type { Committer } from './committer.ts';
import { type LoopState, wakeIfIdle } from './loop-state.ts';
import type { Completion } from './record-work.ts';

/** What one taken entry counts for while it waits (loop-state.ts). */
export interface Taken {
  ticket: Ticket;
  /** Records it stands for (a fold run: several). */
  records: number;
  /** Of them, folded into digests. */
  folded: number;
  /** Bytes it holds. */
  bytes: number;
}

export interface SettleDeps {
  state: LoopState;
  tracker: Pick<CommitTracker, 'finish'>;
  committer: Pick<Committer, 'schedule'>;
  backpressure: Pick<Backpressure, 'resumeWhatFits'>;
  clock: Clock;
  /** The service must stop (called with the fatal completion's error). */
  fatal(error: unknown): void;
}

export function settle(deps: SettleDeps, entry: Taken, completion: Completion): void {
  const { state } = deps;
  state.taken -= entry.records;
  state.folded -= entry.folded;
  state.heldBytes -= entry.bytes;
  if (completion.kind === 'finished') {
    deps.tracker.finish(entry.ticket);
    state.lastProgressAt = deps.clock.now();
    void deps.committer.schedule();
  } else if (completion.kind === 'fatal') {
    deps.fatal(completion.error);
  }
  deps.backpressure.resumeWhatFits();
  wakeIfIdle(state);
}
