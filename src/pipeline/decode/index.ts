/**
 * decode: a Kafka record (key, value, headers) -> a Debezium envelope, or the reason to skip it.
 * Handles JsonConverter with schemas on ({schema, payload}) and off (bare payload), and the Confluent
 * wire format through a schema registry. The registry's part (I/O) is resolveFramed, done at the
 * edge; decodeResolved is pure.
 *
 * Throws NotifierError: DECODE_FAILED (this record can never decode: dead-letter), SCHEMA_NOT_FOUND,
 * REGISTRY_UNAVAILABLE (from the registry adapter).
 */
import type { Row } from '../../domain/change.ts';
import { NotifierError } from '../../domain/errors.ts';
import type { SourceRecord } from '../../domain/record.ts';
import type { SchemaRegistryPort } from '../../ports/index.ts';
import { asConnectSchema, type ConnectSchema } from './connect-schema.ts';
import type { DecimalColumns } from './decimal.ts';
import { envelopeFrom } from './envelope.ts';
import { parseJsonExact } from './json.ts';
import { convertStruct, convertValue } from './logical.ts';
import { PAYLOAD_MEMBER, RBRACE, recordSchema } from './record-schema.ts';
import { type ColumnMap, decimalColumnsForSource, renameRow } from './rename.ts';
import { convertSchemaless, convertSchemalessRow } from './schemaless.ts';
import { isRecord } from './values.ts';
import { decodeFramed, type FramedValue, isConfluentFramed } from './wire.ts';

export type { ColumnMap, DecimalColumns, Row };

export type Decoded =
  /** value null: skipped (a success, nothing to say). */
  | { kind: 'tombstone' }
  /** heartbeat, schema-change, transaction metadata, logical decoding message: skipped. */
  | { kind: 'control'; reason: string }
  | { kind: 'envelope'; envelope: DebeziumEnvelope; headers: Record<string, string> };

export interface DebeziumEnvelope {
  /** Debezium's op as sent: c, u, d, r, t (normalize checks it). */
  op: string;
  before: Row | null;
  after: Row | null;
  /** The source block as plain JSON (ts_ms, snapshot, db, schema, table, lsn, …). */
  source: Record<string, unknown>;
  /** Envelope ts_ms: when Debezium processed the change. */
  tsMs?: number;
  /** The record key (the primary key columns), decoded; null when the record has no key. */
  key: Row | null;
}

export interface DecodeDeps {
  /** Needed only for Confluent-framed records; without it they fail with DECODE_FAILED. */
  registry?: SchemaRegistryPort;
  /**
   * NUMERIC columns and their scale, from the configuration ({ prc_amt: 2 }). Only consulted when the
   * record does not name a decimal type itself: decimal.handling.mode=string text becomes an exact
   * decimal, =double a decimal where the double holds it exactly (else it stays a number), and in
   * schemaless records =precise base64 is decoded at this scale. Default: none.
   */
  decimalColumns?: DecimalColumns;
  /**
   * The record's topic's column -> the name the rules use (rename.ts); rows come out renamed and
   * decimalColumns names the rules' columns. Default: none (names as Debezium sends them).
   */
  columns?: ColumnMap;
}

/** A value or key, decoded to a payload and (when known) its Connect schema. */
interface Payload {
  value: unknown;
  schema: ConnectSchema | undefined;
}

/** The key and value as the schema registry decoded them, for Confluent-framed parts only. */
export interface FramedParts {
  key?: FramedValue;
  value?: FramedValue;
}

/**
 * The registry's share of decoding, done at the edge (it is I/O: the registry port fetches schemas):
 * every Confluent-framed part of the record decoded through the registry. JSON parts need nothing.
 */
export async function resolveFramed(
  record: SourceRecord,
  registry: SchemaRegistryPort | undefined,
): Promise<FramedParts> {
  const parts: FramedParts = {};
  if (record.value !== null && isConfluentFramed(record.value)) {
    parts.value = await decodeFramed(record.value, registry, 'value');
  }
  if (record.key !== null && isConfluentFramed(record.key)) {
    parts.key = await decodeFramed(record.key, registry, 'key');
  }
  return parts;
}

