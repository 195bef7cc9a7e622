/**
 * Admission: whether the record loop takes the next record of a batch, skips it, leaves the batch, or
 * pauses the partition. Pure: plain numbers in, a decision out; the loop (record-loop.ts) applies it.
 *
 * Why pause at all: the backlog stays in Kafka, not in memory. Records taken and not finished hold
 * their bytes (for the dead-letter topic) until their messages are delivered; records folded into a
 * digest hold only their coordinates and their slim change. Each kind has its own bound. A channel at
 * its pace does not pause anything while flood control can fold its overflow; only messages that must
 * wait as messages of their own (urgent ones, or all with flood control off) find a lane full.
 * Resuming waits for a low watermark (3/4 of the bound), so a resumed partition takes a useful run of
 * records instead of one record per fetch.
 */
import type { OutboundMessage } from '../domain/message.ts';
import type { Outcome } from '../domain/outcome.ts';

export interface AdmissionState {
  /** The loop is stopping: take nothing more. */
  stopping: boolean;
  /** The batch is still current (not revoked, not re-sought). */
  batchActive: boolean;
  /** Already taken in this assignment: Kafka handed it out again after a rejoin that kept it. */
  taken: boolean;
  /** Records taken, not finished, waiting as messages of their own (holding their bytes). */
  holding: number;
  /** Their value and key bytes. */
  heldBytes: number;
  /** Records waiting in digests (coordinates only). */
  folded: number;
}

export interface AdmissionLimits {
  /** delivery.maxInFlightRecords (default 1000). */
  maxInFlightRecords: number;
  /** delivery.maxInFlightBytes (default 32 MiB). */
  maxInFlightBytes: number;
  /** delivery.flood.maxFoldedRecords (default 20 000). */
  maxFoldedRecords: number;
}

export type PauseReason =
  | { kind: 'in-flight' }
  | { kind: 'bytes' }
  | { kind: 'folded' }
  | { kind: 'channel'; channel: string };

export type Admission =
  | { kind: 'take' }
  | { kind: 'skip' }
  | { kind: 'leave' }
  | { kind: 'pause'; reason: PauseReason };

/** Before the pipeline runs: is there room for one more record? */
export function admitRecord(state: AdmissionState, limits: AdmissionLimits): Admission {
  if (state.stopping || !state.batchActive) return { kind: 'leave' };
  if (state.taken) return { kind: 'skip' };
  if (state.holding >= limits.maxInFlightRecords) return { kind: 'pause', reason: { kind: 'in-flight' } };
  if (state.heldBytes >= limits.maxInFlightBytes) return { kind: 'pause', reason: { kind: 'bytes' } };
  if (state.folded >= limits.maxFoldedRecords) return { kind: 'pause', reason: { kind: 'folded' } };
  return { kind: 'take' };
}

/** After the pipeline: can every message be handed to its channel now? */
export function admitOutcome(outcome: Outcome, accepts: (message: OutboundMessage) => boolean): Admission {
  if (outcome.kind !== 'notify') return { kind: 'take' };
  const full = outcome.messages.find((m) => !accepts(m));
  return full === undefined
    ? { kind: 'take' }
    : { kind: 'pause', reason: { kind: 'channel', channel: full.channel } };
}

/** Whether a partition paused for `reason` may fetch again. */
export function mayResume(
  reason: PauseReason,
  state: Pick<AdmissionState, 'stopping' | 'holding' | 'heldBytes' | 'folded'>,
  limits: AdmissionLimits,
  laneHasRoom: (channel: string) => boolean,
): boolean {
  const below = (value: number, bound: number): boolean => value < Math.max(1, Math.floor((bound * 3) / 4));
  if (state.stopping) return false;
  if (!below(state.holding, limits.maxInFlightRecords)) return false;
  if (!below(state.heldBytes, limits.maxInFlightBytes)) return false;
  if (!below(state.folded, limits.maxFoldedRecords)) return false;
  return reason.kind !== 'channel' || laneHasRoom(reason.channel);
}
