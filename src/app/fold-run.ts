/**
 * A fold run: consecutive records of one partition whose messages all went into the same open digests
 * (issue 16). Such records wait for the same thing (those digests going out), so they wait as one: one
 * commit-tracker entry covering their offsets (commit-tracker.ts extend), one share in each digest
 * (ports Share), one completion. Per record only what finishing it needs is kept, in flat arrays: its
 * offset, its listing id and reason (for the log lines, both shared with the digest and interned), its
 * source time (latency) and its learned values (last-values.ts hold). A record in a run costs about
 * 40 bytes here instead of the ~2 kB of a promise chain, a share, a ticket and its coordinates each.
 *
 * Pure bookkeeping: the record loop (record-loop.ts) decides which records join, submits their
 * messages with the run's share and finishes the run when `done` resolves.
 */

import type { Ticket } from '../delivery/commit-tracker.ts';
import { originOf } from '../delivery/ledger.ts';
import { graver } from '../delivery/scheduler.ts';
import type { TopicPartition } from '../domain/record.ts';
import type { Fate, SharedShare } from '../ports/index.ts';

export type FailedFate = Extract<Fate, { kind: 'failed' }>;

export type RunEnd =
  | {
      kind: 'settled';
      /** The gravest fate of its digests (and of the messages of their own that went out). */
      fate: Fate;
      /**
       * Listings whose message of their own (an urgent change lifted out of the digest) was refused
       * for good: only their records are dead letters, the digest delivered the rest.
       */
      failedListings: ReadonlyMap<string, FailedFate>;
    }
  | { kind: 'failed'; error: unknown };

export interface FoldRun {
  readonly tp: TopicPartition;
  readonly ticket: Ticket;
  readonly share: SharedShare;
  /** The digests it folds into (Deliverer.foldTarget per message); undefined: it cannot grow any more. */
  key: string | undefined;
  /** Channels of its records' messages (all records of a run go to the same digests). */
  readonly channels: readonly string[];
  readonly offsets: number[];
  readonly listingIds: Array<string | undefined>;
  readonly reasons: string[];
  /** source.ts_ms per record, NaN when unknown. */
  readonly sourceTsMs: number[];
  /** Per record, its learned values as held by the last-values edge (last-values.ts hold), or undefined. */
  readonly learned: Array<string | undefined>;
  /** Still collecting records: no digest it joined has settled it yet. */
  open(): boolean;
  /** Resolves once every item its share joined settled, or when delivery stopped or the signal aborted. */
  readonly done: Promise<RunEnd>;
}

/** Reasons repeat ("notify: price_drop -> sales-alerts"): one string each, not one per record. */
const reasonsSeen = new Map<string, string>();
const MAX_REASONS = 1000;
export function intern(reason: string): string {
  const known = reasonsSeen.get(reason);
  if (known !== undefined) return known;
  if (reasonsSeen.size >= MAX_REASONS) reasonsSeen.clear();
  reasonsSeen.set(reason, reason);
  return reason;
}

export function createFoldRun(
  tp: TopicPartition,
  ticket: Ticket,
  signal: AbortSignal,
  channels: readonly string[],
): FoldRun {
  let resolve: (end: RunEnd) => void = () => {};
  const done = new Promise<RunEnd>((r) => {
    resolve = r;
  });
  let items = 0;
  let fate: Fate | undefined;
  const failedListings = new Map<string, FailedFate>();
  let ended = false;
  const offsets: number[] = [];
  const end = (value: RunEnd): void => {
    if (ended) return;
    ended = true;
    resolve(value);
  };
  const share: SharedShare = {
    signal,
    joined: () => {
      items += 1;
    },
    settle: (f, listing) => {
      items -= 1;
      if (f.kind === 'failed' && listing !== undefined) failedListings.set(listing, f);
      else fate = graver(fate, f);
      if (items > 0) return;
      const last = fate ?? failedListings.values().next().value;
      if (last !== undefined) end({ kind: 'settled', fate: last, failedListings });
    },
    fail: (error) => end({ kind: 'failed', error }),
    origins: () =>
      offsets.map((offset) => originOf({ topic: tp.topic, partition: tp.partition, offset: String(offset) })),
  };
  return {
    tp: { topic: tp.topic, partition: tp.partition },
    ticket,
    share,
    key: undefined,
    channels,
    offsets,
    listingIds: [],
    reasons: [],
    sourceTsMs: [],
    learned: [],
    open: () => !ended,
    done,
  };
}
