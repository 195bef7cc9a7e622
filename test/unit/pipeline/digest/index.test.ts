import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Config, parseConfig } from '../../../../src/config/index.ts';
import type { SlackPayload } from '../../../../src/domain/message.ts';
import { checkPayload } from '../../../../src/pipeline/block-limits.ts';
import { buildDigest, type Digest, type DigestItem } from '../../../../src/pipeline/digest/index.ts';
import { SOURCE_TS_MS } from '../../../support/events.ts';
import { itemFor, priceItem, sectionText, update } from './items.ts';
import { parseCsv } from './strict-csv.ts';

const config = parseConfig('', 'defaults');
const FROM = SOURCE_TS_MS;
const TO = SOURCE_TS_MS + 5 * 60_000;

function digestOf(
  items: DigestItem[],
  upload: boolean,
  c: Config = config,
  channelKey = 'sales-alerts',
): Digest {
  return buildDigest({ channelKey, items, fromMs: FROM, toMs: TO, config: c, upload });
}

const allPayloads = (d: Digest): SlackPayload[] => [d.payload, ...d.replies];

/** Every line of the complete list in the replies, in order. */
function replyLines(d: Digest): string[] {
  return d.replies.flatMap((r) => r.blocks.slice(1).flatMap((b) => sectionText(b).split('\n')));
}

/** The CSV's data rows (after the byte order mark and the header). */
function csvRows(d: Digest): string[][] {
  const text = d.file?.content.toString('utf8') ?? '';
  return parseCsv(text.replace(/^\uFEFF/, '')).slice(1);
}

function expectWithinLimits(d: Digest): void {
  for (const p of allPayloads(d)) expect(checkPayload(p, { forbidMarkup: true })).toEqual([]);
}

