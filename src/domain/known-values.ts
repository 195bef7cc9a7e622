/**
 * The last known values of a listing's watched columns (src/pipeline/before-image.ts,
 * src/app/last-values.ts): the before image of the next change when Debezium sends none.
 */
import type { Row } from './change.ts';

/** The last known values of one listing's watched columns, at a source position. */
export interface KnownValues {
  /**
   * Compared as text (fixed-width digits): "pg:<lsn, 20 digits>", "my:<binlog file>:<pos, 20
   * digits>:<row, 10 digits>"; "0" (WARM_POSITION) for values read by `store warm`: older than any change.
   */
  position: string;
  /** Column -> value; {} after a delete. */
  values: Row;
}

/** What one record teaches the store (Outcome.learned), written once its messages were delivered. */
export interface Learned {
  listingId: string;
  entry: KnownValues;
}
