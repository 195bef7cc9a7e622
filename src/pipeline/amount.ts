/**
 * Exact decimal arithmetic for money and quantities: a value is an integer number of units at a scale
 * (19.99 = 1999 units at scale 2), in BigInt, so 19.99 never becomes 19.989999 and percentages are
 * computed without floats.
 */
import type { ColumnValue } from '../domain/change.ts';

export interface Amount {
  units: bigint;
  scale: number;
}

const DECIMAL = /^([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** "19.99", "-0.5", "12", "1e-7" (doubles print so) -> Amount; anything else -> null. */
export function parseAmount(text: string): Amount | null {
  const m = DECIMAL.exec(text.trim());
  if (m === null) return null;
  const [, sign, int = '', frac = '', exp] = m;
  if (int === '' && frac === '') return null;
  const exponent = exp === undefined ? 0 : Number(exp);
  if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > 1000) return null;
  let digits = `${int}${frac}`;
  let scale = frac.length - exponent;
  if (scale < 0) {
    digits += '0'.repeat(-scale);
    scale = 0;
  }
  const units = BigInt(digits === '' ? '0' : digits);
  return { units: sign === '-' ? -units : units, scale };
}

/**
 * A column value as an exact amount: tagged decimals, numbers (decimal.handling.mode=double, ints)
 * and decimal-looking strings (decimal.handling.mode=string). Anything else (null, TOAST placeholder,
 * text) is not an amount.
 */
export function amountOf(value: ColumnValue | undefined): Amount | null {
  if (typeof value === 'number') return Number.isFinite(value) ? parseAmount(String(value)) : null;
  if (typeof value === 'string') return parseAmount(value);
  if (value !== null && typeof value === 'object' && value.type === 'decimal')
    return parseAmount(value.value);
  return null;
}

function align(a: Amount, b: Amount): [bigint, bigint, number] {
  const scale = Math.max(a.scale, b.scale);
  return [a.units * 10n ** BigInt(scale - a.scale), b.units * 10n ** BigInt(scale - b.scale), scale];
}

export function compareAmounts(a: Amount, b: Amount): -1 | 0 | 1 {
  const [x, y] = align(a, b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function subtract(a: Amount, b: Amount): Amount {
  const [x, y, scale] = align(a, b);
  return { units: x - y, scale };
}

export const abs = (a: Amount): Amount => ({ units: a.units < 0n ? -a.units : a.units, scale: a.scale });

export const isZero = (a: Amount): boolean => a.units === 0n;

/** Canonical text: "19.99", "-0.5", "12" (trailing zeros kept as the scale says). */
export function formatAmount(a: Amount): string {
  const negative = a.units < 0n;
  const digits = (negative ? -a.units : a.units).toString().padStart(a.scale + 1, '0');
  const int = digits.slice(0, digits.length - a.scale);
  const frac = digits.slice(digits.length - a.scale);
  return `${negative ? '-' : ''}${int}${a.scale > 0 ? `.${frac}` : ''}`;
}

/** |after - before| * 100 >= minPercent * |before|, exactly. A move away from zero always qualifies. */
export function movedByPercent(before: Amount, after: Amount, minPercent: Amount): boolean {
  const delta = abs(subtract(after, before));
  if (isZero(before)) return !isZero(delta);
  const lhs = { units: delta.units * 100n, scale: delta.scale };
  const rhs = { units: minPercent.units * abs(before).units, scale: minPercent.scale + before.scale };
  return compareAmounts(lhs, rhs) >= 0;
}

/**
 * The signed percent change, rounded half away from zero to one decimal and trimmed:
 * 19.99 -> 17.99 gives "-10", 19.99 -> 19.49 gives "-2.5", 10 -> 11 gives "+10", 1000 -> 999.99 gives
 * "-<0.1", no move gives "0". null when before is 0 (no percentage of nothing).
 */
export function percentChange(before: Amount, after: Amount): string | null {
  if (isZero(before)) return null;
  const [b, a] = align(before, after);
  // tenths of a percent = (a - b) * 1000 / |b|, rounded half away from zero.
  const numerator = (a - b) * 1000n;
  const denominator = b < 0n ? -b : b;
  const negative = numerator < 0n;
  const n = negative ? -numerator : numerator;
  let tenths = n / denominator;
  if ((n % denominator) * 2n >= denominator) tenths += 1n;
  if (n === 0n) return '0';
  // A real but tiny move is not "0%".
  if (tenths === 0n) return negative ? '-<0.1' : '+<0.1';
  const whole = tenths / 10n;
  const fraction = tenths % 10n;
  return `${negative ? '-' : '+'}${whole}${fraction === 0n ? '' : `.${fraction}`}`;
}