describe('buildDigest: the top-level message', () => {
  const items = [
    priceItem(config, 12, '100.00', '85.00', 'Desk'),
    priceItem(config, 3, '19.99', '17.99', 'Chair'),
    priceItem(config, 40, '10.00', '10.50', 'Lamp'),
  ];

  it('header, window, counts, biggest moves and where the complete list is', () => {
    const d = digestOf(items, true);
    expect(d.payload).toEqual({
      text: 'Digest for sales-alerts: 3 changes committed from 2026-11-28 13:45:07 UTC to 2026-11-28 13:50:07 UTC',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'Digest: 3 changes', emoji: true } },
        {
          type: 'context',
          elements: [
            {
              type: 'mrkdwn',
              text: 'sales-alerts: changes committed from 2026-11-28 13:45:07 UTC to 2026-11-28 13:50:07 UTC, too many to post one by one',
            },
          ],
        },
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            text: '*price moved*: 3 price changes: 2 down, median -12.5%; 1 up, median +5%',
          },
        },
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            text: [
              '*Biggest moves*',
              '• *Desk* (#12): Price $100.00 → $85.00 (-15%)',
              '• *Chair* (#3): Price $19.99 → $17.99 (-10%)',
              '• *Lamp* (#40): Price $10.00 → $10.50 (+5%)',
            ].join('\n'),
          },
        },
        {
          type: 'context',
          elements: [{ type: 'mrkdwn', text: '*Complete list*: the CSV file in the thread' }],
        },
      ],
    });
    expect(d.replies).toEqual([]);
    expect(csvRows(d).map((r) => r[0])).toEqual(['3', '12', '40']);
  });

  it('without upload: the complete list as thread replies, page k of n', () => {
    const d = digestOf(items, false);
    expect(d.file).toBeUndefined();
    expect(d.payload.blocks.at(-1)).toEqual({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: '*Complete list*: in the thread below (1 reply)' }],
    });
    expect(d.replies).toEqual([
      {
        text: 'Digest for sales-alerts, complete list: page 1 of 1',
        blocks: [
          {
            type: 'context',
            elements: [{ type: 'mrkdwn', text: '*Complete list*, page 1 of 1 (1–3 of 3) · sales-alerts' }],
          },
          {
            type: 'section',
            text: {
              type: 'mrkdwn',
              text: [
                '• *Chair* (#3): Price $19.99 → $17.99 (-10%) · 2026-11-28 13:45:07 UTC',
                '• *Desk* (#12): Price $100.00 → $85.00 (-15%) · 2026-11-28 13:45:07 UTC',
                '• *Lamp* (#40): Price $10.00 → $10.50 (+5%) · 2026-11-28 13:45:07 UTC',
              ].join('\n'),
            },
          },
        ],
      },
    ]);
  });

  it('names the window in the configured time zone; one instant reads "at"', () => {
    const berlin = parseConfig('timeZone: Europe/Berlin\n', 'berlin');
    const d = buildDigest({
      channelKey: 'sales-alerts',
      items: [priceItem(berlin, 1, '10', '5')],
      fromMs: FROM,
      toMs: FROM,
      config: berlin,
      upload: true,
    });
    expect(JSON.stringify(d.payload.blocks[1])).toContain('changes committed at 2026-11-28 14:45:07 GMT+1');
  });

  it('the ten biggest moves by absolute percent, ties in listing order', () => {
    // Listing i moves by i % (alternating sign); 21 and 22 tie with 20 in size.
    const moves = Array.from({ length: 20 }, (_, k) => {
      const i = k + 1;
      return priceItem(config, i, '100', String(100 + (i % 2 === 0 ? i : -i)));
    });
    const tied = [priceItem(config, 22, '100', '80'), priceItem(config, 21, '100', '120')];
    const d = digestOf([...moves, ...tied], true);
    const lines = sectionText(d.payload.blocks[3]).split('\n');
    expect(lines[0]).toBe('*Biggest moves*');
    expect(lines.slice(1).map((l) => /\(#(\d+)\)/.exec(l)?.[1])).toEqual([
      '20',
      '21',
      '22',
      '19',
      '18',
      '17',
      '16',
      '15',
      '14',
      '13',
    ]);
  });

  it('with no money moves to rank: the first ten in listing order', () => {
    const items = Array.from({ length: 12 }, (_, i) =>
      itemFor(update(12 - i, { LST_STAT_CD: 'U' }), 'support-heads-up', config),
    );
    const d = digestOf(items, true, config, 'support-heads-up');
    const lines = sectionText(d.payload.blocks[3]).split('\n');
    expect(lines[0]).toBe('*First 10 by listing id*');
    expect(lines[1]).toBe('• *Ergonomic Office Chair, Mesh Back* (#1): Status Active → Unpublished');
    expect(lines).toHaveLength(11);
  });

  it('is deterministic: the same items in any order give the same digest', () => {
    const many = Array.from({ length: 50 }, (_, i) =>
      priceItem(config, (i * 37) % 101, '500', String(10 + i)),
    );
    const reversed = [...many].reverse();
    for (const upload of [true, false]) {
      const a = digestOf(many, upload);
      const b = digestOf(reversed, upload);
      expect(b).toEqual(a);
      expect(b.file?.content.equals(a.file?.content ?? Buffer.alloc(0)) ?? true).toBe(true);
    }
  });

  it('an empty digest is still a valid message', () => {
    const d = digestOf([], false);
    expect(d.replies).toEqual([]);
    expectWithinLimits(d);
    expect(d.payload.blocks[0]).toMatchObject({ text: { text: 'Digest: 0 changes' } });
  });
});

