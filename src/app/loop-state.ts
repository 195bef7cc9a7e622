/**
 * The record loop's state, as one plain object (issue 20): what the loop (record-loop.ts) and its
 * parts (settle.ts, fold-run.ts, drain.ts, rebalance.ts) read and change. Nothing here acts; the
 * functions are small reads of it.
 *
 * Counting: every record taken and not finished is `taken`; of those, `folded` wait in digests with
 * their coordinates only (fold runs, records folded on their own), and the rest wait as messages of
 * their own, holding their bytes (`heldBytes`) for the dead-letter topic. Admission bounds the two kinds
 * separately (admission.ts): `holding()` is the second kind's count.
 */
import { partitionKey as keyOf, type TopicPartition } from '../domain/record.ts';
import type { Clock } from '../ports/index.ts';
import type { FoldRun } from './fold-run.ts';

export interface LoopState {
  /** This member owns its assignment (onAssigned seen, no onUnassigned since): commits may go out. */
  joined: boolean;
  /** Draining or stopped: nothing more is taken. */
  stopping: boolean;
  /** onFatal was called (it is called once). */
  fatalSeen: boolean;
  assigned: TopicPartition[];
  /** Records taken and not finished. */
  taken: number;
  /** Of those, waiting in digests (coordinates only). */
  folded: number;
  /** Value and key bytes of the others. */
  heldBytes: number;
  /** When a record last finished (or work began after idleness), for the stall check. */
  lastProgressAt: number;
  /** Called once nothing is taken any more (drain waits for it). */
  idleWaiters: Array<() => void>;
  /** Per partition, the fold run that may still grow (fold-run.ts). */
  readonly openRuns: Map<string, FoldRun>;
  /**
   * One controller per owned partition and its signal joined with the loop's: built once per
   * assignment, not once per record (the per-record path is hot, and every composite signal is
   * tracked by its sources).
   */
  readonly partitionAborts: Map<string, { controller: AbortController; signal: AbortSignal }>;
  /** Aborts everything in flight (shutdown deadline, fatal stop). */
  readonly everything: AbortController;
  /** The last high watermark per partition (for the lag metric). */
  readonly highWatermarks: Map<string, string>;
}

export function createLoopState(clock: Clock): LoopState {
  return {
    joined: false,
    stopping: false,
    fatalSeen: false,
    assigned: [],
    taken: 0,
    folded: 0,
    heldBytes: 0,
    lastProgressAt: clock.now(),
    idleWaiters: [],
    openRuns: new Map(),
    partitionAborts: new Map(),
    everything: new AbortController(),
    highWatermarks: new Map(),
  };
}

/** Records waiting as messages of their own (holding their bytes): what maxInFlightRecords bounds. */
export const holding = (s: LoopState): number => s.taken - s.folded;

/** The signal a partition's work is aborted by (revoked, or everything aborted). */
export function signalFor(s: LoopState, tp: TopicPartition): AbortSignal {
  const key = keyOf(tp);
  let entry = s.partitionAborts.get(key);
  if (entry === undefined) {
    const controller = new AbortController();
    entry = { controller, signal: AbortSignal.any([s.everything.signal, controller.signal]) };
    s.partitionAborts.set(key, entry);
  }
  return entry.signal;
}

/** Work begins: after idleness, the stall clock starts now rather than at the last finish. */
export function noteStart(s: LoopState, clock: Clock): void {
  if (s.taken === 0) s.lastProgressAt = clock.now();
}

/** Resolves once nothing is taken any more. */
export const idle = (s: LoopState): Promise<void> =>
  s.taken === 0 ? Promise.resolve() : new Promise((resolve) => s.idleWaiters.push(resolve));

/** Wakes whoever waits for idleness, if nothing is taken any more. */
export function wakeIfIdle(s: LoopState): void {
  if (s.taken !== 0) return;
  const waiters = s.idleWaiters;
  s.idleWaiters = [];
  for (const w of waiters) w();
}
