import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Config, parseConfig } from '../../../src/config/index.ts';
import type { ChangeEvent } from '../../../src/domain/change.ts';
import type { SlackPayload } from '../../../src/domain/message.ts';
import { checkPayload, hasUnescapedMarkup, slackLimits } from '../../../src/pipeline/block-limits.ts';
import { significance } from '../../../src/pipeline/filter.ts';
import { decide } from '../../../src/pipeline/index.ts';
import { headerText, listingUrl, render } from '../../../src/pipeline/render.ts';
import { dec, makeEvent, makeListingRow, makeUpdate, withChanges } from '../../support/events.ts';

const defaults = parseConfig('', 'defaults');
/** Every significant change goes somewhere, so every signal is rendered. */
const everything = parseConfig('unmatched: { action: send, channel: sales-alerts }\n', 'everything');

function payloadsOf(event: ChangeEvent, config: Config = everything): SlackPayload[] {
  const outcome = decide(event, config);
  if (outcome.kind !== 'notify') throw new Error(`expected notify, got ${outcome.kind}: ${outcome.reason}`);
  return outcome.messages.map((m) => m.payload);
}

function renderOne(event: ChangeEvent, config: Config = everything): SlackPayload {
  const verdict = significance(event, withChanges(event).changes, config);
  if (!verdict.significant) throw new Error(verdict.reason);
  // What Slack receives: the adapter sends text and blocks only (`change` is for other destinations).
  const { change: _change, ...slack } = render({ event, signals: verdict.signals, config });
  return slack;
}

describe('render', () => {
  it('builds header, summary, before/after fields, button and context, plus a text fallback', () => {
    expect(renderOne(makeUpdate({ prc_amt: dec('17.99') }), defaults)).toEqual({
      text: 'Ergonomic Office Chair, Mesh Back (#1): Price changed from $19.99 to $17.99 (-10%)',
      blocks: [
        {
          type: 'header',
          text: { type: 'plain_text', text: 'Ergonomic Office Chair, Mesh Back (#1)', emoji: true },
        },
        { type: 'section', text: { type: 'mrkdwn', text: 'Price changed from $19.99 to $17.99 (-10%)' } },
        {
          type: 'section',
          fields: [
            { type: 'mrkdwn', text: '*Price before*\n$19.99' },
            { type: 'mrkdwn', text: '*Price after*\n$17.99' },
          ],
        },
        {
          type: 'actions',
          elements: [
            {
              type: 'button',
              text: { type: 'plain_text', text: 'View listing' },
              url: 'https://shop.example.com/listings/1',
              action_id: 'view_listing',
            },
          ],
        },
        {
          type: 'context',
          elements: [
            { type: 'mrkdwn', text: 'Changed in the database at 2026-11-28 13:45:07 UTC · listing 1' },
          ],
        },
      ],
    });
  });

  it('lists several changes for one channel as bullets', () => {
    const [payload] = payloadsOf(
      makeUpdate({ prc_amt: dec('9.99'), prod_stk_qty: 2 }),
      parseConfig('rules: [{ match: {}, channels: sales-alerts }]\n', 'x'),
    );
    expect(payload?.blocks[1]).toEqual({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: '• Price changed from $19.99 to $9.99 (-50%)\n• Stock is low: 2 left (was 12; low below 5)',
      },
    });
    expect(payload?.text).toBe(
      'Ergonomic Office Chair, Mesh Back (#1): Price changed from $19.99 to $9.99 (-50%); Stock is low: 2 left (was 12; low below 5)',
    );
  });

  it('escapes a mrkdwn-dangerous title in text and leaves it as it is in the plain_text header', () => {
    const title = '<!channel> & <b>Chair</b> *SALE* <https://evil.example|click here> <@U123ABC>';
    const payload = renderOne(makeUpdate({ prc_amt: dec('9.99'), lst_ttl: title }, { lst_ttl: title }));
    expect(payload.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: `${title} (#1)`, emoji: true },
    });
    expect(payload.text).toBe(
      '&lt;!channel&gt; &amp; &lt;b&gt;Chair&lt;/b&gt; *SALE* &lt;https://evil.example|click here&gt; &lt;@U123ABC&gt; (#1): Price changed from $19.99 to $9.99 (-50%)',
    );
    expect(payload).not.toHaveProperty('parse');
    expect(payload).not.toHaveProperty('link_names');
  });

  it('escapes database values inside fields and summaries', () => {
    const payload = renderOne(makeUpdate({ LST_STAT_CD: '<!here>' }));
    expect(payload.blocks[1]).toEqual({
      type: 'section',
      text: { type: 'mrkdwn', text: 'Status changed from Active to &lt;!here&gt;' },
    });
    expect(checkPayload(payload, { forbidMarkup: true })).toEqual([]);
  });

  it('shows the context time in the configured zone', () => {
    const config = parseConfig('timeZone: Europe/Berlin\n', 'x');
    const payload = renderOne(makeUpdate({ prc_amt: dec('9.99') }), config);
    expect(payload.blocks.at(-1)).toEqual({
      type: 'context',
      elements: [
        { type: 'mrkdwn', text: 'Changed in the database at 2026-11-28 14:45:07 GMT+1 · listing 1' },
      ],
    });
    const unknown = renderOne(makeUpdate({ prc_amt: dec('9.99') }, {}, { source: { tsMs: undefined } }));
    expect(JSON.stringify(unknown.blocks.at(-1))).toContain('Changed in the database at time unknown');
  });

  it('renders a word diff with struck and bold words', () => {
    const payload = renderOne(
      makeUpdate(
        { description: 'Mesh back. Ships within 3 days.' },
        { description: 'Mesh back. Ships within 2 days.' },
      ),
    );
    expect(payload.blocks[1]).toEqual({
      type: 'section',
      text: { type: 'mrkdwn', text: 'Description changed: Mesh back. Ships within ~2~ *3* days.' },
    });
  });

  it('keeps huge values within every limit, truncated with an ellipsis', () => {
    const huge = `${'<&>'.repeat(3000)}"\\`.repeat(3);
    const payload = renderOne(
      makeUpdate(
        { description: `${huge} b`, lst_ttl: huge, LST_STAT_CD: huge },
        { description: `${huge} a` },
      ),
    );
    expect(checkPayload(payload, { forbidMarkup: true })).toEqual([]);
    const header = payload.blocks[0] as unknown as { text: { text: string } };
    expect(header.text.text).toHaveLength(slackLimits.headerText);
    expect(header.text.text.endsWith('… (#1)')).toBe(true);
    expect(JSON.stringify(payload.blocks)).toContain('…');
  });

  it('splits more than ten before/after fields over several sections', () => {
    const fields = Array.from({ length: 7 }, (_, i) => `  f${i}: { kind: quantity, column: q${i} }`).join(
      '\n',
    );
    const config = parseConfig(`fields:\n${fields}\nrules: [{ match: {}, channels: sales-alerts }]\n`, 'x');
    const after = Object.fromEntries(Array.from({ length: 7 }, (_, i) => [`q${i}`, 2]));
    const before = Object.fromEntries(Array.from({ length: 7 }, (_, i) => [`q${i}`, 1]));
    const [payload] = payloadsOf(makeUpdate(after, before), config);
    const sections = payload?.blocks.filter((b) => b.type === 'section' && 'fields' in b) ?? [];
    expect(sections.map((s) => (s.fields as unknown[]).length)).toEqual([10, 4]);
    expect(checkPayload(payload as SlackPayload)).toEqual([]);
  });

  it('fails with RENDER_FAILED (dead-letter) when there is nothing to say', () => {
    expect(() => render({ event: makeEvent(), signals: [], config: defaults })).toThrowError(
      expect.objectContaining({ code: 'RENDER_FAILED', disposition: 'dead-letter' }),
    );
  });
});

