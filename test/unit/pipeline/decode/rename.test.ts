import { describe, expect, it } from 'vitest';
import { decodeRecord } from '../../../../src/pipeline/decode/index.ts';
import { decimalColumnsForSource, renameRow } from '../../../../src/pipeline/decode/rename.ts';
import { loadFixture, MARIADB_FIXTURES_DIR } from '../../../support/records.ts';

describe('renameRow', () => {
  it('renames mapped columns, keeps the others and their order', () => {
    expect(Object.entries(renameRow({ a: 1, stk_qty: 2, c: 3 }, { stk_qty: 'prod_stk_qty' }) ?? {})).toEqual([
      ['a', 1],
      ['prod_stk_qty', 2],
      ['c', 3],
    ]);
    expect(renameRow(null, { a: 'b' })).toBeNull();
  });

  it('swaps two names', () => {
    expect(renameRow({ a: 1, b: 2 }, { a: 'b', b: 'a' })).toEqual({ b: 1, a: 2 });
  });

  it('leaves out an unmapped column that a mapped one shadows, wherever it stands', () => {
    expect(renameRow({ prod_stk_qty: 9, stk_qty: 2 }, { stk_qty: 'prod_stk_qty' })).toEqual({
      prod_stk_qty: 2,
    });
    expect(renameRow({ stk_qty: 2, prod_stk_qty: 9 }, { stk_qty: 'prod_stk_qty' })).toEqual({
      prod_stk_qty: 2,
    });
  });

  it('is not fooled by inherited names', () => {
    expect(renameRow({ toString: 'x', constructor: 1 }, {})).toEqual({ toString: 'x', constructor: 1 });
  });
});

describe('decimalColumnsForSource', () => {
  it("gives the rules' NUMERIC scales under the topic's names", () => {
    expect(decimalColumnsForSource({ price: 2, other: 4 }, { prc: 'price' })).toEqual({ prc: 2, other: 4 });
    // A source column named like a rules column that another column is mapped to is not that column.
    expect(decimalColumnsForSource({ price: 2 }, { prc: 'price' })).toEqual({ prc: 2 });
    expect(decimalColumnsForSource({ price: 2 }, { price: 'cost' })).toEqual({});
  });
});

describe('decode with a column map', () => {
  it('renames before, after and key, and reads decimal.handling.mode=string under the mapped name', async () => {
    const [record] = loadFixture('decimal-string', MARIADB_FIXTURES_DIR).records;
    if (!record) throw new Error('fixture missing');
    const columns = { prc_amt: 'price', lst_id: 'id', stk_qty: 'prod_stk_qty' };
    const decoded = await decodeRecord(record, { decimalColumns: { price: 2 }, columns });
    if (decoded.kind !== 'envelope') throw new Error(decoded.kind);
    expect(decoded.envelope.key).toEqual({ id: 900001 });
    expect(decoded.envelope.before).toMatchObject({
      id: 900001,
      price: { type: 'decimal', value: '199.99' },
    });
    expect(decoded.envelope.after).toMatchObject({
      price: { type: 'decimal', value: '1234567.89' },
      prod_stk_qty: 0,
    });
    expect(decoded.envelope.after).not.toHaveProperty('prc_amt');
    expect(decoded.envelope.after).not.toHaveProperty('stk_qty');
    // Without the scale under the mapped name, string mode stays text.
    const plain = await decodeRecord(record, { decimalColumns: { prc_amt: 2 }, columns });
    if (plain.kind !== 'envelope') throw new Error(plain.kind);
    expect(plain.envelope.after?.price).toBe('1234567.89');
  });
});
