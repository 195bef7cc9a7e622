import type { ChangeEvent } from './change.ts';
import { dispositionOf, isNotifierError, NotifierError } from './errors.ts';
import type { Learned } from './known-values.ts';
import type { OutboundMessage } from './message.ts';

/** Facts about the record that every log line and metric wants. */
export interface OutcomeContext {
  /** Primary key of the listing, when it could be read. */
  listingId?: string;
  /** Debezium's source.ts_ms (commit time in the database), for end-to-end latency. */
  sourceTsMs?: number;
  /**
   * The listing's watched values after this record (src/pipeline/before-image.ts), for the last-values
   * store: written once the record is finished, so the store is never ahead of Slack.
   */
  learned?: Learned;
  /**
   * The record's own before image is complete (nothing was filled from the last-values store): read
   * again after a crash it decides the same without the store, so its learned values may be written
   * before it is finished (record-loop.ts fold runs). Absent: not known to be so.
   */
  ownBefore?: boolean;
}

/**
 * What the pure pipeline decided for one record. A record that is dropped is a success (its offset
 * is committed, nothing is sent); a dead-letter outcome carries the error that goes into the headers.
 */
export type Outcome =
  | ({
      kind: 'notify';
      reason: string;
      messages: OutboundMessage[];
      /**
       * The change behind the messages, for folding: delivery coalesces a listing's later change into
       * its pending message (first before -> last after) and folds overflow into digests.
       */
      event?: ChangeEvent;
    } & OutcomeContext)
  | ({ kind: 'dropped'; reason: string } & OutcomeContext)
  | ({ kind: 'dead-letter'; reason: string; error: NotifierError } & OutcomeContext);

/**
 * The outcome with every message's payload rendered: a no-op for a pipeline that renders up front,
 * the render for one that defers it (pipeline deferRender: a message folded into a digest is never
 * rendered on its own). A message that cannot be rendered makes the record a dead letter with
 * RENDER_FAILED, as rendering up front would have; a 'retry' or 'stop' error is thrown on.
 */
export function rendered(outcome: Outcome): Outcome {
  if (outcome.kind !== 'notify') return outcome;
  try {
    for (const m of outcome.messages) void m.payload;
    return outcome;
  } catch (cause) {
    const error = isNotifierError(cause)
      ? cause
      : new NotifierError(
          'RENDER_FAILED',
          `render failed: ${cause instanceof Error ? cause.message : String(cause)}`,
          { cause },
        );
    if (dispositionOf(error) !== 'dead-letter') throw error;
    return { kind: 'dead-letter', reason: `${error.code}: ${error.message}`, error, ...carried(outcome) };
  }
}

/** What an outcome made from `outcome` keeps of it: the listing, the source time, what it learned. */
function carried(outcome: OutcomeContext): OutcomeContext {
  const { listingId, sourceTsMs, learned } = outcome;
  return {
    ...(listingId === undefined ? {} : { listingId }),
    ...(sourceTsMs === undefined ? {} : { sourceTsMs }),
    ...(learned === undefined ? {} : { learned }),
  };
}

/**
 * A notify outcome with only the messages `left` (the edge filters' one way of leaving channels out:
 * the delivery ledger, mutes): the outcome itself when nothing was left out; 'dropped' with
 * `droppedReason` when nothing is left (still carrying what the record learned, so the last-values
 * store stays right); else the rest, `note` added to the reason.
 */
export function leavingOut(
  outcome: Extract<Outcome, { kind: 'notify' }>,
  left: OutboundMessage[],
  droppedReason: string,
  note: string,
): Outcome {
  if (left.length === outcome.messages.length) return outcome;
  if (left.length === 0) return { kind: 'dropped', reason: droppedReason, ...carried(outcome) };
  return { ...outcome, messages: left, reason: `${outcome.reason} (${note})` };
}
