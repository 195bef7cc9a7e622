import { describe, expect, it } from 'vitest';
import type { SlackBlock, SlackPayload } from '../../../src/domain/message.ts';
import { checkPayload, hasUnescapedMarkup } from '../../../src/pipeline/block-limits.ts';

const section = (text: string): SlackBlock => ({ type: 'section', text: { type: 'mrkdwn', text } });
const payload = (blocks: SlackBlock[], text = 'fallback'): SlackPayload => ({ text, blocks });

describe('checkPayload', () => {
  it('accepts a valid message', () => {
    expect(
      checkPayload(
        payload([
          { type: 'header', text: { type: 'plain_text', text: 'Chair' } },
          section('ok'),
          { type: 'section', fields: [{ type: 'mrkdwn', text: '*a*\nb' }] },
          {
            type: 'actions',
            elements: [
              { type: 'button', text: { type: 'plain_text', text: 'View' }, url: 'https://x.example/1' },
            ],
          },
          { type: 'context', elements: [{ type: 'mrkdwn', text: 'at noon' }] },
          { type: 'divider' },
        ]),
      ),
    ).toEqual([]);
  });

  it.each([
    ['no fallback', payload([section('x')], ' '), '/text: expected a non-empty fallback'],
    [
      'too many blocks',
      payload(Array.from({ length: 51 }, () => section('x'))),
      '/blocks: more than 50 blocks',
    ],
    [
      'long header',
      payload([{ type: 'header', text: { type: 'plain_text', text: 'x'.repeat(151) } }]),
      '/blocks/0/text/text: 151 characters, more than 150',
    ],
    [
      'mrkdwn header',
      payload([{ type: 'header', text: { type: 'mrkdwn', text: 'x' } }]),
      '/blocks/0/text/type: expected plain_text',
    ],
    [
      'long section',
      payload([section('x'.repeat(3001))]),
      '/blocks/0/text/text: 3001 characters, more than 3000',
    ],
    ['empty section', payload([{ type: 'section' }]), '/blocks/0: section needs text or fields'],
    [
      'eleven fields',
      payload([
        { type: 'section', fields: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: 'x' })) },
      ]),
      '/blocks/0/fields: more than 10 fields',
    ],
    [
      'long field',
      payload([{ type: 'section', fields: [{ type: 'mrkdwn', text: 'x'.repeat(2001) }] }]),
      '/blocks/0/fields/0/text: 2001 characters, more than 2000',
    ],
    [
      'long button text',
      payload([
        {
          type: 'actions',
          elements: [{ type: 'button', text: { type: 'plain_text', text: 'x'.repeat(76) } }],
        },
      ]),
      '/blocks/0/elements/0/text/text: 76 characters, more than 75',
    ],
    [
      'long URL',
      payload([
        {
          type: 'actions',
          elements: [
            {
              type: 'button',
              text: { type: 'plain_text', text: 'x' },
              url: `https://x.example/${'a'.repeat(3000)}`,
            },
          ],
        },
      ]),
      '/blocks/0/elements/0/url: too long',
    ],
    ['empty text', payload([section('')]), '/blocks/0/text/text: expected non-empty text'],
    ['unknown block', payload([{ type: 'video' }]), '/blocks/0/type: unexpected block type video'],
    [
      'too much JSON',
      payload(Array.from({ length: 5 }, () => section('x'.repeat(2900)))),
      '/blocks: 14771 characters of JSON, more than 12000',
    ],
  ])('%s', (_name, p, problem) => {
    expect(checkPayload(p)).toContain(problem);
  });

  it('reports unescaped markup only when asked', () => {
    const p = payload([section('<!channel>')], 'a & b');
    expect(checkPayload(p)).toEqual([]);
    expect(checkPayload(p, { forbidMarkup: true })).toEqual([
      '/text: unescaped <, > or &',
      '/blocks/0/text/text: unescaped <, > or &',
    ]);
  });
});

describe('hasUnescapedMarkup', () => {
  it.each([
    ['&lt;!channel&gt; &amp;', false],
    ['<!here>', true],
    ['a > b', true],
    ['AT&T', true],
    ['&amp;lt;', false],
    ['&quot;', true],
  ])('%s -> %s', (text, expected) => {
    expect(hasUnescapedMarkup(text)).toBe(expected);
  });
});