describe('buildDigest: hostile titles', () => {
  const hostile = [
    '<!channel> sale',
    '<@U1> look',
    'Fish & Chips &amp; more',
    '*bold* _it_ ~s~ `code`',
    'evil\u202Egnp.exe\u2066x\u2069\u200E\u200F\u061C',
    '<https://evil.example|click here>',
    'two\nlines • *fake* (#999): Price $1 → $0',
    `${'€'.repeat(2500)}${'x'.repeat(2500)}`,
  ];
  const items = hostile.map((title, i) => priceItem(config, i + 1, '10.00', `${i + 2}.00`, title));

  for (const upload of [true, false]) {
    it(`are escaped and cut, ${upload ? 'in the summary' : 'in the summary and every reply'}`, () => {
      const d = digestOf(items, upload);
      expectWithinLimits(d);
      const json = JSON.stringify(allPayloads(d));
      for (const raw of ['<!channel>', '<@U1>', '<https://', ' & ']) expect(json).not.toContain(raw);
      expect(json).not.toMatch(/[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/);
      expect(json).toContain('&lt;!channel&gt; sale');
      expect(json).toContain('Fish &amp; Chips &amp;amp; more');
      if (!upload) {
        const lines = replyLines(d);
        expect(lines).toHaveLength(hostile.length);
        // A title's line break cannot forge a line of its own.
        expect(lines.filter((l) => l.includes('(#999)'))).toHaveLength(1);
        expect(lines[6]).toContain('two lines');
        // The 5 kB title is cut to 100 characters with an ellipsis.
        expect(lines[7]).toContain(`${'€'.repeat(99)}…`);
        expect(Math.max(...lines.map((l) => l.length))).toBeLessThan(300);
      }
    });
  }

  it('bidi and control characters are gone from the CSV too', () => {
    const d = digestOf(items, true);
    const titles = csvRows(d).map((r) => r[1]);
    expect(titles[4]).toBe('evilgnp.exex');
    expect(titles[6]).toBe('two lines • *fake* (#999): Price $1 → $0');
    expect(titles[7]).toHaveLength(5000);
  });
});

describe('buildDigest: 10,000 items', () => {
  // JSON doubles quotes and backslashes: the worst case for the 12,000-character blocks budget.
  const nasty = `${'"\\'.repeat(40)}<!channel>&`;
  let built: DigestItem[] | undefined;
  const items = (): DigestItem[] => {
    built ??= Array.from({ length: 10_000 }, (_, i) =>
      priceItem(
        config,
        i + 1,
        '100.00',
        (10 + (i % 80)).toFixed(2),
        i % 3 === 0 ? nasty : `Listing ${i + 1}`,
      ),
    );
    return built;
  };

  it('every reply within Slack limits, every item on exactly one line, page k of n', () => {
    const d = digestOf(items(), false);
    expectWithinLimits(d);
    const n = d.replies.length;
    expect(n).toBeGreaterThan(1);
    d.replies.forEach((r, k) => {
      expect(r.text).toContain(`page ${(k + 1).toLocaleString('en-US')} of ${n.toLocaleString('en-US')}`);
      expect(r.blocks.length).toBeLessThanOrEqual(50);
    });
    const lines = replyLines(d);
    expect(lines).toHaveLength(10_000);
    lines.forEach((line, i) => {
      expect(line).toContain(`(#${i + 1}): `);
    });
    expect(JSON.stringify(d.payload)).toContain(`in the thread below (${n} replies)`);
  });

  it('the CSV has every listing once and the summary stays within limits', () => {
    const d = digestOf(items(), true);
    expectWithinLimits(d);
    const ids = csvRows(d).map((r) => r[0]);
    expect(ids).toEqual(Array.from({ length: 10_000 }, (_, i) => String(i + 1)));
    expect(JSON.stringify(d.payload.blocks[0])).toContain('Digest: 10,000 changes');
  });
});

describe('buildDigest: properties', () => {
  const fragment = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.constantFrom(
      '<!channel>',
      '<@U1>',
      '&',
      '&amp;',
      '*',
      '"',
      ',',
      '\r\n',
      '\n',
      '=',
      '+',
      '-',
      '@',
      '\t',
    ),
    fc.constantFrom('\u202E', '\u2066', '\u200F', '\u061C', '\u0000', '\u0085', '\uD800', '•', '(#1): '),
  );
  const title = fc.array(fragment, { maxLength: 8 }).map((parts) => parts.join(''));
  const listings = fc.uniqueArray(fc.record({ id: fc.nat({ max: 1_000_000 }), title }), {
    selector: (l) => l.id,
    minLength: 1,
    maxLength: 40,
  });
  const itemsOf = (ls: { id: number; title: string }[]) =>
    ls.map((l) => priceItem(config, l.id, '20.00', '10.00', l.title));
  const sortedIds = (ls: { id: number }[]) =>
    ls
      .map((l) => l.id)
      .sort((a, b) => a - b)
      .map(String);

  it('every listing id appears in the CSV exactly once, for any titles', () => {
    fc.assert(
      fc.property(listings, (ls) => {
        const d = digestOf(itemsOf(ls), true);
        expect(csvRows(d).map((r) => r[0])).toEqual(sortedIds(ls));
        expectWithinLimits(d);
      }),
      { numRuns: 150 },
    );
  });

  it('every listing appears in the replies exactly once (one line each, naming its id), for any titles', () => {
    fc.assert(
      fc.property(listings, (ls) => {
        const d = digestOf(itemsOf(ls), false);
        const lines = replyLines(d);
        const ids = sortedIds(ls);
        expect(lines).toHaveLength(ids.length);
        lines.forEach((line, i) => {
          // "• *Title* (#id): …", or "• Listing #id: …" when the title is blank.
          const name = `(\\(#${ids[i]}\\)|^• Listing #${ids[i]})`;
          expect(line).toMatch(new RegExp(`${name}: Price \\$20\\.00 → \\$10\\.00 \\(-50%\\) · `));
        });
        expectWithinLimits(d);
      }),
      { numRuns: 150 },
    );
  });
});
