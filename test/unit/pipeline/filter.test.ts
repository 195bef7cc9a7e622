import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type Config, parseConfig } from '../../../src/config/index.ts';
import type { Row } from '../../../src/domain/change.ts';
import { type Significance, significance } from '../../../src/pipeline/filter.ts';
import {
  dec,
  makeEvent,
  makeListingRow,
  makeUpdate,
  unavailable,
  withChanges,
} from '../../support/events.ts';

const defaults = parseConfig('', 'defaults');

const judge = (after: Row, before: Row = {}, config: Config = defaults): Significance => {
  const { event, changes } = withChanges(makeUpdate(after, before));
  return significance(event, changes, config);
};

const signals = (result: Significance) =>
  result.significant ? result.signals.map((s) => `${s.field ?? 'listing'} ${s.condition}`) : result.reason;

describe('significance with the default fields', () => {
  it.each([
    ['price down 10%', { prc_amt: dec('17.99') }, {}, ['price decreased']],
    ['price up', { prc_amt: dec('25.00') }, {}, ['price increased']],
    [
      'price moved less than 1%',
      { prc_amt: dec('19.89') },
      {},
      'insignificant: Price moved by 0.10 (19.99 -> 19.89), less than 1%',
    ],
    ['price exactly 1%', { prc_amt: dec('99.00') }, { prc_amt: dec('100.00') }, ['price decreased']],
    [
      'price same value, other scale',
      { prc_amt: dec('19.990') },
      {},
      'insignificant: no watched column changed',
    ],
    ['currency only', { crncy_cd: 'EUR' }, {}, ['price changed']],
    ['price set from null', { prc_amt: dec('5.00') }, { prc_amt: null }, ['price changed']],
    ['stock falls below 5', { prod_stk_qty: 3 }, { prod_stk_qty: 7 }, ['stock low']],
    ['stock from exactly 5 to 4', { prod_stk_qty: 4 }, { prod_stk_qty: 5 }, ['stock low']],
    [
      'stock already low, lower',
      { prod_stk_qty: 2 },
      { prod_stk_qty: 4 },
      'insignificant: Stock 4 -> 2 crossed neither the low mark (below 5) nor the recovery mark (8)',
    ],
    [
      'stock wobbles back within the band',
      { prod_stk_qty: 6 },
      { prod_stk_qty: 4 },
      'insignificant: Stock 4 -> 6 crossed neither the low mark (below 5) nor the recovery mark (8)',
    ],
    ['stock recovers to 5 + 3', { prod_stk_qty: 8 }, { prod_stk_qty: 4 }, ['stock recovered']],
    [
      'stock high, drops but stays above 5',
      { prod_stk_qty: 11 },
      { prod_stk_qty: 12 },
      'insignificant: Stock 12 -> 11 crossed neither the low mark (below 5) nor the recovery mark (8)',
    ],
    ['status A -> U', { LST_STAT_CD: 'U' }, {}, ['status changed']],
    ['status padded the same', { LST_STAT_CD: 'A ' }, {}, 'insignificant: no watched column changed'],
    [
      'description word',
      { description: 'Breathable mesh. Ships within 3 working days.' },
      { description: 'Breathable mesh. Ships within 2 working days.' },
      ['description changed'],
    ],
    [
      'description whitespace only',
      { description: 'Breathable  mesh.\n' },
      { description: 'Breathable mesh.' },
      'insignificant: Description changed only in whitespace',
    ],
    [
      'TOAST placeholder is not a change',
      { description: unavailable },
      {},
      'insignificant: no column changed (before and after are equal)',
    ],
    [
      'internal columns only',
      { audit_usr_id: 2, sync_flg: true },
      {},
      'insignificant: only unwatched columns changed (audit_usr_id, sync_flg)',
    ],
    ['title only', { lst_ttl: 'New title' }, {}, 'insignificant: only unwatched columns changed (lst_ttl)'],
    [
      'price and stock together',
      { prc_amt: dec('9.99'), prod_stk_qty: 0 },
      {},
      ['price decreased', 'stock low'],
    ],
  ] as const)('%s', (_name, after, before, expected) => {
    expect(signals(judge(after as Row, before as Row))).toEqual(expected);
  });
});

describe('significance by operation', () => {
  it.each([
    ['create', makeEvent({ op: 'create', before: null, beforeComplete: false }), ['listing created']],
    ['delete', makeEvent({ op: 'delete', after: null }), ['listing deleted']],
    [
      'snapshot read',
      makeEvent({ op: 'read', before: null, source: { snapshot: true } }),
      'snapshot: initial read of an existing row, not a change',
    ],
    [
      'truncate',
      makeEvent({ op: 'truncate', before: null, after: null }),
      'truncate: the table was truncated; there is no row to report',
    ],
    [
      'key change',
      makeEvent({ op: 'create', before: null, keyChange: { role: 'new-key-created', otherKey: '7' } }),
      'key-change: primary key change (new-key-created, other key 7); not a listing change',
    ],
  ] as const)('%s', (_name, event, expected) => {
    const { changes } = withChanges(event);
    expect(signals(significance(event, changes, defaults))).toEqual(expected);
  });
});

