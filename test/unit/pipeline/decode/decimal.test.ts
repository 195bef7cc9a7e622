import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bytesFromUnscaled,
  canonicalDecimal,
  decimalFromBytes,
  decimalFromDouble,
  formatDecimal,
  parseDecimal,
  unscaledAt,
  unscaledFromBytes,
} from '../../../../src/pipeline/decode/decimal.ts';

const b64 = (s: string): Buffer => Buffer.from(s, 'base64');

describe('decimalFromBytes', () => {
  it.each([
    // Bytes as Debezium's JsonConverter writes them (base64 of BigInteger.toByteArray()).
    ['B88=', 2, '19.99'], // 1999 = 0x07CF
    ['BwM=', 2, '17.95'], // 1795 = 0x0703
    ['+DE=', 2, '-19.99'], // -1999 two's complement = 0xF831
    ['AA==', 2, '0'],
    ['', 2, '0'],
    ['BLA=', 2, '12'], // 1200 at scale 2: trailing zeros dropped
    ['AIA=', 0, '128'], // 0x0080: the leading zero byte keeps it positive
    ['gA==', 0, '-128'],
    ['AQ==', 5, '0.00001'],
    ['AQ==', -3, '1000'],
  ])('%s at scale %i is %s', (base64, scale, expected) => {
    expect(decimalFromBytes(b64(base64), scale)).toBe(expected);
  });

  it('keeps 19.99 exact where a float would not (regression: money is exact)', () => {
    expect(decimalFromBytes(bytesFromUnscaled(1999n), 2)).toBe('19.99');
    expect(decimalFromBytes(bytesFromUnscaled(1_000_000_000_000_000_001n), 2)).toBe('10000000000000000.01');
  });
});

describe('bytes <-> decimal round trip (property)', () => {
  it('any BigInt and scale: bytes -> decimal text -> unscaled at that scale gives the BigInt back', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(2n ** 200n), max: 2n ** 200n }),
        fc.integer({ min: 0, max: 40 }),
        (unscaled, scale) => {
          const bytes = bytesFromUnscaled(unscaled);
          expect(unscaledFromBytes(bytes)).toBe(unscaled);
          const text = decimalFromBytes(bytes, scale);
          expect(unscaledAt(text, scale)).toBe(unscaled);
          expect(canonicalDecimal(text)).toBe(text);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("bytesFromUnscaled is minimal two's complement, like Java BigInteger.toByteArray", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 100n), max: 2n ** 100n }), (unscaled) => {
        const bytes = bytesFromUnscaled(unscaled);
        // One byte shorter would no longer hold the value with its sign.
        const bits = unscaled < 0n ? (-unscaled - 1n).toString(2).length : unscaled.toString(2).length;
        expect(bytes.length).toBe(Math.floor(bits / 8) + 1);
      }),
    );
  });

  it('decimal text -> bytes -> decimal text is the canonical text', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }),
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 0, max: 5 }),
        (unscaled, scale, extra) => {
          const text = formatDecimal(unscaled, scale);
          const wider = scale + extra;
          const atWider = unscaledAt(text, wider);
          expect(atWider).toBeDefined();
          expect(decimalFromBytes(bytesFromUnscaled(atWider as bigint), wider)).toBe(text);
        },
      ),
    );
  });
});

describe('canonicalDecimal', () => {
  it.each([
    ['19.990', '19.99'],
    ['-0.50', '-0.5'],
    ['-0.00', '0'],
    ['+12', '12'],
    ['.5', '0.5'],
    ['1E+3', '1000'],
    ['1.5e-3', '0.0015'],
    ['0.30000000000000004', '0.30000000000000004'],
    ['000123.4500', '123.45'],
  ])('%s -> %s', (text, expected) => {
    expect(canonicalDecimal(text)).toBe(expected);
  });

  it.each(['NaN', 'Infinity', '', '.', '1.2.3', 'abc', '1e999999999'])('%j is not a decimal', (text) => {
    expect(canonicalDecimal(text)).toBeUndefined();
  });

  it('parseDecimal keeps the written scale', () => {
    expect(parseDecimal('19.990')).toEqual({ unscaled: 19990n, scale: 3 });
  });

  it('unscaledAt refuses a value with more fractional digits than the scale', () => {
    expect(unscaledAt('19.999', 2)).toBeUndefined();
    expect(unscaledAt('19.9', 2)).toBe(1990n);
  });
});

describe('decimalFromDouble (decimal.handling.mode=double)', () => {
  it.each<[number, number, string | undefined]>([
    [19.99, 2, '19.99'],
    [1234567.89, 2, '1234567.89'],
    [-0.5, 2, '-0.5'],
    [1099, 2, '1099'],
    [9999999999.99, 2, '9999999999.99'], // NUMERIC(12,2) at its largest: still exact
    [1e13, 2, undefined], // 10^13 >= 10^(15-2): a double no longer pins down two decimals
    [0.1 + 0.2, 2, undefined], // 0.30000000000000004 has more than 2 decimals: not from this column
    [Number.NaN, 2, undefined],
    [Number.POSITIVE_INFINITY, 0, undefined],
  ])('%d at scale %i -> %s', (value, scale, expected) => {
    expect(decimalFromDouble(value, scale)).toBe(expected);
  });

  it('any NUMERIC(15 - s, s) value survives the trip through a double (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 6 }),
        fc.bigInt({ min: -(10n ** 15n) + 1n, max: 10n ** 15n - 1n }),
        (scale, unscaled) => {
          const stored = formatDecimal(unscaled, scale);
          expect(decimalFromDouble(Number(stored), scale)).toBe(stored);
        },
      ),
    );
  });
});
