/**
 * Converts one column value with its Kafka Connect schema into a ColumnValue. The logical types are
 * those of Kafka Connect (https://kafka.apache.org/documentation/#connect_schemas: Decimal, Date, Time,
 * Timestamp) and Debezium's PostgreSQL connector
 * (https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-data-types)
 * and its MySQL/MariaDB connectors (mysql.ts).
 * Values come from JSON (base64 text for bytes, JsonNumber for long numbers) or from Avro (Buffer,
 * bigint), and both are accepted everywhere.
 */
import type { ColumnValue, Row } from '../../domain/change.ts';
import { NotifierError } from '../../domain/errors.ts';
import type { ConnectSchema } from './connect-schema.ts';
import {
  canonicalDecimal,
  type DecimalColumns,
  decimalFromBytes,
  decimalFromDouble,
  formatDecimal,
  unscaledAt,
  unscaledFromBytes,
} from './decimal.ts';
import { JsonNumber } from './json.ts';
import { bitsFromBytes, unsignedBigint } from './mysql.ts';
import {
  dateFromEpochDays,
  type TimeUnit,
  timeFromUnits,
  timestampFromEpoch,
  zonedTime,
  zonedTimestampToUtc,
} from './temporal.ts';
import {
  bigintOf,
  bytesOf,
  integerValue,
  isPlaceholder,
  isRecord,
  numberValue,
  plain,
  UNAVAILABLE,
} from './values.ts';

const fail = (path: string, expected: string, value: unknown): never => {
  throw new NotifierError('DECODE_FAILED', `${path}: expected ${expected}, got ${describe(value)}`, {
    details: { path },
  });
};

/** Short description for messages: type and a prefix of the value, never a whole column. */
function describe(value: unknown): string {
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (value instanceof JsonNumber) return `number ${value.source.slice(0, 40)}`;
  if (typeof value === 'bigint') return `bigint ${value}`;
  const text = JSON.stringify(value) ?? String(value);
  return `${Array.isArray(value) ? 'array' : typeof value} ${text.length > 40 ? `${text.slice(0, 40)}…` : text}`;
}

const instants: Record<string, TimeUnit> = {
  'io.debezium.time.Timestamp': 'ms',
  'org.apache.kafka.connect.data.Timestamp': 'ms',
  'io.debezium.time.MicroTimestamp': 'us',
  'io.debezium.time.NanoTimestamp': 'ns',
};
const times: Record<string, TimeUnit> = {
  'io.debezium.time.Time': 'ms',
  'org.apache.kafka.connect.data.Time': 'ms',
  'io.debezium.time.MicroTime': 'us',
  'io.debezium.time.NanoTime': 'ns',
};
/** Source types that `column.propagate.source.type` reports for exact numerics. */
const NUMERIC_SOURCE_TYPES = new Set(['NUMERIC', 'DECIMAL', 'MONEY']);

/** The converted value of `value` whose schema is `schema`; `path` names it in errors ("after.price"). */
export function convertValue(schema: ConnectSchema, value: unknown, path: string): ColumnValue {
  if (value === null || value === undefined) return null;
  if (isPlaceholder(value, schema.type === 'bytes' || schema.type === 'array')) return UNAVAILABLE;
  const name = schema.name;
  if (name !== undefined) {
    const logical = convertLogical(schema, name, value, path);
    if (logical !== undefined) return logical;
  }
  return convertPlain(schema, value, path);
}

