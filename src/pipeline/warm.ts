/**
 * What one record of a snapshot topic puts into the last-values store (`store warm --from-topic`,
 * src/cli/store-warm-topic.ts): pure, decoded and normalized exactly as the service does
 * (decodeWithConfig, normalize), the entry built by learnedOf with the record's own source position.
 *
 * Snapshot reads (op r), creates and updates put the after image's watched columns. The store's put
 * keeps an entry only when it is newer than the stored one, so a warm run never undoes what the
 * service learned since. Deletes remove nothing: warm only adds values, and a deleted listing's
 * entry (from an earlier create or update of the topic) stays until store.lastValues.ttlMs expires it
 * or a newer change replaces it; it is read only if a change of that listing id comes again. (The
 * service itself stores an empty entry when it sees a delete.) Tombstones, control records and
 * records that do not decode are skipped, each with its reason.
 */
import type { Config } from '../config/index.ts';
import type { ChangeEvent } from '../domain/change.ts';
import { isNotifierError } from '../domain/errors.ts';
import type { Learned } from '../domain/known-values.ts';
import type { SourceRecord } from '../domain/record.ts';
import { learnedOf, positionOf, watchedColumns } from './before-image.ts';
import type { Decoded, FramedParts } from './decode/index.ts';
import { decodeWithConfig } from './index.ts';
import { normalize } from './normalize.ts';

/** Why a record puts nothing; each is counted in the command's summary. */
export const warmSkipReasons = [
  /** value null: the compaction marker after a delete. */
  'tombstone',
  /** heartbeat, schema change, transaction metadata. */
  'control',
  /** a value or key that does not decode or normalize (the service would dead-letter it). */
  'undecodable',
  /** a delete removes nothing from the store (see above). */
  'delete',
  'truncate',
  /** no listing id in the key or the images. */
  'no-listing',
  /** a source block without lsn (PostgreSQL) or file/pos (MariaDB/MySQL): nothing to order it by. */
  'no-position',
  /** none of the watched columns in the after image. */
  'no-watched-values',
] as const;

export type WarmSkipReason = (typeof warmSkipReasons)[number];

export type WarmDecision =
  | { kind: 'put'; learned: Learned }
  | { kind: 'skip'; reason: WarmSkipReason; detail?: string };

export interface WarmOptions {
  /** Decode with source.columns of this topic (a copy of a source topic under another name). */
  columnsOf?: string;
}

const skip = (reason: WarmSkipReason, detail?: string): WarmDecision =>
  detail === undefined ? { kind: 'skip', reason } : { kind: 'skip', reason, detail };

/**
 * A failure of decoding is the record's (skipped as undecodable) when the service would dead-letter
 * it; any other (the registry unreachable or refusing) is the command's, and is thrown.
 */
export function undecodable(error: unknown): WarmDecision {
  if (isNotifierError(error) && error.disposition !== 'dead-letter') throw error;
  return skip('undecodable', error instanceof Error ? error.message : String(error));
}

/** The record (its Confluent-framed parts resolved, decode/index.ts resolveFramed) -> put or skip. */
export function warmDecision(
  record: SourceRecord,
  framed: FramedParts,
  config: Config,
  options: WarmOptions = {},
): WarmDecision {
  let decoded: Decoded;
  try {
    decoded = decodeWithConfig(record, framed, config, options.columnsOf);
  } catch (error) {
    return undecodable(error);
  }
  if (decoded.kind === 'tombstone') return skip('tombstone');
  if (decoded.kind === 'control') return skip('control', decoded.reason);
  let event: ChangeEvent;
  try {
    event = normalize(decoded);
  } catch (error) {
    return undecodable(error);
  }
  if (event.op === 'delete') return skip('delete');
  if (event.op === 'truncate') return skip('truncate');
  if (event.listingId === null) return skip('no-listing');
  const position = positionOf(decoded.envelope.source);
  if (position === undefined) return skip('no-position');
  const learned = learnedOf(event, position, watchedColumns(config));
  return learned === undefined ? skip('no-watched-values') : { kind: 'put', learned };
}
