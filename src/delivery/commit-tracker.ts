/**
 * Which offsets may be committed. Pure: no I/O, no clock.
 *
 * Records of one partition are taken in offset order but finish out of order (a record routed to a
 * slow channel finishes after a later record routed to a fast one, or one that was dropped). Kafka keeps
 * one committed position per partition, meaning "everything before this is done", so the position may
 * only move past a contiguous run of finished records: a record finished while an earlier one is still
 * pending is held back until the earlier one finishes. The committed value is the next offset to read,
 * `offset + 1` (https://kafka.apache.org/documentation/#consumerconfigs: committed offsets are positions).
 *
 * Contiguous means "in the order the records were taken", not "numerically consecutive": offsets of a
 * partition may have gaps (compaction, transaction markers).
 *
 * Offsets are 64-bit; they are kept as bigint inside and handed out as decimal strings like kafkajs's.
 */

import { type CommitOffset, partitionKey as keyOf, type TopicPartition } from '../domain/record.ts';

export type { CommitOffset, TopicPartition };

/** Proof that a record was taken; finishing it needs the ticket, so work from a revoked assignment is ignored. */
export interface Ticket extends TopicPartition {
  readonly offset: string;
}

export interface CommitTracker {
  /** Records that the record at `offset` is being processed. Offsets must increase per partition. */
  take(record: TopicPartition & { offset: string }): Ticket;
  /**
   * The record at `offset` joins the run `ticket` stands for (a fold run, src/app/fold-run.ts): one entry
   * for many records, finished at once. Only the partition's newest pending entry can grow, and only
   * forward: false (nothing changed) when another record was taken after it, or it is finished or revoked.
   */
  extend(ticket: Ticket, record: TopicPartition & { offset: string }): boolean;
  /** Whether `offset` was already taken in the current assignment (Kafka redelivers from the committed offset after a rejoin). */
  hasTaken(record: TopicPartition & { offset: string }): boolean;
  /** The record is finished: delivered everywhere, filtered out, or dead-lettered. A ticket of a revoked partition is ignored. */
  finish(ticket: Ticket): void;
  /** For each partition whose finished run moved past its last commit: the offset to commit. */
  committable(): CommitOffset[];
  /** The broker accepted these; never moves a partition's committed position backwards. */
  markCommitted(offsets: readonly CommitOffset[]): void;
  /** Forgets a partition (revoked): its pending work no longer counts and will not be committed. */
  revoke(tp: TopicPartition): void;
  /** Records taken and not yet finished, for one partition or all. */
  pendingCount(tp?: TopicPartition): number;
  /** Partitions the tracker holds state for. */
  partitions(): TopicPartition[];
  /** The committed position (or, before the first commit, the first offset taken), for lag. */
  position(tp: TopicPartition): string | undefined;
}

/**
 * Only records taken and not finished are kept, in a list in take order: a finished record is
 * unlinked at once, and what it contributes (the last offset finished behind a pending one) is folded
 * into the pending entry before it (`finishedAfter`). So the tracker holds O(pending) entries however
 * long one record stays unfinished (a dead-letter topic that refuses writes, a slow channel) while
 * the records after it finish: pending records are bounded by admission (delivery.maxInFlightRecords
 * and flood.maxFoldedRecords), and nothing else grows (issue 19, finding 4).
 */
interface Entry {
  offset: bigint;
  /** The last offset the entry covers: `offset` for a record, the newest record for a run (extend). */
  last: bigint;
  done: boolean;
  state: PartitionState;
  prev: Entry | undefined;
  next: Entry | undefined;
  /** The last offset finished after this entry and before the next pending one. */
  finishedAfter: bigint | undefined;
}

interface PartitionState {
  tp: TopicPartition;
  /** The oldest and newest records taken and not finished (a list through prev/next). */
  head: Entry | undefined;
  tail: Entry | undefined;
  /** Taken and not finished. */
  pending: number;
  lastTaken: bigint | undefined;
  /** Last offset of the contiguous finished run. */
  finishedThrough: bigint | undefined;
  /** Committed position (next offset to read) as acknowledged by the broker. */
  committed: bigint | undefined;
  firstTaken: bigint | undefined;
}

