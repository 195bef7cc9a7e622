import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ChangeEvent, Row } from '../../../src/domain/change.ts';
import { diff, equalValues } from '../../../src/pipeline/diff.ts';

const row = (overrides: Row = {}): Row => ({
  lst_id: 1,
  LST_STAT_CD: 'A',
  prc_amt: { type: 'decimal', value: '19.99' },
  prod_stk_qty: 12,
  description: 'Mesh back',
  upd_ts: { type: 'timestamp', iso: '2026-11-22T13:45:07.123456Z' },
  attrs: { type: 'json', value: { color: 'black', sizes: [1, 2] } },
  ...overrides,
});

function makeEvent(overrides: Partial<ChangeEvent> = {}): ChangeEvent {
  return {
    op: 'update',
    source: { snapshot: false },
    key: { lst_id: 1 },
    listingId: '1',
    before: row(),
    beforeComplete: true,
    after: row(),
    ...overrides,
  };
}

describe('diff', () => {
  it('an update lists only the columns that changed, with both sides', () => {
    const after = row({ prc_amt: { type: 'decimal', value: '17.99' }, prod_stk_qty: 0 });
    expect(diff(makeEvent({ after }))).toEqual([
      {
        column: 'prc_amt',
        before: { type: 'decimal', value: '19.99' },
        after: { type: 'decimal', value: '17.99' },
        beforeUnknown: false,
      },
      { column: 'prod_stk_qty', before: 12, after: 0, beforeUnknown: false },
    ]);
  });

  it('an update that set every column to its own value changes nothing', () => {
    expect(diff(makeEvent())).toEqual([]);
  });

  it('compares tagged values and JSON structurally (new objects, other key order)', () => {
    const after = row({
      prc_amt: { type: 'decimal', value: '19.99' },
      attrs: { type: 'json', value: { sizes: [1, 2], color: 'black' } },
    });
    expect(diff(makeEvent({ after }))).toEqual([]);
  });

  it('a change inside a JSON column is a change', () => {
    const after = row({ attrs: { type: 'json', value: { color: 'black', sizes: [1, 3] } } });
    expect(diff(makeEvent({ after })).map((c) => c.column)).toEqual(['attrs']);
  });

  it('null <-> value is a change', () => {
    expect(diff(makeEvent({ after: row({ description: null }) }))).toEqual([
      { column: 'description', before: 'Mesh back', after: null, beforeUnknown: false },
    ]);
  });

  it('an unavailable (TOAST) after value is never a change', () => {
    const after = row({ description: { type: 'unavailable' }, prod_stk_qty: 3 });
    expect(diff(makeEvent({ after })).map((c) => c.column)).toEqual(['prod_stk_qty']);
  });

  it('an unavailable before value makes that column unknown, not a difference', () => {
    const before = row({ description: { type: 'unavailable' } });
    expect(diff(makeEvent({ before, after: row({ description: 'New text' }) }))).toEqual([
      { column: 'description', before: undefined, after: 'New text', beforeUnknown: true },
    ]);
  });

  it('before unknown (REPLICA IDENTITY DEFAULT): every non-key column, beforeUnknown, TOAST skipped', () => {
    const after = row({ description: { type: 'unavailable' }, prc_amt: { type: 'decimal', value: '1099' } });
    const changes = diff(makeEvent({ before: null, beforeComplete: false, after }));
    expect(changes.map((c) => c.column)).toEqual([
      'LST_STAT_CD',
      'prc_amt',
      'prod_stk_qty',
      'upd_ts',
      'attrs',
    ]);
    expect(changes.every((c) => c.beforeUnknown && c.before === undefined)).toBe(true);
    expect(changes[1]?.after).toEqual({ type: 'decimal', value: '1099' });
  });

  it('a column new to the after image (schema change) has an unknown before', () => {
    const changes = diff(makeEvent({ after: row({ brand: 'Acme' }) }));
    expect(changes).toEqual([{ column: 'brand', before: undefined, after: 'Acme', beforeUnknown: true }]);
  });

  it('a create lists the non-null columns of the new row with before null', () => {
    const after = row({ description: null, attrs: null, upd_ts: null });
    expect(diff(makeEvent({ op: 'create', before: null, beforeComplete: false, after }))).toEqual([
      { column: 'lst_id', before: null, after: 1, beforeUnknown: false },
      { column: 'LST_STAT_CD', before: null, after: 'A', beforeUnknown: false },
      { column: 'prc_amt', before: null, after: { type: 'decimal', value: '19.99' }, beforeUnknown: false },
      { column: 'prod_stk_qty', before: null, after: 12, beforeUnknown: false },
    ]);
  });

  it('a delete lists the old row with after null, or nothing when the old row is unknown', () => {
    const before = { lst_id: 1, prc_amt: { type: 'decimal', value: '19.99' } } as Row;
    expect(diff(makeEvent({ op: 'delete', before, after: null }))).toEqual([
      { column: 'lst_id', before: 1, after: null, beforeUnknown: false },
      { column: 'prc_amt', before: { type: 'decimal', value: '19.99' }, after: null, beforeUnknown: false },
    ]);
    expect(diff(makeEvent({ op: 'delete', before: null, beforeComplete: false, after: null }))).toEqual([]);
  });

  it('a truncate changes no columns', () => {
    expect(
      diff(makeEvent({ op: 'truncate', before: null, after: null, key: null, listingId: null })),
    ).toEqual([]);
  });
});