/** Pure: the record decoded, its framed parts already resolved by resolveFramed. */
export function decodeResolved(
  record: SourceRecord,
  framed: FramedParts,
  deps: Pick<DecodeDeps, 'decimalColumns' | 'columns'> = {},
): Decoded {
  if (record.value === null) return { kind: 'tombstone' };
  const { columns } = deps;
  const decimalColumns =
    columns === undefined || deps.decimalColumns === undefined
      ? deps.decimalColumns
      : decimalColumnsForSource(deps.decimalColumns, columns);
  const value = decodePart(record.value, framed.value, 'value');
  const shape = envelopeFrom(value.value, value.schema, record.topic, decimalColumns);
  if (shape.kind === 'control') return shape;
  const key = record.key === null ? null : keyRow(decodePart(record.key, framed.key, 'key'));
  const envelope = { ...shape.parts, key };
  if (columns !== undefined) {
    envelope.before = renameRow(envelope.before, columns);
    envelope.after = renameRow(envelope.after, columns);
    envelope.key = renameRow(envelope.key, columns);
  }
  return { kind: 'envelope', envelope, headers: headerStrings(record.headers) };
}

/** resolveFramed, then decodeResolved: for callers that hold the registry themselves (CLI, tests). */
export async function decodeRecord(record: SourceRecord, deps: DecodeDeps): Promise<Decoded> {
  return decodeResolved(record, await resolveFramed(record, deps.registry), deps);
}

/** Pure: a JSON record key (not Confluent-framed) as a Row; null for a null key payload. Throws DECODE_FAILED. */
export function decodeKey(bytes: Buffer): Row | null {
  return keyRow(decodePart(bytes, undefined, 'key'));
}

function decodePart(bytes: Buffer, framed: FramedValue | undefined, part: 'key' | 'value'): Payload {
  if (bytes.length === 0) {
    throw new NotifierError(
      'DECODE_FAILED',
      `record ${part} is empty (zero bytes; a tombstone has a null value)`,
      {
        details: { part },
      },
    );
  }
  if (framed !== undefined) return { value: framed.value, schema: framed.schema };
  if (isConfluentFramed(bytes)) {
    throw new NotifierError('DECODE_FAILED', `record ${part} is Confluent-framed but was not resolved`, {
      details: { part },
    });
  }
  return jsonPayload(bytes, part);
}

/**
 * `{"schema":S,"payload":P}` with S seen before (record-schema.ts): only P is parsed. Undefined when
 * the record has another shape or P is not one JSON value followed by the closing `}` (then it is
 * parsed whole, as before the cache).
 */
function knownEnvelope(bytes: Buffer): Payload | { problem: string } | undefined {
  const found = recordSchema(bytes);
  if (found === undefined || bytes[bytes.length - 1] !== RBRACE) return undefined;
  let value: unknown;
  try {
    value = parseJsonExact(bytes.toString('utf8', found.end + PAYLOAD_MEMBER.length, bytes.length - 1));
  } catch {
    return undefined;
  }
  const { schema } = found.entry;
  return typeof schema === 'string' ? { problem: schema } : { value, schema };
}

/** JsonConverter output: {schema, payload} when schemas.enable=true (schema may be null), else the bare payload. */
function jsonPayload(bytes: Buffer, part: 'key' | 'value'): Payload {
  const known = knownEnvelope(bytes);
  if (known !== undefined && 'problem' in known) {
    throw new NotifierError('DECODE_FAILED', `record ${part}: ${known.problem}`, { details: { part } });
  }
  if (known !== undefined) return known;
  let parsed: unknown;
  try {
    parsed = parseJsonExact(bytes.toString('utf8'));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new NotifierError(
      'DECODE_FAILED',
      `record ${part} is neither JSON nor Confluent-framed: ${reason}`,
      {
        cause: error,
        details: { part, firstByte: bytes[0] },
      },
    );
  }
  if (isRecord(parsed) && Object.keys(parsed).length === 2 && 'schema' in parsed && 'payload' in parsed) {
    if (parsed.schema === null) return { value: parsed.payload, schema: undefined };
    const schema = asConnectSchema(parsed.schema);
    if (typeof schema === 'string') {
      throw new NotifierError('DECODE_FAILED', `record ${part}: ${schema}`, { details: { part } });
    }
    return { value: parsed.payload, schema };
  }
  return { value: parsed, schema: undefined };
}

/**
 * The key as a Row. Debezium keys are structs of the primary-key columns; a key that is a single
 * scalar (a custom SMT or converter) becomes { key: value } so that it is still shown, not lost.
 */
function keyRow(payload: Payload): Row | null {
  const { value, schema } = payload;
  if (value === null || value === undefined) return null;
  if (isRecord(value)) {
    return schema?.type === 'struct'
      ? convertStruct(schema, value, 'key')
      : convertSchemalessRow(value, 'key');
  }
  return { key: schema === undefined ? convertSchemaless(value, 'key') : convertValue(schema, value, 'key') };
}

function headerStrings(headers: SourceRecord['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name] = typeof value === 'string' ? value : value.toString('utf8');
  }
  return out;
}