describe('a missing before image (REPLICA IDENTITY DEFAULT)', () => {
  const event = makeEvent({
    before: null,
    beforeComplete: false,
    after: makeListingRow({
      prc_amt: dec('1099.00'),
      prod_stk_qty: 0,
      LST_STAT_CD: 'S',
      description: unavailable,
    }),
  });

  it('is judged by the new values alone: price states itself, stock below its mark warns, TOAST stays unchanged', () => {
    const result = significance(event, withChanges(event).changes, defaults);
    expect(signals(result)).toEqual(['price changed', 'status changed', 'stock low']);
    if (!result.significant) throw new Error('unreachable');
    expect(result.signals.every((s) => s.change?.beforeUnknown)).toBe(true);
  });

  // Issue 9, finding 3: config/listing-notifier.yaml promised that with previousUnknown: notify "stock
  // below its low mark still warns", and the code dropped it. A user who chose notify chose "judge each
  // field by its new value alone" (price and status already are); a sell-out is what the stock rule
  // exists for. Above the mark, nothing says the stock was ever low: no "recovered".
  describe('finding 3: stock with previousUnknown: notify, as the config comment says', () => {
    const stockOnly = (qty: number) =>
      makeEvent({ before: null, beforeComplete: false, after: makeListingRow({ prod_stk_qty: qty }) });
    const config = parseConfig(
      'fields: { stock: { kind: quantity, column: prod_stk_qty, lowBelow: 5, hysteresis: 3 } }\n' +
        'rules: []\n',
      'x',
    );
    const judged = (qty: number) =>
      signals(significance(stockOnly(qty), withChanges(stockOnly(qty)).changes, config));

    it.each([0, 4])('stock %i, below its low mark (5), warns', (qty) => {
      expect(judged(qty)).toEqual(['stock low']);
    });

    it.each([5, 7, 8, 100])('stock %i, not below it, is dropped: no recovery can be told', (qty) => {
      expect(judged(qty)).toBe(
        `insignificant: Stock is ${qty} but its previous value is unknown: cannot tell whether it recovered to 8`,
      );
    });

    it('the default config file says the same, and is configured so', () => {
      const text = readFileSync(new URL('../../../config/listing-notifier.yaml', import.meta.url), 'utf8');
      expect(text).toMatch(/stock below its low mark still warns/);
      const fromFile = parseConfig(text, 'config/listing-notifier.yaml');
      expect(fromFile.previousUnknown).toBe('notify');
      const event = stockOnly(0);
      expect(signals(significance(event, withChanges(event).changes, fromFile))).toContain('stock low');
    });
  });

  it('is dropped with previousUnknown: drop', () => {
    const config = parseConfig('previousUnknown: drop\n', 'x');
    expect(signals(significance(event, withChanges(event).changes, config))).toBe(
      'previous-unknown: update without a before image (REPLICA IDENTITY DEFAULT); previousUnknown is "drop"',
    );
  });
});

describe('configurable conditions', () => {
  it('price: either minPercent or minAmount is enough; neither set means every change', () => {
    const both = parseConfig(
      'fields: { price: { kind: money, column: prc_amt, minPercent: 10, minAmount: "1.00" } }\nrules: []\n',
      'x',
    );
    expect(signals(judge({ prc_amt: dec('18.99') }, {}, both))).toEqual(['price decreased']); // 1.00 moved
    expect(signals(judge({ prc_amt: dec('19.00') }, {}, both))).toEqual(
      'insignificant: Price moved by 0.99 (19.99 -> 19.00), less than 10% or 1.00',
    );
    const any = parseConfig('fields: { price: { kind: money, column: prc_amt } }\nrules: []\n', 'x');
    expect(signals(judge({ prc_amt: dec('19.98') }, {}, any))).toEqual(['price decreased']);
  });

  it('status: only the listed transitions', () => {
    const config = parseConfig(
      'fields: { status: { kind: code, column: LST_STAT_CD, codes: { A: Active, U: Unpublished, D: Draft, S: Sold out }, transitions: [{ from: [A], to: [U, D] }] } }\nrules: []\n',
      'x',
    );
    expect(signals(judge({ LST_STAT_CD: 'U' }, {}, config))).toEqual(['status changed']);
    expect(signals(judge({ LST_STAT_CD: 'S' }, {}, config))).toBe(
      'insignificant: Status A -> S is not a watched transition',
    );
  });

  it('stock without a threshold: every change, with its direction', () => {
    const config = parseConfig(
      'fields: { stock: { kind: quantity, column: prod_stk_qty } }\nrules: []\n',
      'x',
    );
    expect(signals(judge({ prod_stk_qty: 11 }, {}, config))).toEqual(['stock decreased']);
    expect(signals(judge({ prod_stk_qty: 13 }, {}, config))).toEqual(['stock increased']);
  });

  it('timestamps notify on any change', () => {
    const config = parseConfig('fields: { updated: { kind: timestamp, column: upd_ts } }\nrules: []\n', 'x');
    expect(
      signals(judge({ upd_ts: { type: 'timestamp', iso: '2026-11-23T00:00:00Z' } }, {}, config)),
    ).toEqual(['updated changed']);
  });

  it('text with ignoreWhitespace false notifies on spacing', () => {
    const config = parseConfig(
      'fields: { description: { kind: text, column: description, ignoreWhitespace: false } }\nrules: []\n',
      'x',
    );
    expect(signals(judge({ description: 'a  b' }, { description: 'a b' }, config))).toEqual([
      'description changed',
    ]);
  });
});