/** undefined: `name` is not a logical type converted here; fall through to the physical type. */
function convertLogical(
  schema: ConnectSchema,
  name: string,
  value: unknown,
  path: string,
): ColumnValue | undefined {
  switch (name) {
    case 'org.apache.kafka.connect.data.Decimal':
      return { type: 'decimal', value: decimalValue(schema, value, scaleOf(schema, path), path) };
    case 'io.debezium.data.VariableScaleDecimal': {
      if (!isRecord(value)) return fail(path, 'a VariableScaleDecimal {scale, value}', value);
      const scale = Number(value.scale);
      if (!Number.isInteger(scale)) return fail(`${path}.scale`, 'an integer', value.scale);
      // Its value is plain Connect bytes (no logical type): a converter only ever writes base64 there.
      const bytes = bytesOf(value.value) ?? fail(`${path}.value`, 'bytes (base64 or Buffer)', value.value);
      return { type: 'decimal', value: decimalFromBytes(bytes, scale) };
    }
    case 'io.debezium.time.Date':
    case 'org.apache.kafka.connect.data.Date': {
      if (typeof value !== 'number' || !Number.isInteger(value))
        return fail(path, 'days since the epoch', value);
      return guarded(() => ({ type: 'date', iso: dateFromEpochDays(value) }), value);
    }
    case 'io.debezium.time.ZonedTimestamp': {
      if (typeof value !== 'string') return fail(path, 'an ISO-8601 timestamp', value);
      const iso = zonedTimestampToUtc(value);
      return iso === undefined ? value : { type: 'timestamp', iso };
    }
    case 'io.debezium.time.ZonedTime': {
      if (typeof value !== 'string') return fail(path, 'an ISO-8601 time', value);
      const iso = zonedTime(value);
      return iso === undefined ? value : { type: 'time', iso };
    }
    case 'io.debezium.data.Json': {
      if (typeof value !== 'string') return fail(path, 'JSON text', value);
      try {
        return { type: 'json', value: JSON.parse(value) };
      } catch {
        // Not valid JSON after all: keep the text rather than dead-letter the whole change.
        return value;
      }
    }
    case 'io.debezium.data.Bits': {
      const bytes = bytesOf(value) ?? fail(path, 'Bits bytes (base64 or Buffer)', value);
      return bitsFromBytes(bytes, Number(schema.parameters?.length));
    }
    default:
      break;
  }
  const instant = instants[name];
  if (instant !== undefined) {
    const n = bigintOf(value) ?? fail(path, `an integer count of ${instant} since the epoch`, value);
    return guarded(() => ({ type: 'timestamp', iso: timestampFromEpoch(n, instant) }), value);
  }
  const time = times[name];
  if (time !== undefined) {
    const n = bigintOf(value) ?? fail(path, `an integer count of ${time} since midnight`, value);
    return { type: 'time', iso: timeFromUnits(n, time) };
  }
  // io.debezium.data.Uuid, Enum, EnumSet, Xml, Ltree, time.Year, geometry, …: their physical type says it all.
  return undefined;
}

/** A value outside what Date can show (PostgreSQL's 'infinity' arrives as an extreme number): keep it raw. */
function guarded(convert: () => ColumnValue, raw: unknown): ColumnValue {
  try {
    return convert();
  } catch (error) {
    if (error instanceof RangeError) return numberValue(raw as number);
    throw error;
  }
}

function scaleOf(schema: ConnectSchema, path: string): number {
  const scale = Number(schema.parameters?.scale);
  return Number.isInteger(scale)
    ? scale
    : fail(`${path} (schema)`, 'a Decimal "scale" parameter', schema.parameters);
}

/**
 * A Connect Decimal: bytes (base64 or Buffer) holding the unscaled value at the schema's scale, or a
 * JSON number when JsonConverter runs with decimal.format=NUMERIC (KIP-481; Kafka's own JsonConverter
 * reads such a number back as the Decimal). Either way the value must be one the schema can hold: a
 * number with more fractional digits than the scale, or any value with more digits than
 * `connect.decimal.precision` (Debezium sets it from NUMERIC(p, s)), contradicts its own schema and is
 * a DECODE_FAILED naming the path, not a 309-digit price (issue 9, finding 1).
 */
function decimalValue(schema: ConnectSchema, value: unknown, scale: number, path: string): string {
  const expected = decimalShape(schema, scale);
  const bytes = bytesOf(value);
  let unscaled: bigint | undefined;
  if (bytes !== undefined) unscaled = unscaledFromBytes(bytes);
  else if (value instanceof JsonNumber || typeof value === 'number') {
    const text = value instanceof JsonNumber ? value.source : String(value);
    const exact = canonicalDecimal(text);
    unscaled = exact === undefined ? undefined : unscaledAt(exact, scale);
    if (unscaled === undefined) return fail(path, expected, value);
  } else return fail(path, 'Decimal bytes (base64 or Buffer)', value);
  const precision = precisionOf(schema);
  if (precision !== undefined && digitCount(unscaled) > precision) return fail(path, expected, value);
  return formatDecimal(unscaled, scale);
}

/** `connect.decimal.precision`, when the schema gives one. */
function precisionOf(schema: ConnectSchema): number | undefined {
  const precision = Number(schema.parameters?.['connect.decimal.precision']);
  return Number.isInteger(precision) && precision > 0 ? precision : undefined;
}

function decimalShape(schema: ConnectSchema, scale: number): string {
  const precision = precisionOf(schema);
  return `a Decimal of ${precision === undefined ? '' : `precision ${precision}, `}scale ${scale}`;
}

const digitCount = (unscaled: bigint): number => (unscaled < 0n ? -unscaled : unscaled).toString().length;

