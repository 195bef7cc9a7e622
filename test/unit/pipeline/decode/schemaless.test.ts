import { describe, expect, it } from 'vitest';
import { convertSchemaless, convertSchemalessRow } from '../../../../src/pipeline/decode/schemaless.ts';
import { decimalBase64 } from '../../../support/records.ts';

describe('convertSchemaless', () => {
  it.each<[unknown, unknown]>([
    ['text', 'text'],
    [12, 12],
    [true, true],
    [null, null],
    ['__debezium_unavailable_value', { type: 'unavailable' }],
    [
      { scale: 2, value: decimalBase64('17.99', 2) },
      { type: 'decimal', value: '17.99' },
    ],
    [
      { scale: 2, value: 'AQ==', extra: 1 },
      { type: 'json', value: { scale: 2, value: 'AQ==', extra: 1 } },
    ],
    [
      { x: 1, y: 2 },
      { type: 'json', value: { x: 1, y: 2 } },
    ],
    [[1, 'a'], { type: 'json', value: [1, 'a'] }],
  ])('%j -> %j', (value, expected) => {
    expect(convertSchemaless(value, 'after.c')).toEqual(expected);
  });
});

describe('convertSchemalessRow with NUMERIC columns from the configuration', () => {
  const convert = (value: unknown, scale = 2) =>
    convertSchemalessRow({ price: value }, 'after', { price: scale }).price;

  it.each<[string, unknown, number, unknown]>([
    [
      'precise (base64) at the configured scale',
      decimalBase64('199.99', 2),
      2,
      { type: 'decimal', value: '199.99' },
    ],
    ['string mode text', '1234567.89', 2, { type: 'decimal', value: '1234567.89' }],
    ['double mode number', 1234567.89, 2, { type: 'decimal', value: '1234567.89' }],
    // 3 bytes whose base64 is all digits: string mode would have written "1234.00", so it is base64.
    ['digits-only base64 at scale 2', '1234', 2, { type: 'decimal', value: '-26588.24' }],
    // At scale 0 string mode writes digits only too: "1234" could be either, so it is not guessed.
    ['ambiguous digits at scale 0', '1234', 0, '1234'],
    ['digits at scale 0 that cannot be base64', '12345', 0, { type: 'decimal', value: '12345' }],
    ['the TOAST placeholder', '__debezium_unavailable_value', 2, { type: 'unavailable' }],
    ['a double too large to be exact', 1e14, 2, 1e14],
    ['null', null, 2, null],
  ])('%s', (_label, value, scale, expected) => {
    expect(convert(value, scale)).toEqual(expected);
  });

  it('other columns are untouched', () => {
    expect(convertSchemalessRow({ title: '1234.00' }, 'after', { price: 2 })).toEqual({ title: '1234.00' });
  });
});
