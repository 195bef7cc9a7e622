import type { NotifierError } from './errors.ts';
import type { OutboundMessage } from './message.ts';

/** Facts about the record that every log line and metric wants. */
export interface OutcomeContext {
  /** Primary key of the listing, when it could be read. */
  listingId?: string;
  /** Debezium's source.ts_ms (commit time in the database), for end-to-end latency. */
  sourceTsMs?: number;
}

/**
 * What the pure pipeline decided for one record. A record that is dropped is a success (its offset
 * is committed, nothing is sent); a dead-letter outcome carries the error that goes into the headers.
 */
export type Outcome =
  | ({ kind: 'notify'; reason: string; messages: OutboundMessage[] } & OutcomeContext)
  | ({ kind: 'dropped'; reason: string } & OutcomeContext)
  | ({ kind: 'dead-letter'; reason: string; error: NotifierError } & OutcomeContext);
