import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../../src/config/index.ts';
import { parseAmount } from '../../../../src/pipeline/amount.ts';
import { entriesOf, hundredthsOf } from '../../../../src/pipeline/digest/entries.ts';
import { priceItem } from './items.ts';

const config = parseConfig('', 'defaults');
const amount = (text: string) => {
  const a = parseAmount(text);
  if (a === null) throw new Error(text);
  return a;
};

describe('hundredthsOf', () => {
  it.each([
    ['19.99', '17.99', -1001n],
    ['100', '85', -1500n],
    ['3', '4', 3333n],
    ['2', '3', 5000n],
    ['1000', '999.90', -1n],
    ['1000', '999.99', 0n], // -0.001% rounds to 0.00
    ['10', '10', 0n],
    ['-10', '-5', 5000n],
  ])('%s -> %s is %s hundredths of a percent', (a, b, h) => {
    expect(hundredthsOf(amount(a), amount(b))).toBe(h);
  });
  it('is null from zero', () => {
    expect(hundredthsOf(amount('0'), amount('5'))).toBeNull();
  });
});

describe('entriesOf: sort order', () => {
  it('digit-only ids numerically (beyond 2^53 too), then other ids by code unit, then no id', () => {
    const ids = ['10', 'b', '9', '123456789012345678901', '9007199254740993', 'B', '007', null, 'a10', '1e3'];
    const items = ids.map((id, i) => {
      const item = priceItem(config, i + 1, '10', '5');
      return { ...item, event: { ...item.event, listingId: id } };
    });
    expect(entriesOf(items, config).map((e) => e.id)).toEqual([
      '007',
      '9',
      '10',
      '9007199254740993',
      '123456789012345678901',
      '1e3',
      'B',
      'a10',
      'b',
      null,
    ]);
  });

  it('does not depend on the input order (ids unique)', () => {
    const items = Array.from({ length: 30 }, (_, i) => priceItem(config, (i * 7919) % 1000, '10', '5'));
    fc.assert(
      fc.property(fc.shuffledSubarray(items, { minLength: items.length }), (shuffled) => {
        expect(entriesOf(shuffled, config).map((e) => e.id)).toEqual(
          entriesOf(items, config).map((e) => e.id),
        );
      }),
      { numRuns: 50 },
    );
  });
});