function convertPlain(schema: ConnectSchema, value: unknown, path: string): ColumnValue {
  switch (schema.type) {
    case 'int8':
    case 'int16':
    case 'int32':
      if (typeof value === 'number') return value;
      return fail(path, schema.type, value);
    case 'int64': {
      if (typeof value === 'number' && !Number.isInteger(value)) return fail(path, 'int64', value);
      const n = bigintOf(value);
      if (n !== undefined)
        return integerValue(unsignedBigint(n, schema.parameters?.['__debezium.source.column.type']) ?? n);
      if (typeof value === 'number') return numberValue(value);
      return fail(path, 'int64', value);
    }
    case 'float':
    case 'double':
    case 'float32':
    case 'float64':
      return floatValue(schema, value, path);
    case 'boolean':
      return typeof value === 'boolean' ? value : fail(path, 'boolean', value);
    case 'string':
      if (typeof value !== 'string') return fail(path, 'string', value);
      return sourceNumeric(schema) ? { type: 'decimal', value: canonicalDecimal(value) ?? value } : value;
    case 'bytes': {
      const bytes = bytesOf(value) ?? fail(path, 'bytes (base64 or Buffer)', value);
      return { type: 'bytes', base64: bytes.toString('base64') };
    }
    case 'array': {
      if (!Array.isArray(value)) return fail(path, 'array', value);
      const items = schema.items;
      return {
        type: 'json',
        value: value.map((v, i) => (items ? plain(convertValue(items, v, `${path}[${i}]`)) : v)),
      };
    }
    case 'map': {
      // JsonConverter writes maps with string keys as objects, others as [[k, v], …].
      if (Array.isArray(value)) return { type: 'json', value };
      if (!isRecord(value) && !(value instanceof Map)) return fail(path, 'map', value);
      const entries = value instanceof Map ? [...value.entries()] : Object.entries(value);
      const values = schema.values;
      return {
        type: 'json',
        value: Object.fromEntries(
          entries.map(([k, v]) => [String(k), values ? plain(convertValue(values, v, `${path}.${k}`)) : v]),
        ),
      };
    }
    case 'struct': {
      if (!isRecord(value)) return fail(path, 'struct', value);
      const row = convertStruct(schema, value, path);
      return { type: 'json', value: Object.fromEntries(Object.entries(row).map(([k, v]) => [k, plain(v)])) };
    }
  }
}

const sourceNumeric = (schema: ConnectSchema): boolean =>
  NUMERIC_SOURCE_TYPES.has(schema.parameters?.['__debezium.source.column.type']?.toUpperCase() ?? '');

/**
 * A float. With decimal.handling.mode=double a NUMERIC column arrives as a double: it stays a number
 * (see DecimalColumns for how the configuration can say otherwise) unless `column.propagate.source.type`
 * reports NUMERIC with a precision of at most 15 and its scale: then the double names the stored value
 * exactly (decimalFromDouble).
 */
function floatValue(schema: ConnectSchema, value: unknown, path: string): ColumnValue {
  const n = value instanceof JsonNumber ? Number(value.source) : value;
  // JsonConverter writes NaN and ±Infinity as strings.
  if (typeof n === 'string' && ['NaN', 'Infinity', '-Infinity'].includes(n)) return Number(n);
  if (typeof n !== 'number') return fail(path, schema.type, value);
  const scale = Number(schema.parameters?.['__debezium.source.column.scale']);
  const precision = Number(schema.parameters?.['__debezium.source.column.length']);
  if (!sourceNumeric(schema) || !Number.isInteger(scale) || !(precision <= 15)) return n;
  const exact = decimalFromDouble(n, scale);
  return exact === undefined ? n : { type: 'decimal', value: exact };
}

/** A struct's fields converted with their schemas (the schema lists every field JsonConverter wrote). */
export function convertStruct(
  schema: ConnectSchema,
  value: Record<string, unknown>,
  path: string,
  decimalColumns?: DecimalColumns,
  /**
   * The same struct's other image, converted with the same schema (an update's before, for its
   * after): a column whose raw JSON scalar is the same is not converted again (most columns of an
   * update did not change). Converted values are never changed once made, so they can be shared.
   */
  previous?: { raw: Record<string, unknown>; row: Row },
): Row {
  const row: Row = {};
  for (const field of schema.fields ?? []) {
    const name = field.field as string;
    const raw = value[name];
    if (previous !== undefined && (typeof raw !== 'object' || raw === null) && raw === previous.raw[name]) {
      const known = previous.row[name];
      if (known !== undefined) {
        row[name] = known;
        continue;
      }
    }
    const converted = convertValue(field, raw, `${path}.${name}`);
    const scale = decimalColumns === undefined || field.name !== undefined ? undefined : decimalColumns[name];
    row[name] = scale === undefined ? converted : asDecimal(converted, scale);
  }
  return row;
}

/**
 * A NUMERIC column sent without a Decimal schema. decimal.handling.mode=string gives its exact text.
 * =double gives a double, which names the stored value exactly only when that value has at most 15
 * significant digits (DBL_DIG): guaranteed when |value| < 10^(15 - scale). Then the double's shortest
 * representation is the stored decimal; otherwise the double is left as it came (a float, inexact).
 */
function asDecimal(value: ColumnValue, scale: number): ColumnValue {
  if (typeof value === 'string') {
    const exact = canonicalDecimal(value);
    return exact === undefined ? value : { type: 'decimal', value: exact };
  }
  if (typeof value === 'number') {
    const exact = decimalFromDouble(value, scale);
    return exact === undefined ? value : { type: 'decimal', value: exact };
  }
  return value;
}