export function createCommitTracker(): CommitTracker {
  const states = new Map<string, PartitionState>();
  const entries = new WeakMap<Ticket, Entry>();

  const stateFor = (tp: TopicPartition): PartitionState => {
    const key = keyOf(tp);
    let state = states.get(key);
    if (state === undefined) {
      state = {
        tp: { topic: tp.topic, partition: tp.partition },
        head: undefined,
        tail: undefined,
        pending: 0,
        lastTaken: undefined,
        finishedThrough: undefined,
        committed: undefined,
        firstTaken: undefined,
      };
      states.set(key, state);
    }
    return state;
  };

  /** Unlinks a finished entry; the run advances when it was the oldest pending one. */
  const unlink = (state: PartitionState, entry: Entry): void => {
    const through = entry.finishedAfter ?? entry.last;
    if (entry.prev === undefined) state.finishedThrough = through;
    else entry.prev.finishedAfter = through;
    if (entry.prev === undefined) state.head = entry.next;
    else entry.prev.next = entry.next;
    if (entry.next === undefined) state.tail = entry.prev;
    else entry.next.prev = entry.prev;
    entry.prev = undefined;
    entry.next = undefined;
  };

  return {
    take(record) {
      const state = stateFor(record);
      const offset = BigInt(record.offset);
      if (state.lastTaken !== undefined && offset <= state.lastTaken) {
        throw new RangeError(
          `offset ${record.offset} of ${record.topic}[${record.partition}] taken after ${state.lastTaken}`,
        );
      }
      const entry: Entry = {
        offset,
        last: offset,
        done: false,
        state,
        prev: state.tail,
        next: undefined,
        finishedAfter: undefined,
      };
      if (state.tail === undefined) state.head = entry;
      else state.tail.next = entry;
      state.tail = entry;
      state.pending += 1;
      state.lastTaken = offset;
      state.firstTaken ??= offset;
      const ticket: Ticket = { topic: record.topic, partition: record.partition, offset: record.offset };
      entries.set(ticket, entry);
      return ticket;
    },

    extend(ticket, record) {
      const entry = entries.get(ticket);
      if (entry === undefined || entry.done) return false;
      const { state } = entry;
      if (states.get(keyOf(state.tp)) !== state || state.tail !== entry) return false;
      const offset = BigInt(record.offset);
      if (state.lastTaken !== undefined && offset <= state.lastTaken) return false;
      // Records finished between the run's last and this one (noise) are inside its range now.
      entry.last = offset;
      entry.finishedAfter = undefined;
      state.lastTaken = offset;
      return true;
    },

    hasTaken(record) {
      const state = states.get(keyOf(record));
      return state?.lastTaken !== undefined && BigInt(record.offset) <= state.lastTaken;
    },

    finish(ticket) {
      const entry = entries.get(ticket);
      if (entry === undefined || entry.done) return;
      entry.done = true;
      // A ticket from before a revocation points at a state that is no longer current: ignore it.
      if (states.get(keyOf(entry.state.tp)) !== entry.state) return;
      entry.state.pending -= 1;
      unlink(entry.state, entry);
    },

    committable() {
      const out: CommitOffset[] = [];
      for (const state of states.values()) {
        if (state.finishedThrough === undefined) continue;
        const next = state.finishedThrough + 1n;
        if (state.committed === undefined || next > state.committed) {
          out.push({ topic: state.tp.topic, partition: state.tp.partition, offset: next.toString() });
        }
      }
      return out;
    },

    markCommitted(offsets) {
      for (const o of offsets) {
        const state = states.get(keyOf(o));
        if (state === undefined) continue;
        const value = BigInt(o.offset);
        if (state.committed === undefined || value > state.committed) state.committed = value;
      }
    },

    revoke(tp) {
      states.delete(keyOf(tp));
    },

    pendingCount(tp) {
      const count = (s: PartitionState): number => s.pending;
      if (tp !== undefined) {
        const state = states.get(keyOf(tp));
        return state === undefined ? 0 : count(state);
      }
      let total = 0;
      for (const state of states.values()) total += count(state);
      return total;
    },

    partitions() {
      return [...states.values()].map((s) => ({ topic: s.tp.topic, partition: s.tp.partition }));
    },

    position(tp) {
      const state = states.get(keyOf(tp));
      const value = state?.committed ?? state?.firstTaken;
      return value?.toString();
    },
  };
}