/** Bidirectional formatting characters (issue 9, finding 2) and C1 controls: never in a payload. */
const BIDI_OR_C1 = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u0080-\u009F]/;

describe('finding 2 (issue 9): bidirectional control characters never reach Slack', () => {
  it('a title with U+202E (right-to-left override) is shown without it, in header, fields and text', () => {
    const title = 'Chair \u202Efdp.exe\u202C \u2067isolated\u2069 \u200Fmarked\u200E\u061C';
    const payload = renderOne(
      makeUpdate({ prc_amt: dec('9.99'), lst_ttl: title, description: `new ${title}` }, { lst_ttl: title }),
    );
    expect(payload.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: 'Chair fdp.exe isolated marked (#1)', emoji: true },
    });
    expect(payload.text).toMatch(/^Chair fdp\.exe isolated marked \(#1\): Price changed from \$19\.99/);
    expect(JSON.stringify(payload)).not.toMatch(BIDI_OR_C1);
  });

  it('a listing id with U+202E is shown without it in the header and the context line', () => {
    const payload = renderOne(makeUpdate({ prc_amt: dec('9.99') }, {}, { listingId: '12\u202E34' }));
    expect(payload.blocks[0]).toMatchObject({ text: { text: 'Ergonomic Office Chair, Mesh Back (#1234)' } });
    expect(JSON.stringify(payload)).not.toMatch(BIDI_OR_C1);
    // The URL keeps the id exactly, percent-encoded: it names the listing, it is not shown as text.
    expect(JSON.stringify(payload)).toContain('/listings/12%E2%80%AE34');
  });

  it('a title of nothing but bidi marks is no title: the header names the listing instead', () => {
    const title = '\u200F\u202E \u2066';
    const payload = renderOne(makeUpdate({ prc_amt: dec('9.99'), lst_ttl: title }, { lst_ttl: title }));
    expect(payload.blocks[0]).toMatchObject({ text: { text: 'Listing #1' } });
  });

  it('an amount spoof ("\u200F100 - 200\u200F" displays as "200 - 100") reaches Slack without its marks', () => {
    const payload = renderOne(makeUpdate({ LST_STAT_CD: '\u200F100 - 200\u200F' }));
    expect(payload.blocks[1]).toEqual({
      type: 'section',
      text: { type: 'mrkdwn', text: 'Status changed from Active to 100 - 200' },
    });
  });
});

