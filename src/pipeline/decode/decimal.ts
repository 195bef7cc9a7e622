/**
 * Exact decimals. Kafka Connect's Decimal carries the unscaled value as big-endian two's-complement
 * bytes and the scale as a schema parameter (https://kafka.apache.org/documentation/#connect_schemas,
 * org.apache.kafka.connect.data.Decimal); Debezium's VariableScaleDecimal carries both in a struct.
 * Everything here is BigInt arithmetic on the unscaled value: 19.99 never passes through a float.
 *
 * Canonical form (ColumnValue `decimal`): plain notation, no exponent, no leading "+", no trailing
 * fractional zeros, no "-0": "19.99", "-0.5", "12", "0". The column's scale is a display concern
 * (config), so 12.00 and 12 compare equal.
 */

/** The unscaled value held in big-endian two's-complement bytes (empty bytes are 0). */
export function unscaledFromBytes(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  // The top bit of the first byte is the sign.
  const first = bytes[0] ?? 0;
  return first & 0x80 ? value - (1n << BigInt(bytes.length * 8)) : value;
}

/** The shortest big-endian two's-complement bytes for `value` (what Java's BigInteger.toByteArray gives). */
export function bytesFromUnscaled(value: bigint): Buffer {
  const out: number[] = [];
  let v = value;
  // Emit low bytes until the remaining value is pure sign extension of the last byte emitted.
  for (;;) {
    const byte = Number(v & 0xffn);
    out.unshift(byte);
    v >>= 8n;
    if ((v === 0n && (byte & 0x80) === 0) || (v === -1n && (byte & 0x80) !== 0)) break;
  }
  return Buffer.from(out);
}

/** unscaled x 10^-scale in canonical form. Negative scales (Java BigDecimal allows them) multiply. */
export function formatDecimal(unscaled: bigint, scale: number): string {
  if (!Number.isInteger(scale)) throw new RangeError(`decimal scale must be an integer, got ${scale}`);
  if (scale <= 0) return (unscaled * 10n ** BigInt(-scale)).toString();
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const fraction = digits.slice(digits.length - scale).replace(/0+$/, '');
  if (whole === '0' && fraction === '') return '0';
  return `${negative ? '-' : ''}${whole}${fraction === '' ? '' : `.${fraction}`}`;
}

/** Decimal from Connect Decimal bytes (base64 in JSON, a Buffer in Avro) and the schema's scale. */
export function decimalFromBytes(bytes: Uint8Array, scale: number): string {
  return formatDecimal(unscaledFromBytes(bytes), scale);
}

const MAX_SCALE = 131_072;
const DECIMAL_TEXT = /^([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/**
 * Parse decimal text ("19.990", "-.5", "1E+3", "0.30000000000000004") into unscaled + scale, exactly.
 * Returns undefined when the text is not a finite decimal number (e.g. "NaN", "abc", "").
 */
export function parseDecimal(text: string): { unscaled: bigint; scale: number } | undefined {
  const match = DECIMAL_TEXT.exec(text.trim());
  if (match === null) return undefined;
  const [, sign, whole = '', fraction = '', exponent] = match;
  if (whole === '' && fraction === '') return undefined;
  const scale = fraction.length - (exponent === undefined ? 0 : Number(exponent));
  // PostgreSQL NUMERIC has at most 131072 digits before and 16383 after the point; beyond that the
  // text is not a database value, and 10^huge would only burn memory.
  if (!Number.isSafeInteger(scale) || Math.abs(scale) > MAX_SCALE) return undefined;
  const unscaled = BigInt(`${whole}${fraction}` || '0') * (sign === '-' ? -1n : 1n);
  return { unscaled, scale };
}

/** Canonical form of decimal text, or undefined when it is not a decimal number. */
export function canonicalDecimal(text: string): string | undefined {
  const parsed = parseDecimal(text);
  return parsed === undefined ? undefined : formatDecimal(parsed.unscaled, parsed.scale);
}

/** The unscaled value of `decimal` at `scale`, or undefined when it has more fractional digits than that. */
export function unscaledAt(decimal: string, scale: number): bigint | undefined {
  const parsed = parseDecimal(decimal);
  if (parsed === undefined) return undefined;
  const shift = scale - parsed.scale;
  if (shift >= 0) return parsed.unscaled * 10n ** BigInt(shift);
  const divisor = 10n ** BigInt(-shift);
  return parsed.unscaled % divisor === 0n ? parsed.unscaled / divisor : undefined;
}

/**
 * Columns the configuration declares NUMERIC, by name, with their scale: { prc_amt: 2 }. Used where
 * the record does not say so itself (decimal.handling.mode string or double).
 */
export type DecimalColumns = Readonly<Record<string, number>>;

/**
 * The decimal a double from a NUMERIC(p, scale) column stands for, or undefined when the double
 * cannot carry it exactly (|value| >= 10^(15 - scale), or not finite) or it has more than `scale`
 * fractional digits (then it did not come from such a column).
 */
export function decimalFromDouble(value: number, scale: number): string | undefined {
  if (!Number.isFinite(value) || Math.abs(value) >= 10 ** (15 - scale)) return undefined;
  const shortest = canonicalDecimal(String(value));
  return shortest !== undefined && unscaledAt(shortest, scale) !== undefined ? shortest : undefined;
}
