import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../../src/config/index.ts';
import {
  CSV_HEADER,
  cleanCell,
  csvFilename,
  neutralise,
  percentCell,
  quote,
  toCsv,
} from '../../../../src/pipeline/digest/csv.ts';
import { entriesOf } from '../../../../src/pipeline/digest/entries.ts';
import { buildDigest } from '../../../../src/pipeline/digest/index.ts';
import { listingTitle } from '../../../../src/pipeline/human.ts';
import { SOURCE_TS_MS } from '../../../support/events.ts';
import { itemFor, priceItem, update } from './items.ts';
import { parseCsv } from './strict-csv.ts';

const config = parseConfig('', 'defaults');
const BOM = '\uFEFF';

/** The file's rows, parsed strictly, after checking the byte order mark. */
function rowsOf(content: Buffer | undefined): string[][] {
  const text = content?.toString('utf8') ?? '';
  expect(text.startsWith(BOM)).toBe(true);
  return parseCsv(text.slice(BOM.length));
}

describe('strict CSV reader (the test tool itself)', () => {
  it('reads quoted fields with doubled quotes, commas and line breaks', () => {
    expect(parseCsv('a,"b ""c"", d","e\r\nf"\r\n,\r\n')).toEqual([
      ['a', 'b "c", d', 'e\r\nf'],
      ['', ''],
    ]);
  });
  it.each([
    ['a,b', 'no CRLF at the end'],
    ['a,b\n', 'a bare LF'],
    ['a"b\r\n', 'a quote in an unquoted field'],
    ['"a"b\r\n', 'text after a closing quote'],
    ['"a\r\n', 'an unterminated quote'],
  ])('refuses %j (%s)', (text) => {
    expect(() => parseCsv(text)).toThrow();
  });
});

describe('cleanCell', () => {
  it('removes bidi controls (Trojan Source) and other control characters', () => {
    const bidi = '\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069\u200E\u200F\u061C';
    expect(cleanCell(`a${bidi}b`)).toBe('ab');
    // U+0085 (NEL) is a line break, so a space; the others go.
    expect(cleanCell('a\u0000b\u001Bc\u007Fd\u0085e\u009Bf')).toBe('abcd ef');
  });
  it('turns line breaks and tabs into spaces, so every row is one line', () => {
    expect(cleanCell('one\r\ntwo\nthree\rfour\tfive\u2028six')).toBe('one two three four five six');
  });
  it('replaces lone surrogates and keeps pairs', () => {
    expect(cleanCell('\uD83D\uDE00 \uD83D x \uDE00')).toBe('\uD83D\uDE00 \uFFFD x \uFFFD');
  });
});

describe('neutralise (CSV injection)', () => {
  it.each([
    ['=HYPERLINK("https://evil.example","x")'],
    ['+1+cmd|" /C calc"!A0'],
    ['-2+3'],
    ['@SUM(A1:A2)'],
    ['\t=1'],
    ['\r=1'],
    ['  =1'],
    ['＝1'],
    ['＋1'],
    ['－1'],
    ['＠x'],
  ])('prefixes %j with an apostrophe', (cell) => {
    expect(neutralise(cell)).toBe(`'${cell}`);
  });
  it.each([['Chair'], ['1'], ['$19.99'], ['a=b'], ['']])('leaves %j alone', (cell) => {
    expect(neutralise(cell)).toBe(cell);
  });
});

describe('quote', () => {
  it('quotes only where RFC 4180 needs it (and around edge spaces), doubling quotes', () => {
    expect(quote('plain')).toBe('plain');
    expect(quote('a,b')).toBe('"a,b"');
    expect(quote('say "hi"')).toBe('"say ""hi"""');
    expect(quote(' padded ')).toBe('" padded "');
  });
});

describe('percentCell', () => {
  it.each([
    [-1005n, '-10.05'],
    [250n, '2.5'],
    [1000n, '10'],
    [-1n, '-0.01'],
    [0n, '0'],
  ])('%s hundredths -> %s', (h, text) => {
    expect(percentCell(h)).toBe(text);
  });
});

describe('csvFilename', () => {
  it('names the channel and the first commit time, safe for file systems and URLs', () => {
    expect(csvFilename('sales-alerts', SOURCE_TS_MS)).toBe('sales-alerts-digest-2026-11-28T13-45-07Z.csv');
    expect(csvFilename('../../etc/Pass wd', SOURCE_TS_MS)).toBe(
      'etc-pass-wd-digest-2026-11-28T13-45-07Z.csv',
    );
    expect(csvFilename('***', Number.NaN)).toBe('channel-digest-unknown-time.csv');
    expect(csvFilename('a'.repeat(300), SOURCE_TS_MS).length).toBeLessThan(100);
  });
});