describe('equalValues', () => {
  it.each<[unknown, unknown, boolean]>([
    [1, 1, true],
    [Number.NaN, Number.NaN, true],
    [1, '1', false],
    [null, null, true],
    [null, { type: 'unavailable' }, false],
    [{ type: 'decimal', value: '1' }, { type: 'decimal', value: '1' }, true],
    [{ type: 'decimal', value: '1' }, { type: 'decimal', value: '2' }, false],
    [{ type: 'json', value: [1, { a: 2 }] }, { type: 'json', value: [1, { a: 2 }] }, true],
    [{ type: 'json', value: [1] }, { type: 'json', value: { 0: 1 } }, false],
    [{ a: 1 }, { a: 1, b: undefined }, false],
  ])('%j vs %j: %s', (a, b, expected) => {
    expect(equalValues(a, b)).toBe(expected);
  });
});

describe('equalValues on deep values (issue 19, finding 1)', () => {
  /** A JSON value nested `depth` arrays deep around `leaf`, built without recursion. */
  const deep = (depth: number, leaf: unknown): unknown => {
    let v: unknown = leaf;
    for (let i = 0; i < depth; i += 1) v = [v];
    return v;
  };

  it('compares values nested 10,000 and 1,000,000 deep without overflowing the stack', () => {
    for (const depth of [10_000, 1_000_000]) {
      expect(equalValues(deep(depth, 1), deep(depth, 1))).toBe(true);
      expect(equalValues(deep(depth, 1), deep(depth, 2))).toBe(false);
      expect(equalValues(deep(depth, 1), deep(depth + 1, 1))).toBe(false);
    }
    let a: Record<string, unknown> = { leaf: 'x' };
    let b: Record<string, unknown> = { leaf: 'x' };
    for (let i = 0; i < 20_000; i += 1) {
      a = { k: a };
      b = { k: b };
    }
    expect(equalValues(a, b)).toBe(true);
  });

  const viaJson = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

  it('agrees with structural equality on generated JSON (property)', () => {
    fc.assert(
      // Through JSON text, as column values come: -0 becomes 0, which isDeepStrictEqual tells apart.
      fc.property(fc.jsonValue().map(viaJson), fc.jsonValue().map(viaJson), (x, y) => {
        expect(equalValues(x, x)).toBe(true);
        expect(equalValues(x, structuredClone(x))).toBe(true);
        expect(equalValues(x, y)).toBe(isDeepStrictEqual(x, y));
      }),
      { numRuns: 500 },
    );
  });
});
