import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  amountOf,
  compareAmounts,
  formatAmount,
  movedByPercent,
  parseAmount,
  percentChange,
} from '../../../src/pipeline/amount.ts';

const a = (text: string) => {
  const parsed = parseAmount(text);
  if (parsed === null) throw new Error(`not an amount: ${text}`);
  return parsed;
};

describe('parseAmount / formatAmount', () => {
  it.each([
    ['19.99', '19.99'],
    ['-0.5', '-0.5'],
    ['12', '12'],
    ['007.10', '7.10'],
    ['1e-7', '0.0000001'],
    ['1.5E3', '1500'],
    ['.5', '0.5'],
    ['12345678901234567890.12', '12345678901234567890.12'],
  ])('%s -> %s', (input, expected) => {
    expect(formatAmount(a(input))).toBe(expected);
  });

  it.each(['', 'abc', '1,50', '1.2.3', '--1', 'NaN', 'Infinity'])('rejects %j', (input) => {
    expect(parseAmount(input)).toBeNull();
  });

  it('reads every column encoding of a decimal and nothing else', () => {
    expect(amountOf({ type: 'decimal', value: '199.99' })).toEqual({ units: 19999n, scale: 2 });
    expect(amountOf(199.99)).toEqual({ units: 19999n, scale: 2 });
    expect(amountOf('199.99')).toEqual({ units: 19999n, scale: 2 });
    expect(amountOf(null)).toBeNull();
    expect(amountOf({ type: 'unavailable' })).toBeNull();
    expect(amountOf(Number.NaN)).toBeNull();
  });

  it('round-trips any decimal text exactly (property)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }),
        fc.integer({ min: 0, max: 12 }),
        (units, scale) => {
          const amount = { units, scale };
          expect(compareAmounts(a(formatAmount(amount)), amount)).toBe(0);
        },
      ),
    );
  });
});

describe('percent', () => {
  it.each([
    ['19.99', '17.99', '-10'],
    ['249.00', '199.99', '-19.7'],
    ['19.99', '19.49', '-2.5'],
    ['10', '11', '+10'],
    ['1000', '999.99', '-<0.1'],
    ['5', '5.00', '0'],
    ['-10', '-5', '+50'],
    ['0', '5', null],
    ['199.99', '1234567.89', '+617214.8'],
  ])('%s -> %s is %s%%', (before, after, expected) => {
    expect(percentChange(a(before), a(after))).toBe(expected);
  });

  it('decides thresholds exactly, at the boundary too', () => {
    expect(movedByPercent(a('100'), a('99'), a('1'))).toBe(true);
    expect(movedByPercent(a('100'), a('99.01'), a('1'))).toBe(false);
    expect(movedByPercent(a('19.99'), a('19.79'), a('1'))).toBe(true); // 1.0005 %
    expect(movedByPercent(a('19.99'), a('19.80'), a('1'))).toBe(false); // 0.95 %
    expect(movedByPercent(a('0'), a('0.01'), a('50'))).toBe(true);
  });
});
