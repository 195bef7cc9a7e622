/**
 * A decoded record value (with its Connect schema when there is one) -> a Debezium envelope, or the
 * reason it is a control record. Envelope fields: before, after, source, op, ts_ms, transaction
 * (https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-change-events-value).
 */
import type { Row } from '../../domain/change.ts';
import { NotifierError } from '../../domain/errors.ts';
import { type ConnectSchema, fieldOf } from './connect-schema.ts';
import type { DecimalColumns } from './decimal.ts';
import { JsonNumber } from './json.ts';
import { convertStruct, convertValue } from './logical.ts';
import { convertSchemaless, convertSchemalessRow } from './schemaless.ts';
import { isRecord, plain } from './values.ts';

export interface EnvelopeParts {
  op: string;
  before: Row | null;
  after: Row | null;
  source: Record<string, unknown>;
  tsMs?: number;
}

export type ValueShape = { kind: 'control'; reason: string } | { kind: 'envelope'; parts: EnvelopeParts };

const failValue = (message: string, details: Record<string, unknown> = {}): never => {
  throw new NotifierError('DECODE_FAILED', `record value: ${message}`, { details });
};

/**
 * Debezium's own records on other topics: heartbeats (`__debezium-heartbeat.<prefix>`), transaction
 * boundaries (`<prefix>.transaction`), schema changes (`<prefix>`, other connectors).
 */
function controlBySchemaName(name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  if (name.endsWith('.Heartbeat')) return 'heartbeat';
  if (name.endsWith('.TransactionMetadataValue')) return 'transaction metadata';
  if (name.endsWith('.SchemaChangeValue')) return 'schema change';
  return undefined;
}

function controlByShape(payload: Record<string, unknown>): string | undefined {
  const keys = Object.keys(payload);
  if (keys.length === 1 && keys[0] === 'ts_ms') return 'heartbeat';
  if ((payload.status === 'BEGIN' || payload.status === 'END') && 'id' in payload)
    return 'transaction metadata';
  if ('ddl' in payload || 'tableChanges' in payload) return 'schema change';
  return undefined;
}

export function envelopeFrom(
  payload: unknown,
  schema: ConnectSchema | undefined,
  topic: string,
  decimalColumns?: DecimalColumns,
): ValueShape {
  if (topic.startsWith('__debezium-heartbeat')) return { kind: 'control', reason: 'heartbeat' };
  const bySchema = controlBySchemaName(schema?.name);
  if (bySchema !== undefined) return { kind: 'control', reason: bySchema };
  if (!isRecord(payload)) return failValue(`expected a Debezium envelope object, got ${typeName(payload)}`);
  const op = payload.op;
  if (op === undefined) {
    const byShape = controlByShape(payload);
    if (byShape !== undefined) return { kind: 'control', reason: byShape };
    return failValue(
      `not a Debezium change event: no "op" field (fields: ${Object.keys(payload).slice(0, 10).join(', ')})`,
    );
  }
  if (typeof op !== 'string') return failValue(`"op" must be a string, got ${typeName(op)}`);
  // pg_logical_emit_message() records: not a row change.
  if (op === 'm') return { kind: 'control', reason: 'logical decoding message' };
  const beforeSchema = fieldOf(schema, 'before');
  const afterSchema = fieldOf(schema, 'after');
  const before = rowOf(payload.before, beforeSchema, schema !== undefined, 'before', decimalColumns);
  const previous =
    before !== null && isRecord(payload.before) && sameRowSchema(beforeSchema, afterSchema)
      ? { raw: payload.before, row: before }
      : undefined;
  const parts: EnvelopeParts = {
    op,
    before,
    after: rowOf(payload.after, afterSchema, schema !== undefined, 'after', decimalColumns, previous),
    source: sourceOf(payload.source, fieldOf(schema, 'source')),
  };
  const tsMs = numberOf(payload.ts_ms);
  if (tsMs !== undefined) parts.tsMs = tsMs;
  return { kind: 'envelope', parts };
}

/**
 * Whether before and after are described alike (Debezium writes the same Value struct twice), so an
 * after column equal to its before can take the before's converted value. Known per frozen schema.
 */
const alike = new WeakMap<ConnectSchema, boolean>();
function sameRowSchema(before: ConnectSchema | undefined, after: ConnectSchema | undefined): boolean {
  if (before === undefined || after === undefined || before.type !== 'struct' || after.type !== 'struct')
    return false;
  if (before === after) return true;
  if (!Object.isFrozen(after)) return false;
  let same = alike.get(after);
  if (same === undefined) {
    same = before.name === after.name && JSON.stringify(before.fields) === JSON.stringify(after.fields);
    alike.set(after, same);
  }
  return same;
}

function rowOf(
  value: unknown,
  schema: ConnectSchema | undefined,
  hasSchema: boolean,
  path: string,
  decimalColumns: DecimalColumns | undefined,
  previous?: { raw: Record<string, unknown>; row: Row },
): Row | null {
  if (value === null || value === undefined) return null;
  if (!isRecord(value)) return failValue(`"${path}" must be a row object or null, got ${typeName(value)}`);
  if (schema !== undefined && schema.type === 'struct')
    return convertStruct(schema, value, path, decimalColumns, previous);
  if (hasSchema) return failValue(`the schema has no struct field "${path}"`);
  return convertSchemalessRow(value, path, decimalColumns);
}

/** The source block as plain JSON (ts_ns and lsn can pass 2^53: those become decimal text). */
function sourceOf(value: unknown, schema: ConnectSchema | undefined): Record<string, unknown> {
  if (!isRecord(value)) return {};
  const source: Record<string, unknown> = {};
  for (const k of Object.keys(value)) {
    const v = value[k];
    const field = fieldOf(schema, k);
    source[k] = plain(
      field === undefined ? convertSchemaless(v, `source.${k}`) : convertValue(field, v, `source.${k}`),
    );
  }
  return source;
}

export function numberOf(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof JsonNumber) return Number(value.source);
  return undefined;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}
