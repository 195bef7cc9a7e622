/**
 * Rows from JsonConverter with `schemas.enable=false`: no schema, so no logical type can be read
 * with certainty. Only what is unambiguous is converted:
 * - the TOAST placeholder -> unavailable;
 * - integers a double cannot hold -> exact decimal;
 * - a {scale, value} object with an integer scale and base64 value -> VariableScaleDecimal (no other
 *   PostgreSQL type becomes a two-field struct with exactly those names);
 * - other objects and arrays -> json.
 * Everything else stays the JSON scalar it was: precise-mode decimals stay base64 text, timestamps stay
 * epoch numbers, unless the configuration names the column NUMERIC (DecimalColumns). Configure the
 * converter with schemas (or a registry) to get them converted.
 */
import type { ColumnValue, Row } from '../../domain/change.ts';
import { NotifierError } from '../../domain/errors.ts';
import { canonicalDecimal, type DecimalColumns, decimalFromBytes, decimalFromDouble } from './decimal.ts';
import { JsonNumber } from './json.ts';
import { bytesOf, integerValue, isPlaceholder, isRecord, numberValue, UNAVAILABLE } from './values.ts';

export function convertSchemaless(value: unknown, path: string): ColumnValue {
  if (value === null || value === undefined) return null;
  if (isPlaceholder(value, true)) return UNAVAILABLE;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number' || value instanceof JsonNumber) return numberValue(value);
  if (typeof value === 'bigint') return integerValue(value);
  if (value instanceof Uint8Array) return { type: 'bytes', base64: Buffer.from(value).toString('base64') };
  if (isRecord(value)) {
    const decimal = variableScaleDecimal(value);
    if (decimal !== undefined) return decimal;
    return { type: 'json', value: toPlainJson(value) };
  }
  if (Array.isArray(value)) return { type: 'json', value: toPlainJson(value) };
  throw new NotifierError('DECODE_FAILED', `${path}: unexpected value of type ${typeof value}`, {
    details: { path },
  });
}

function variableScaleDecimal(value: Record<string, unknown>): ColumnValue | undefined {
  const keys = Object.keys(value);
  if (keys.length !== 2 || !('scale' in value) || !('value' in value)) return undefined;
  const scale = value.scale;
  const bytes = bytesOf(value.value);
  if (typeof scale !== 'number' || !Number.isInteger(scale) || bytes === undefined) return undefined;
  return { type: 'decimal', value: decimalFromBytes(bytes, scale) };
}

/** JsonNumber and bigint inside nested JSON become decimal text; Buffers become base64. */
function toPlainJson(value: unknown): unknown {
  if (value instanceof JsonNumber) return value.source;
  if (typeof value === 'bigint')
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(toPlainJson);
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toPlainJson(v)]));
  return value;
}

export function convertSchemalessRow(
  value: Record<string, unknown>,
  path: string,
  decimalColumns?: DecimalColumns,
): Row {
  const row: Row = {};
  for (const [name, v] of Object.entries(value)) {
    const scale = decimalColumns?.[name];
    const converted = scale === undefined ? undefined : schemalessDecimal(v, scale);
    row[name] = converted ?? convertSchemaless(v, `${path}.${name}`);
  }
  return row;
}

const DECIMAL_TEXT = /^-?\d+(?:\.\d+)?$/;

/**
 * A column the configuration declares NUMERIC(p, scale), without a schema. The three
 * decimal.handling.modes are told apart by shape: a number is =double (exact when the double can
 * hold it, see decimalFromDouble); decimal text is =string; base64 is =precise, decoded at the
 * configured scale. Text that is both (digits only, a multiple of 4 long) is base64 when scale > 0
 * (=string writes the column's scale, so it would have a point) and left alone when scale is 0.
 * undefined: not recognised, convert as usual.
 */
function schemalessDecimal(value: unknown, scale: number): ColumnValue | undefined {
  if (typeof value === 'number') {
    const exact = decimalFromDouble(value, scale);
    return exact === undefined ? undefined : { type: 'decimal', value: exact };
  }
  if (typeof value !== 'string' || isPlaceholder(value, true)) return undefined;
  const bytes = bytesOf(value);
  if (DECIMAL_TEXT.test(value) && (bytes === undefined || value.includes('.'))) {
    return { type: 'decimal', value: canonicalDecimal(value) as string };
  }
  if (bytes === undefined || (scale === 0 && DECIMAL_TEXT.test(value))) return undefined;
  return { type: 'decimal', value: decimalFromBytes(bytes, scale) };
}
