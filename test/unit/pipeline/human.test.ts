import { describe, expect, it } from 'vitest';
import { type Config, parseConfig } from '../../../src/config/index.ts';
import type { ChangeEvent } from '../../../src/domain/change.ts';
import { parseAmount } from '../../../src/pipeline/amount.ts';
import { significance } from '../../../src/pipeline/filter.ts';
import {
  describe as describeSignal,
  FORMATTER_MEMO_SIZE,
  formatInstant,
  formatMoney,
  formatterMemoSize,
  formatValue,
  listingTitle,
} from '../../../src/pipeline/human.ts';
import { toPlain } from '../../../src/pipeline/mrkdwn.ts';
import {
  dec,
  makeEvent,
  makeListingRow,
  makeUpdate,
  unavailable,
  withChanges,
} from '../../support/events.ts';

const defaults = parseConfig('', 'defaults');
const amount = (text: string) => parseAmount(text) ?? { units: 0n, scale: 0 };

/** The summary and fields of every signal of an event, as plain text. */
function words(event: ChangeEvent, config: Config = defaults) {
  const verdict = significance(event, withChanges(event).changes, config);
  if (!verdict.significant) throw new Error(verdict.reason);
  return verdict.signals.map((s) => {
    const fact = describeSignal(s, event, config);
    return { summary: toPlain(fact.summary), fields: fact.fields.map((f) => [f.title, toPlain(f.value)]) };
  });
}

describe('money', () => {
  it.each([
    ['19.99', 'USD', 'en-US', '$19.99'],
    ['19.99', 'EUR', 'en-US', '€19.99'],
    ['1234567.89', 'EUR', 'de-DE', '1.234.567,89 €'],
    ['1999', 'JPY', 'en-US', '¥1,999'],
    ['19.995', 'USD', 'en-US', '$19.995'],
    ['12345678901234567.89', 'GBP', 'en-US', '£12,345,678,901,234,567.89'],
    ['5.00', 'XYZ', 'en-US', 'XYZ 5.00'],
    ['5.00', 'usd; <b>', 'en-US', '5.00 usd; <b>'],
    ['5.00', null, 'en-US', '5.00'],
  ])('%s %s (%s) -> %s', (value, currency, locale, expected) => {
    expect(formatMoney(amount(value), currency, locale).replace(/\u00a0/g, ' ')).toBe(expected);
  });

  it('issue 19, finding 6: thousands of currency codes at several scales keep the formatter memo bounded', () => {
    // 4,056 of the 17,576 three-letter codes (all of them take ~8 s here: each miss builds a formatter).
    const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
    let formatted = 0;
    for (const a of 'EJUXYZ')
      for (const b of letters)
        for (const c of letters) {
          for (const value of ['1.5', '1.123']) formatMoney(amount(value), `${a}${b}${c}`, 'en-US');
          formatted += 1;
          expect(formatterMemoSize()).toBeLessThanOrEqual(FORMATTER_MEMO_SIZE);
        }
    expect(formatted).toBe(4_056);
    // Evicted formatters are made again, with the same answer.
    expect(formatMoney(amount('19.99'), 'EUR', 'en-US')).toBe('€19.99');
    expect(formatMoney(amount('19.99'), 'USD', 'en-US')).toBe('$19.99');
  });
});

describe('instants in the configured zone', () => {
  it.each([
    [Date.UTC(2026, 0, 6, 10, 30, 0), 'UTC', '2026-01-06 10:30:00 UTC'],
    [Date.UTC(2026, 0, 6, 10, 30, 0), 'Europe/Berlin', '2026-01-06 11:30:00 GMT+1'],
    [Date.UTC(2026, 6, 6, 10, 30, 0), 'Europe/Berlin', '2026-07-06 12:30:00 GMT+2'],
    [Date.UTC(2026, 6, 6, 3, 5, 9), 'America/New_York', '2026-07-05 23:05:09 EDT'],
  ])('%i in %s', (ms, zone, expected) => {
    expect(formatInstant(ms, zone)).toBe(expected);
  });
});

describe('values', () => {
  const f = defaults.fields;
  it.each([
    ['price', dec('17.99'), '$17.99'],
    ['price', 'not money', 'unreadable amount (not money)'],
    ['status', 'U', 'Unpublished'],
    ['status', 'S ', 'Sold out'],
    ['status', 'X', 'X'],
    // Regression (found by the render property test): a code named like an Object.prototype key.
    ['status', '__proto__', '__proto__'],
    ['status', 'constructor', 'constructor'],
    ['stock', 1234, '1,234'],
    ['stock', dec('9007199254740993'), '9,007,199,254,740,993'],
    ['description', 'a\n\nb', 'a b'],
    ['description', '', '(empty)'],
    ['price', null, 'none'],
    ['price', undefined, 'previous value unknown'],
    ['description', unavailable, 'unchanged (not sent)'],
  ] as const)('%s %j -> %s', (key, value, expected) => {
    const field = f[key];
    if (field === undefined) throw new Error(key);
    expect(formatValue(field, value, defaults)).toBe(expected);
  });

  it('formats timestamps in the configured zone', () => {
    const config = parseConfig(
      'timeZone: Europe/Berlin\nfields: { updated: { kind: timestamp, column: upd_ts } }\nrules: []\n',
      'x',
    );
    const field = config.fields.updated;
    if (field === undefined) throw new Error('updated');
    expect(formatValue(field, { type: 'timestamp', iso: '2026-01-06T10:30:00.123456Z' }, config)).toBe(
      '2026-01-06 11:30:00 GMT+1',
    );
  });
});

