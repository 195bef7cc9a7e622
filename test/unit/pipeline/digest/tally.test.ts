import { describe, expect, it } from 'vitest';
import { type Config, parseConfig } from '../../../../src/config/index.ts';
import type { ChangeEvent } from '../../../../src/domain/change.ts';
import { entriesOf } from '../../../../src/pipeline/digest/entries.ts';
import { buildDigest, type DigestItem } from '../../../../src/pipeline/digest/index.ts';
import { median, tally } from '../../../../src/pipeline/digest/tally.ts';
import { dec, makeEvent, makeListingRow, SOURCE_TS_MS } from '../../../support/events.ts';
import { itemFor, priceItem, sectionText, update } from './items.ts';

const config = parseConfig('', 'defaults');

/** The summary's counts section, one line per rule. */
function countLines(channelKey: string, items: DigestItem[], c: Config = config): string[] {
  const { payload } = buildDigest({
    channelKey,
    items,
    fromMs: SOURCE_TS_MS,
    toMs: SOURCE_TS_MS,
    config: c,
    upload: true,
  });
  return sectionText(payload.blocks[2]).split('\n');
}

const status = (id: number, from: string, to: string): ChangeEvent =>
  update(id, { LST_STAT_CD: to }, { LST_STAT_CD: from });

describe('median', () => {
  it('takes the middle value, or the mean of the two middle values', () => {
    expect(median([])).toBeNull();
    expect(median([-30, -20, -10])).toBe(-20);
    expect(median([-20, -10])).toBe(-15);
  });
});

describe('counts per rule and direction', () => {
  it('price: down and up with their median moves', () => {
    const items = [
      priceItem(config, 1, '100', '90'),
      priceItem(config, 2, '100', '80'),
      priceItem(config, 3, '100', '70'),
      priceItem(config, 4, '100', '105'),
      priceItem(config, 5, '100', '115'),
    ];
    expect(countLines('sales-alerts', items)).toEqual([
      '*price moved*: 5 price changes: 3 down, median -20%; 2 up, median +10%',
    ]);
  });

  it('an even number of moves: the median is the mean of the middle two', () => {
    const items = [priceItem(config, 1, '100', '90'), priceItem(config, 2, '100', '80')];
    expect(countLines('sales-alerts', items)).toEqual([
      '*price moved*: 2 price changes: 2 down, median -15%',
    ]);
  });

  it('stock: low, ran out and recovered; status transitions in the codes’ words', () => {
    const items = [
      update(1, { prod_stk_qty: 3 }),
      update(2, { prod_stk_qty: 0 }),
      update(3, { prod_stk_qty: 9 }, { prod_stk_qty: 2 }),
      update(4, { prod_stk_qty: 4 }),
      status(5, 'A', 'S'),
    ].map((e) => itemFor(e, 'inventory-warnings', config));
    expect(countLines('inventory-warnings', items)).toEqual([
      '*stock low or recovered*: 4 stock changes: 2 low; 1 ran out; 1 recovered',
      '*sold out*: 1 status change: 1 Active → Sold out',
    ]);
  });

  it('transitions most frequent first; deleted listings counted as listings', () => {
    const deleted = (id: number) =>
      makeEvent({
        op: 'delete',
        listingId: String(id),
        key: { lst_id: id },
        before: makeListingRow({ lst_id: id }),
        after: null,
      });
    const items = [
      status(1, 'S', 'D'),
      status(2, 'A', 'U'),
      status(3, 'A', 'U'),
      status(4, 'A', 'U'),
      deleted(5),
      deleted(6),
    ].map((e) => itemFor(e, 'support-heads-up', config));
    expect(countLines('support-heads-up', items)).toEqual([
      '*unpublished*: 4 status changes: 3 Active → Unpublished; 1 Sold out → Draft',
      '*deleted*: 2 listings: 2 deleted',
    ]);
  });

  it('each signal counts under the rules that matched it, not every rule of its item', () => {
    const c = parseConfig(
      [
        'fields: { price: { kind: money, column: prc_amt, currencyColumn: crncy_cd, decimalScale: 2 }, stock: { kind: quantity, column: prod_stk_qty } }',
        'rules:',
        '  - { name: prices, match: { field: price }, channels: [sales-alerts] }',
        '  - { name: stock, match: { field: stock }, channels: [sales-alerts] }',
        '',
      ].join('\n'),
      'two rules',
    );
    const item = itemFor(update(1, { prc_amt: dec('10.00'), prod_stk_qty: 20 }), 'sales-alerts', c);
    expect(item.rules).toEqual(['prices', 'stock']);
    const counts = tally(entriesOf([item], c), 'sales-alerts', c);
    expect(counts.map((r) => [r.rule, r.count, r.fields.map((f) => f.key)])).toEqual([
      ['prices', 1, ['price']],
      ['stock', 1, ['stock']],
    ]);
    expect(countLines('sales-alerts', [item], c)).toEqual([
      '*prices*: 1 price change: 1 down, median -50%',
      '*stock*: 1 stock change: 1 up, median +66.7%',
    ]);
  });

  it('says "previous value unknown" for updates without a before image', () => {
    const event = makeEvent({
      before: null,
      beforeComplete: false,
      after: makeListingRow({ prc_amt: dec('17.99') }),
    });
    expect(countLines('sales-alerts', [itemFor(event, 'sales-alerts', config)])).toEqual([
      '*price moved*: 1 price change: 1 previous value unknown',
    ]);
  });

  it('the unmatched fallback is a rule of its own, after the configured ones', () => {
    const c = parseConfig('unmatched: { action: send, channel: sales-alerts }\n', 'fallback');
    const items = [
      priceItem(c, 1, '10', '5'),
      itemFor(update(2, { description: 'Brand new words entirely' }), 'sales-alerts', c),
    ];
    expect(countLines('sales-alerts', items, c)).toEqual([
      '*price moved*: 1 price change: 1 down, median -50%',
      '*unmatched*: 1 description change: 1 changed',
    ]);
  });

  it('shows six kinds of move per field and sums up the rest', () => {
    const c = parseConfig(
      'rules: [{ name: any status, match: { field: status }, channels: [sales-alerts] }]\n',
      'x',
    );
    const items = ['B', 'C', 'E', 'F', 'G', 'H', 'I', 'J'].flatMap((to, k) =>
      Array.from({ length: 8 - k }, (_, j) => itemFor(status(k * 10 + j + 1, 'A', to), 'sales-alerts', c)),
    );
    expect(countLines('sales-alerts', items, c)).toEqual([
      '*any status*: 36 status changes: 8 Active → B; 7 Active → C; 6 Active → E; 5 Active → F; 4 Active → G; 3 Active → H; +2 more kinds (3)',
    ]);
  });

  it('numbers and percents in the configured locale', () => {
    const c = parseConfig('locale: de-DE\n', 'de');
    const items = Array.from({ length: 1240 }, (_, i) => priceItem(c, i + 1, '100', i < 1200 ? '85' : '103'));
    expect(countLines('sales-alerts', items, c)).toEqual([
      '*price moved*: 1.240 price changes: 1.200 down, median -15\u00A0%; 40 up, median +3\u00A0%',
    ]);
  });
});
