import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../../src/config/index.ts';
import { checkPayload, slackLimits } from '../../../../src/pipeline/block-limits.ts';
import { buildDigest } from '../../../../src/pipeline/digest/index.ts';
import { buildReplies, paginate } from '../../../../src/pipeline/digest/slack.ts';
import { SOURCE_TS_MS } from '../../../support/events.ts';
import { itemFor, sectionText, update } from './items.ts';

describe('paginate', () => {
  // Lines as the digest makes them: escaped mrkdwn of at most 1000 characters, quotes and
  // backslashes (which JSON doubles) included.
  const line = fc
    .string({ unit: fc.constantFrom('a', '"', '\\', '€', ' ', '&amp;'), maxLength: 1000 })
    .map((s) => s.slice(0, 1000) || 'x');

  it('keeps every line, in order, and every page within Slack limits', () => {
    fc.assert(
      fc.property(fc.array(line, { maxLength: 300 }), (lines) => {
        const pages = paginate(lines);
        expect(pages.flat(2)).toEqual(lines);
        for (const page of pages) {
          expect(page.length).toBeLessThanOrEqual(slackLimits.blocks - 1);
          for (const section of page) expect(section.join('\n').length).toBeLessThanOrEqual(3000);
        }
        const replies = buildReplies({ channelKey: 'sales-alerts', lines, locale: 'en-US' });
        expect(replies).toHaveLength(pages.length);
        for (const r of replies) expect(checkPayload(r)).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });

  it('fills pages: 49 sections of short lines before a new page', () => {
    const short = Array.from({ length: 2000 }, (_, i) => `line ${i}`);
    const pages = paginate(short);
    // ~11,000 characters of JSON per page at most; short lines pack into few sections.
    expect(pages.length).toBeLessThan(5);
    expect(pages.flat(2)).toEqual(short);
  });

  it('says "page k of n" with the range of items on each reply', () => {
    const lines = Array.from({ length: 500 }, (_, i) => `• item ${'x'.repeat(200)} ${i + 1}`);
    const replies = buildReplies({ channelKey: 'sales-alerts', lines, locale: 'en-US' });
    expect(replies.length).toBeGreaterThan(2);
    expect(replies[0]?.text).toBe(`Digest for sales-alerts, complete list: page 1 of ${replies.length}`);
    const contexts = replies.map((r) => JSON.stringify(r.blocks[0]));
    expect(contexts[0]).toMatch(/page 1 of \d+ \(1–\d+ of 500\)/);
    expect(contexts.at(-1)).toMatch(
      new RegExp(`page ${replies.length} of ${replies.length} \\(\\d+–500 of 500\\)`),
    );
  });
});

describe('the summary within limits whatever the data', () => {
  it('holds for codes, titles, rule names and channel key made of quotes (which JSON doubles)', () => {
    // The worst case for the 12,000-character JSON budget: every value at its cap and made of
    // characters JSON escapes. If the full-size summary does not fit, buildSummary shrinks it.
    const quotes = (n: number) => '"'.repeat(n);
    const rules = Array.from(
      { length: 12 },
      (_, r) => `  - { name: '${quotes(60)}${r + 1}', match: { field: status }, channels: [sales-alerts] }`,
    );
    const config = parseConfig(`rules:\n${rules.join('\n')}\n`, 'many rules');
    const items = Array.from({ length: 12 }, (_, k) =>
      itemFor(
        update(k + 1, { LST_STAT_CD: `${quotes(90)}${k % 8}` }, { LST_STAT_CD: quotes(90) }, quotes(100)),
        'sales-alerts',
        config,
      ),
    );
    const input = { channelKey: quotes(400), items, fromMs: SOURCE_TS_MS, toMs: SOURCE_TS_MS, config };
    const { payload } = buildDigest({ ...input, upload: true });
    expect(checkPayload(payload, { forbidMarkup: true })).toEqual([]);
    // Still a digest: the count, the rules, the listings, the pointer.
    expect(payload.blocks[0]).toMatchObject({ text: { text: 'Digest: 12 changes' } });
    expect(sectionText(payload.blocks[2])).toMatch(/^\*"+1\*: 12 status changes: /);
    const listed = sectionText(payload.blocks[3]).split('\n');
    expect(listed[0]).toBe('*First 10 by listing id*');
    expect(listed.length - 1).toBeGreaterThanOrEqual(3);
    expect(JSON.stringify(payload.blocks).length).toBeGreaterThan(10_000); // the test data is near the limit
    expect(JSON.stringify(payload.blocks.at(-1))).toContain('Complete list');
  });
});