describe('sentences a sales or support person reads', () => {
  it.each([
    [
      'price',
      makeUpdate({ prc_amt: dec('17.99') }),
      'Price changed from $19.99 to $17.99 (-10%)',
      [
        ['Price before', '$19.99'],
        ['Price after', '$17.99'],
      ],
    ],
    [
      'price in EUR',
      makeUpdate({ prc_amt: dec('199.99') }, { prc_amt: dec('249.00'), crncy_cd: 'EUR' }),
      'Price changed from €249.00 to €199.99 (-19.7%)',
      null,
    ],
    ['price up', makeUpdate({ prc_amt: dec('21.99') }), 'Price changed from $19.99 to $21.99 (+10%)', null],
    ['currency switch', makeUpdate({ crncy_cd: 'EUR' }), 'Price changed from $19.99 to €19.99', null],
    [
      'price from zero',
      makeUpdate({ prc_amt: dec('5.00') }, { prc_amt: dec('0.00') }),
      'Price changed from $0.00 to $5.00',
      null,
    ],
    [
      'stock low',
      makeUpdate({ prod_stk_qty: 3 }, { prod_stk_qty: 7 }),
      'Stock is low: 3 left (was 7; low below 5)',
      null,
    ],
    ['stock out', makeUpdate({ prod_stk_qty: 0 }), 'Stock ran out: 0 left (was 12)', null],
    [
      'stock recovered',
      makeUpdate({ prod_stk_qty: 9 }, { prod_stk_qty: 2 }),
      'Stock recovered: 9 (was 2; back at 8 or more)',
      null,
    ],
    [
      'status',
      makeUpdate({ LST_STAT_CD: 'U' }),
      'Status changed from Active to Unpublished',
      [
        ['Status before', 'Active'],
        ['Status after', 'Unpublished'],
      ],
    ],
    [
      'description',
      makeUpdate(
        { description: 'Breathable mesh. Ships within 3 working days.' },
        { description: 'Breathable mesh. Ships within 2 working days.' },
      ),
      'Description changed: Breathable mesh. Ships within 2 3 working days.',
      null,
    ],
    ['description removed', makeUpdate({ description: null }), 'Description removed', null],
    [
      'deleted',
      makeEvent({ op: 'delete', after: null }),
      'Listing deleted',
      [
        ['Price', '$19.99'],
        ['Status', 'Active'],
        ['Stock', '12'],
      ],
    ],
    ['created', makeEvent({ op: 'create', before: null, beforeComplete: false }), 'New listing', null],
  ] as const)('%s', (_name, event, summary, fields) => {
    const [first] = words(event);
    expect(first?.summary).toBe(summary);
    if (fields !== null) expect(first?.fields).toEqual(fields);
  });

  it('says plainly when the previous value is unknown', () => {
    const event = makeEvent({
      before: null,
      beforeComplete: false,
      after: makeListingRow({ prc_amt: dec('1099.00') }),
    });
    expect(words(event)[0]).toEqual({
      summary: 'Price is now $1,099.00 (previous value unknown)',
      fields: [
        ['Price before', 'previous value unknown'],
        ['Price after', '$1,099.00'],
      ],
    });
  });

  it.each([
    [0, 'Stock ran out: 0 left (previous value unknown)'],
    [3, 'Stock is low: 3 left (previous value unknown; low below 5)'],
  ])('says low stock plainly when the previous value is unknown (issue 9, finding 3): %i', (qty, summary) => {
    const event = makeEvent({
      before: null,
      beforeComplete: false,
      after: makeListingRow({ prod_stk_qty: qty }),
    });
    const stock = words(event).find((w) => w.summary.startsWith('Stock'));
    expect(stock).toEqual({
      summary,
      fields: [
        ['Stock before', 'previous value unknown'],
        ['Stock after', String(qty)],
      ],
    });
  });

  it('shows a rewritten description as an excerpt, not a giant diff', () => {
    const before = Array.from({ length: 200 }, (_, i) => `old${i}`).join(' ');
    const after = Array.from({ length: 200 }, (_, i) => `new${i}`).join(' ');
    const [first] = words(makeUpdate({ description: after }, { description: before }));
    expect(first?.summary).toMatch(/^Description rewritten: new0 new1 .*…$/);
    expect(first?.summary.length).toBeLessThan(200);
  });
});

describe('listingTitle', () => {
  it('uses the title column, trimmed, else null', () => {
    expect(listingTitle(makeEvent(), defaults)).toBe('Ergonomic Office Chair, Mesh Back');
    expect(listingTitle(makeEvent({ after: makeListingRow({ lst_ttl: '   ' }) }), defaults)).toBeNull();
    expect(listingTitle(makeEvent({ op: 'delete', after: null }), defaults)).toBe(
      'Ergonomic Office Chair, Mesh Back',
    );
    expect(listingTitle(makeEvent(), parseConfig('listing: { titleColumn: null }\n', 'x'))).toBeNull();
  });
});
