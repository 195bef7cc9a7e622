/**
 * The pipeline's middle: what decode -> normalize produce and what diff, filter, route and render read.
 * See Debezium's event format: https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-events
 */

/**
 * One column's value after Kafka Connect / Debezium logical types are converted with the record's
 * schema. Plain JSON scalars stay plain; anything whose meaning a JSON scalar would lose is tagged.
 * Money is exact: decimals are decimal strings, never floats.
 */
export type ColumnValue =
  | null
  | string
  | number
  | boolean
  /** Decimal, VariableScaleDecimal, decimal.handling.mode=string, and int64 beyond 2^53. Canonical: "19.99", "-0.5", "12". */
  | { type: 'decimal'; value: string }
  /** An instant (Timestamp, MicroTimestamp, NanoTimestamp, ZonedTimestamp): ISO-8601 UTC, sub-ms digits kept. */
  | { type: 'timestamp'; iso: string }
  /** io.debezium.time.Date / Kafka Connect Date: "2026-11-22". */
  | { type: 'date'; iso: string }
  /** Time, MicroTime, NanoTime, ZonedTime: "13:45:07.123456" (with offset when zoned). */
  | { type: 'time'; iso: string }
  /** io.debezium.data.Json: parsed. */
  | { type: 'json'; value: unknown }
  /** Raw bytes with no logical type, base64. */
  | { type: 'bytes'; base64: string }
  /** Debezium's `__debezium_unavailable_value` (an unchanged TOASTed column): unchanged, value not sent. */
  | { type: 'unavailable' };

export type Row = Record<string, ColumnValue>;

/** Debezium `op`: c, u, d, r (snapshot read), t (truncate). */
export type ChangeOp = 'create' | 'update' | 'delete' | 'read' | 'truncate';

export interface ChangeSource {
  connector?: string;
  db?: string;
  schema?: string;
  table?: string;
  /** source.ts_ms: when the change was committed in the database. */
  tsMs?: number;
  /** true for snapshot reads (source.snapshot "true"/"last"/"first"...). */
  snapshot: boolean;
}

/** A row-level change, normalized. */
export interface ChangeEvent {
  op: ChangeOp;
  source: ChangeSource;
  /** The record key's columns (the primary key), decoded. */
  key: Row | null;
  /** The listing's id as text (from the key, else the after/before image). */
  listingId: string | null;
  /**
   * The before image, or null when Debezium sent none (op c/r, or REPLICA IDENTITY DEFAULT where only
   * the key is sent). `beforeComplete` tells whether non-key columns can be compared.
   */
  before: Row | null;
  beforeComplete: boolean;
  after: Row | null;
  /**
   * Set when this event is half of a primary-key change (Debezium emits delete(old key) + tombstone +
   * create(new key), marked with the __debezium.newkey / __debezium.oldkey headers).
   */
  keyChange?: { role: 'old-key-deleted' | 'new-key-created'; otherKey: string | null };
  /** Event time in epoch ms (envelope ts_ms), when present. */
  tsMs?: number;
}

/** One column that changed, with both sides. */
export interface FieldChange {
  column: string;
  /** undefined when the previous value is unknown (no before image); never guessed. */
  before: ColumnValue | undefined;
  after: ColumnValue;
  /** true when before is unknown. */
  beforeUnknown: boolean;
}