describe('the CSV file', () => {
  it('has a header row, then one row per item sorted by numeric listing id', () => {
    const items = [
      priceItem(config, 10, '20.00', '15.00', 'Desk'),
      priceItem(config, 9, '19.99', '21.49', 'Lamp, "LED"'),
      priceItem(config, 100, '10', '9.50'),
    ];
    const digest = buildDigest({
      channelKey: 'sales-alerts',
      items,
      fromMs: SOURCE_TS_MS,
      toMs: SOURCE_TS_MS + 60_000,
      config,
      upload: true,
    });
    expect(digest.replies).toEqual([]);
    expect(digest.file?.filename).toBe('sales-alerts-digest-2026-11-28T13-45-07Z.csv');
    expect(digest.file?.title).toBe(
      'Digest for sales-alerts: 3 changes committed from 2026-11-28 13:45:07 UTC to 2026-11-28 13:46:07 UTC',
    );
    expect(rowsOf(digest.file?.content)).toEqual([
      [...CSV_HEADER],
      ['9', 'Lamp, "LED"', 'price moved', 'Price', '$19.99', '$21.49', '7.5', '2026-11-28T13:45:07.132Z'],
      ['10', 'Desk', 'price moved', 'Price', '$20.00', '$15.00', '-25', '2026-11-28T13:45:07.133Z'],
      [
        '100',
        'Ergonomic Office Chair, Mesh Back',
        'price moved',
        'Price',
        '$10.00',
        '$9.50',
        '-5',
        '2026-11-28T13:45:07.223Z',
      ],
    ]);
  });

  it('neutralises formulas and strips bidi and control characters in titles; the computed percent stays a number', () => {
    const titles = ['=1+1', '-2+3', '@SUM(A1)', '\t=1', 'evil\u202Egnp.exe', 'line\nbreak', '+x'];
    const items = titles.map((t, i) => priceItem(config, i + 1, '10', '8', t));
    const digest = buildDigest({
      channelKey: 'sales-alerts',
      items,
      fromMs: SOURCE_TS_MS,
      toMs: SOURCE_TS_MS,
      config,
      upload: true,
    });
    const rows = rowsOf(digest.file?.content).slice(1);
    // listingTitle() trims, so the leading tab is gone before the CSV sees it; "=1" is still caught.
    expect(rows.map((r) => r[1])).toEqual([
      "'=1+1",
      "'-2+3",
      "'@SUM(A1)",
      "'=1",
      'evilgnp.exe',
      'line break',
      "'+x",
    ]);
    expect(rows.map((r) => r[6])).toEqual(Array(7).fill('-20'));
  });

  it('joins several signals of one item with "; " and keeps the item on one row', () => {
    const everything = parseConfig(
      'rules: [{ name: all, match: {}, channels: [sales-alerts] }]\n',
      'all to sales-alerts',
    );
    const event = update(7, { prc_amt: { type: 'decimal', value: '15.00' }, prod_stk_qty: 2 });
    const item = itemFor(event, 'sales-alerts', everything);
    const csv = toCsv(entriesOf([item], everything));
    expect(parseCsv(csv)[1]).toEqual([
      '7',
      'Ergonomic Office Chair, Mesh Back',
      'all',
      'Price; Stock',
      '$19.99; 12',
      '$15.00; 2',
      "'-24.96; -83.33",
      '2026-11-28T13:45:07.130Z',
    ]);
  });
});

describe('round trip through csv-parse (a real parser, strict settings)', () => {
  const fragment = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 12 }),
    fc.constantFrom(
      '"',
      '""',
      ',',
      '\r\n',
      '\n',
      '\r',
      ' ',
      '=',
      '+',
      '-',
      '@',
      '\t',
      '\u202E',
      '\u0000',
      '\uD800',
    ),
  );
  const title = fc.array(fragment, { maxLength: 8 }).map((parts) => parts.join(''));

  it('reads back every title as cleaned and neutralised, and agrees with the strict reader', () => {
    fc.assert(
      fc.property(fc.array(title, { minLength: 1, maxLength: 20 }), (titles) => {
        const items = titles.map((t, i) => priceItem(config, i + 1, '10', '8', t));
        const d = buildDigest({
          channelKey: 'sales-alerts',
          items,
          fromMs: SOURCE_TS_MS,
          toMs: SOURCE_TS_MS,
          config,
          upload: true,
        });
        const text = d.file?.content.toString('utf8') ?? '';
        const rows: string[][] = parse(text, { bom: true, relax_quotes: false, relax_column_count: false });
        expect(rows).toEqual(rowsOf(d.file?.content));
        expect(rows[0]).toEqual([...CSV_HEADER]);
        rows.slice(1).forEach((row, i) => {
          expect(row[0]).toBe(String(i + 1));
          const shown = listingTitle(items[i]?.event ?? update(0, {}), config) ?? '';
          expect(row[1]).toBe(neutralise(cleanCell(shown)));
          expect(row[1]).not.toMatch(/^[=+\-@\t\r]/);
        });
      }),
      { numRuns: 150 },
    );
  });
});