describe('header and button', () => {
  it('keeps the id visible when the title is cut', () => {
    const text = headerText('x'.repeat(300), '900001');
    expect(text).toHaveLength(150);
    expect(text.endsWith('… (#900001)')).toBe(true);
    expect(headerText(null, '7')).toBe('Listing #7');
    expect(headerText(null, null)).toBe('Listing (id unknown)');
    expect(headerText('Chair', null)).toBe('Chair');
  });

  it('URL-encodes the id and drops a link that would be too long', () => {
    expect(listingUrl('https://shop.example.com/listings/{id}?ref=slack', 'a b/c?&#')).toBe(
      'https://shop.example.com/listings/a%20b%2Fc%3F%26%23?ref=slack',
    );
    expect(listingUrl('https://shop.example.com/listings/{id}', null)).toBeNull();
    expect(listingUrl('https://shop.example.com/listings/{id}', 'x'.repeat(3000))).toBeNull();
  });

  it('has no button without a listing id', () => {
    const payload = renderOne(makeUpdate({ prc_amt: dec('9.99') }, {}, { listingId: null }));
    expect(payload.blocks.map((b) => b.type)).toEqual(['header', 'section', 'section', 'context']);
  });
});

describe('any string in any field (property)', () => {
  const anyText = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc.string({
      unit: fc.constantFrom(
        '<',
        '>',
        '&',
        '*',
        '~',
        '_',
        '`',
        '@',
        '!',
        '#',
        '|',
        ' ',
        '\n',
        'a',
        '\u0000',
        '\uD83D',
        '\u0085',
        '\u202E',
        '\u2066',
        '\u200F',
      ),
      maxLength: 4000,
    }),
    fc.constantFrom(
      '<!channel>',
      '<!here>',
      '<@U123>',
      '<#C1>',
      '<!subteam^S1>',
      '<https://x|y>',
      '&amp;',
      '',
    ),
  );

  it('renders into a bounded payload with no unescaped markup from the data', () => {
    fc.assert(
      fc.property(
        fc.record({
          title: anyText,
          descriptionBefore: anyText,
          descriptionAfter: anyText,
          statusBefore: anyText,
          statusAfter: anyText,
          currency: anyText,
          price: anyText,
          listingId: fc.option(anyText, { nil: null }),
          word: anyText.filter((w) => w.length > 0 && w.length <= 60),
        }),
        (v) => {
          const config = parseConfig(
            JSON.stringify({
              fields: {
                price: { kind: 'money', column: 'prc_amt', currencyColumn: 'crncy_cd', decimalScale: 2 },
                status: {
                  kind: 'code',
                  column: 'LST_STAT_CD',
                  codes: { [v.statusAfter.slice(0, 40) || 'A']: v.word },
                },
                description: { kind: 'text', column: 'description', ignoreWhitespace: false },
              },
              rules: [{ match: {}, channels: ['sales-alerts'] }],
            }),
            'property',
          );
          const event = makeEvent({
            listingId: v.listingId,
            before: makeListingRow({
              lst_ttl: v.title,
              description: v.descriptionBefore,
              LST_STAT_CD: v.statusBefore,
              prc_amt: '0',
              crncy_cd: v.currency,
            }),
            after: makeListingRow({
              lst_ttl: v.title,
              description: v.descriptionAfter,
              LST_STAT_CD: v.statusAfter,
              prc_amt: v.price,
              crncy_cd: v.currency,
            }),
          });
          const outcome = decide(event, config);
          if (outcome.kind === 'dead-letter') throw outcome.error;
          if (outcome.kind === 'dropped') return;
          for (const { payload } of outcome.messages) {
            expect(checkPayload(payload, { forbidMarkup: true })).toEqual([]);
            expect(hasUnescapedMarkup(payload.text)).toBe(false);
            // What Slack receives (payload.change keeps raw column values for signed webhooks).
            expect(JSON.stringify({ text: payload.text, blocks: payload.blocks })).not.toMatch(BIDI_OR_C1);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
