/**
 * Small helpers shared by the schema-driven and schemaless converters: the TOAST placeholder, bytes
 * in either encoding, exact integers, and flattening tagged values into plain JSON.
 */
import type { ColumnValue } from '../../domain/change.ts';
import { canonicalDecimal } from './decimal.ts';
import { JsonNumber } from './json.ts';

/**
 * Debezium's default `unavailable.value.placeholder`: an unchanged TOASTed column under REPLICA
 * IDENTITY DEFAULT. Text columns carry it as text, bytea as its bytes (base64 in JSON), arrays as a
 * one-element array. https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-toasted-values
 */
export const UNAVAILABLE_PLACEHOLDER = '__debezium_unavailable_value';
const PLACEHOLDER_BASE64 = Buffer.from(UNAVAILABLE_PLACEHOLDER).toString('base64');

export const UNAVAILABLE: ColumnValue = Object.freeze({ type: 'unavailable' }) as ColumnValue;

/**
 * Whether `value` is the placeholder. `bytes`: the column may be binary, so the placeholder's base64
 * text (JSON) counts too; a text column holding that base64 literally is not treated as unavailable.
 */
export function isPlaceholder(value: unknown, bytes: boolean): boolean {
  if (value === UNAVAILABLE_PLACEHOLDER) return true;
  if (bytes && value === PLACEHOLDER_BASE64) return true;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('latin1') === UNAVAILABLE_PLACEHOLDER;
  return Array.isArray(value) && value.length === 1 && isPlaceholder(value[0], bytes);
}

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' &&
  v !== null &&
  !Array.isArray(v) &&
  !(v instanceof Uint8Array) &&
  !(v instanceof JsonNumber);

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Bytes from JSON (base64 text) or Avro (Buffer); undefined when neither. */
export function bytesOf(value: unknown): Buffer | undefined {
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (typeof value === 'string' && value.length % 4 === 0 && BASE64.test(value))
    return Buffer.from(value, 'base64');
  return undefined;
}

/** An integer that must stay exact (int64, epoch nanoseconds): bigint, or undefined when not an integer. */
export function bigintOf(value: unknown): bigint | undefined {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : undefined;
  if (value instanceof JsonNumber) return /^-?\d+$/.test(value.source) ? BigInt(value.source) : undefined;
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
  return undefined;
}

/** An int64 as a ColumnValue: a number when a double holds it exactly, else an exact decimal. */
export function integerValue(value: bigint): ColumnValue {
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : { type: 'decimal', value: value.toString() };
}

/** A number that arrived with no decimal type: kept as a number unless a double would change it. */
export function numberValue(value: number | bigint | JsonNumber): ColumnValue {
  if (typeof value === 'bigint') return integerValue(value);
  if (value instanceof JsonNumber) {
    const exact = canonicalDecimal(value.source);
    return exact === undefined ? Number(value.source) : { type: 'decimal', value: exact };
  }
  return value;
}

/**
 * A converted value as plain JSON, for values nested inside arrays, maps and structs (which become
 * one `json` ColumnValue): decimals and instants as their text, bytes as base64.
 */
export function plain(value: ColumnValue): unknown {
  if (value === null || typeof value !== 'object') return value;
  switch (value.type) {
    case 'decimal':
      return value.value;
    case 'timestamp':
    case 'date':
    case 'time':
      return value.iso;
    case 'json':
      return value.value;
    case 'bytes':
      return value.base64;
    case 'unavailable':
      return UNAVAILABLE_PLACEHOLDER;
  }
}
