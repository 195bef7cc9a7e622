import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  byteLength,
  escapeCardMarkdown,
  teamsMaxBytes,
  teamsMessage,
} from '../../../src/adapters/teams-card.ts';
import { parseConfig } from '../../../src/config/index.ts';
import type { SlackPayload } from '../../../src/domain/message.ts';
import { decide } from '../../../src/pipeline/index.ts';
import { validateTeamsMessage } from '../../../tools/teams-standin/validate.ts';
import { dec, makeEvent, makeListingRow, makeUpdate } from '../../support/events.ts';

const everything = parseConfig('unmatched: { action: send, channel: sales-alerts }\n', 'everything');

function payloadOf(event: ReturnType<typeof makeEvent>): SlackPayload {
  const outcome = decide(event, everything);
  if (outcome.kind !== 'notify') throw new Error(`expected notify, got ${outcome.kind}: ${outcome.reason}`);
  const payload = outcome.messages[0]?.payload;
  if (payload === undefined) throw new Error('no message');
  return payload;
}

/** Every TextBlock text and fact title/value in the card. */
function texts(message: ReturnType<typeof teamsMessage>): string[] {
  const card = message.attachments[0]?.content;
  return (card?.body ?? []).flatMap((e) =>
    e.type === 'TextBlock'
      ? [String(e.text)]
      : e.type === 'FactSet'
        ? (e.facts as { title: string; value: string }[]).flatMap((f) => [f.title, f.value])
        : [],
  );
}

/** True when the text has a Markdown/template character not preceded by a backslash. */
const unescaped = (text: string): boolean => /(^|[^\\])(\\\\)*[*_`[\]()<>~{}]/.test(text);

describe('Teams card', () => {
  it('has a header, the summary, before/after facts, the database time and a View listing button', () => {
    const message = teamsMessage(payloadOf(makeUpdate({ prc_amt: dec('17.99') })));
    expect(validateTeamsMessage(JSON.stringify(message))).toEqual([]);
    expect(message.type).toBe('message');
    const card = message.attachments[0]?.content;
    expect(card?.type).toBe('AdaptiveCard');
    expect(card?.body[0]).toMatchObject({ type: 'TextBlock', weight: 'Bolder' });
    const facts = card?.body.find((e) => e.type === 'FactSet')?.facts as { title: string; value: string }[];
    expect(facts.map((f) => f.title)).toEqual(['Price before', 'Price after']);
    expect(facts[1]?.value).toContain('17.99');
    expect(card?.actions).toEqual([
      { type: 'Action.OpenUrl', title: 'View listing', url: expect.stringMatching(/\/listings\/\d+$/) },
    ]);
    expect(texts(message).at(-1)).toMatch(/^Changed in the database at \d{4}/);
  });

  it('escapes a title and values that try to format, link or expand a template', () => {
    const title = '**Oak** [click](https://evil.example) <b>x</b> {{DATE(2026-01-01T00:00:00Z, SHORT)}}';
    const event = makeEvent({
      before: makeListingRow({ lst_ttl: title, description: '# heading' }),
      after: makeListingRow({ lst_ttl: title, description: '- _list_ `code` ~~gone~~' }),
    });
    const message = teamsMessage(payloadOf(event));
    expect(validateTeamsMessage(JSON.stringify(message))).toEqual([]);
    for (const text of texts(message)) expect(unescaped(text), text).toBe(false);
    expect(texts(message)[0]).toContain('\\*\\*Oak\\*\\* \\[click\\]\\(https://evil.example\\)');
    expect(texts(message).join(' ')).not.toContain('{{');
  });

  it('leaves ordinary punctuation alone and escapes only a line-opening list or heading marker', () => {
    expect(escapeCardMarkdown('79.90 oak-desk')).toBe('79.90 oak-desk');
    expect(escapeCardMarkdown('- item')).toBe('\\- item');
    expect(escapeCardMarkdown('# title')).toBe('\\# title');
    expect(escapeCardMarkdown('1. first')).toBe('1\\. first');
    expect(escapeCardMarkdown('a\nb\r\nc')).toBe('a b c');
    expect(escapeCardMarkdown('back\\slash')).toBe('back\\\\slash');
  });

  it('keeps a message with huge values within the size limit, cut with an ellipsis', () => {
    const huge = 'x'.repeat(100_000);
    const event = makeEvent({
      before: makeListingRow({ lst_ttl: huge, description: huge }),
      after: makeListingRow({ lst_ttl: huge, description: `${huge}y` }),
    });
    const message = teamsMessage(payloadOf(event));
    expect(byteLength(message)).toBeLessThanOrEqual(teamsMaxBytes);
    expect(validateTeamsMessage(JSON.stringify(message))).toEqual([]);
    expect(texts(message)[0]).toContain('…');
  });

  it('shows a message without change data (a digest) as its text, un-escaped from Slack and escaped again', () => {
    const message = teamsMessage({ text: '3 changes &lt;b&gt; *bold* &amp; more', blocks: [] });
    expect(validateTeamsMessage(JSON.stringify(message))).toEqual([]);
    expect(texts(message)).toEqual(['3 changes \\<b\\> \\*bold\\* & more']);
  });

  it('any title and description make a valid card within the limit with no unescaped markup (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 3000 }), fc.string({ maxLength: 3000 }), (title, description) => {
        const event = makeEvent({
          before: makeListingRow({ lst_ttl: title, description: 'before' }),
          after: makeListingRow({ lst_ttl: title, description: `${description}!` }),
        });
        const outcome = decide(event, everything);
        if (outcome.kind !== 'notify') return;
        for (const { payload } of outcome.messages) {
          const message = teamsMessage(payload);
          expect(validateTeamsMessage(JSON.stringify(message))).toEqual([]);
          for (const text of texts(message)) expect(unescaped(text), text).toBe(false);
        }
      }),
      { numRuns: 150 },
    );
  });
});
