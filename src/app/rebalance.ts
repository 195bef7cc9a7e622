/**
 * Joining the group (again): which partitions this member no longer owns (their unfinished work is
 * dropped, to be read again by their new owner), and which of the ones it owns fetch or stay paused.
 * `planAssignment` decides from plain data; `revokePartition` forgets one partition's state.
 */
import type { CommitTracker } from '../delivery/commit-tracker.ts';
import { partitionKey as keyOf, type TopicPartition } from '../domain/record.ts';
import type { Logger } from '../ports/index.ts';
import type { Backpressure } from './backpressure.ts';
import type { LoopState } from './loop-state.ts';

export interface AssignmentPlan {
  /** Known before (tracked, assigned or paused) and not owned now. */
  revoke: TopicPartition[];
  /** Owned now and to stay paused (the loop is stopping, or admission paused them). */
  pause: TopicPartition[];
  /** Owned now and to fetch. */
  resume: TopicPartition[];
}

/**
 * kafkajs keeps pauses across rebalances (also of partitions that went away and came back) but forgets
 * them on a crash-restart: the plan makes its state match ours for every partition now owned.
 */
export function planAssignment(
  known: readonly TopicPartition[],
  owned: readonly TopicPartition[],
  o: { stopping: boolean; isPaused(tp: TopicPartition): boolean },
): AssignmentPlan {
  const now = new Set(owned.map(keyOf));
  const before = new Map<string, TopicPartition>();
  for (const tp of known) before.set(keyOf(tp), { topic: tp.topic, partition: tp.partition });
  const plan: AssignmentPlan = { revoke: [], pause: [], resume: [] };
  for (const [key, tp] of before) if (!now.has(key)) plan.revoke.push(tp);
  for (const tp of owned) {
    const copy = { topic: tp.topic, partition: tp.partition };
    (o.stopping || o.isPaused(copy) ? plan.pause : plan.resume).push(copy);
  }
  return plan;
}

/** Forgets a partition this member no longer owns: its work is aborted, its offsets not committed. */
export function revokePartition(
  state: LoopState,
  deps: {
    tracker: Pick<CommitTracker, 'revoke'>;
    backpressure: Pick<Backpressure, 'forget'>;
    logger: Logger;
  },
  tp: TopicPartition,
): void {
  const key = keyOf(tp);
  deps.tracker.revoke(tp);
  state.openRuns.delete(key);
  state.partitionAborts
    .get(key)
    ?.controller.abort(new Error(`partition ${tp.topic}[${tp.partition}] revoked`));
  state.partitionAborts.delete(key);
  deps.backpressure.forget(tp);
  state.highWatermarks.delete(key);
  deps.logger.info(
    { topic: tp.topic, partition: tp.partition },
    'partition revoked; its unfinished work is dropped',
  );
}
