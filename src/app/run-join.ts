/**
 * Which records join a fold run (fold-run.ts): a record whose messages all go into the digests its
 * partition's open run folds into joins that run; one whose messages all go into digests starts a
 * run; anything else waits on its own (record-loop.ts take). Joining takes the record, submits its
 * messages with the run's share and keeps per record only what finishing it needs.
 */
import type { CommitTracker } from '../delivery/commit-tracker.ts';
import type { ChangeEvent } from '../domain/change.ts';
import type { OutboundMessage } from '../domain/message.ts';
import type { Outcome } from '../domain/outcome.ts';
import { partitionKey as keyOf, type SourceRecord } from '../domain/record.ts';
import type { Clock, Deliverer, SourceBatch } from '../ports/index.ts';
import { createFoldRun, type FoldRun, intern, type RunEnd } from './fold-run.ts';
import type { LastValuesEdge } from './last-values.ts';
import { type LoopState, noteStart, signalFor } from './loop-state.ts';

export interface RunJoinDeps {
  state: LoopState;
  tracker: Pick<CommitTracker, 'take' | 'extend'>;
  deliverer: Pick<Deliverer, 'foldTarget' | 'submitShared'>;
  clock: Clock;
  /** The last-values edge for runs (record-loop.ts RecordLoopOptions.runValues), if any. */
  runValues: Pick<LastValuesEdge, 'hold' | 'writeNow'> | undefined;
  /** A run started: this is called once when it ends. */
  onEnd(run: FoldRun, end: RunEnd): void;
}

/**
 * The digests the messages fold into (Deliverer.foldTarget), as one key; undefined when one of them
 * would not go into a digest, or would open one and `opening` is false.
 */
export function foldKey(
  deliverer: Pick<Deliverer, 'foldTarget'>,
  messages: readonly OutboundMessage[],
  event: ChangeEvent,
  opening: boolean,
): string | undefined {
  let key = '';
  for (const m of messages) {
    const target = deliverer.foldTarget(m, event);
    if (target === undefined || (target === '+' && !opening)) return undefined;
    key = key === '' ? target : `${key}\u0000${target}`;
  }
  return key;
}

/** Takes the record into its partition's run (opening one if needed); false when it cannot join. */
export function joinRun(
  deps: RunJoinDeps,
  batch: SourceBatch,
  record: SourceRecord,
  outcome: Outcome,
): boolean {
  const { state, tracker, deliverer } = deps;
  if (outcome.kind !== 'notify' || outcome.messages.length === 0) return false;
  const offset = Number(record.offset);
  if (!Number.isSafeInteger(offset)) return false;
  const { event, messages } = outcome;
  if (event === undefined) return false;
  const key = foldKey(deliverer, messages, event, true);
  if (key === undefined) return false;
  const pk = keyOf(batch);
  let run = state.openRuns.get(pk);
  if (run === undefined || !run.open() || run.key !== key || !tracker.extend(run.ticket, record)) {
    const started = createFoldRun(
      batch,
      tracker.take(record),
      signalFor(state, batch),
      messages.map((m) => m.channel),
    );
    run = started;
    state.openRuns.set(pk, started);
    noteStart(state, deps.clock);
    void started.done.then((end) => deps.onEnd(started, end));
  }
  batch.take(record.offset);
  state.taken += 1;
  state.folded += 1;
  run.offsets.push(offset);
  run.listingIds.push(outcome.listingId);
  run.reasons.push(intern(outcome.reason));
  run.sourceTsMs.push(outcome.sourceTsMs ?? Number.NaN);
  const { learned } = outcome;
  const values = deps.runValues;
  if (learned === undefined || values === undefined) run.learned.push(undefined);
  else if (outcome.ownBefore === true) {
    // It carries its own before image: read again after a crash it needs nothing from the store.
    values.writeNow(learned);
    run.learned.push(undefined);
  } else run.learned.push(values.hold(learned));
  for (const m of messages) deliverer.submitShared(m, event, run.share);
  // Still one run with the next record only while every message sits in the same open digest.
  run.key = run.open() ? foldKey(deliverer, messages, event, false) : undefined;
  return true;
}
