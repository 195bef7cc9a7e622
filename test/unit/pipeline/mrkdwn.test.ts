import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hasUnescapedMarkup } from '../../../src/pipeline/block-limits.ts';
import {
  bold,
  escapeMrkdwn,
  plain,
  type Rich,
  sanitize,
  strike,
  toMrkdwn,
  toPlain,
  truncateEscaped,
  truncatePlain,
} from '../../../src/pipeline/mrkdwn.ts';

describe('escapeMrkdwn', () => {
  it.each([
    ['<!channel>', '&lt;!channel&gt;'],
    [
      '<!here> <@U123ABC> <#C123> <!subteam^S1>',
      '&lt;!here&gt; &lt;@U123ABC&gt; &lt;#C123&gt; &lt;!subteam^S1&gt;',
    ],
    ['<https://evil.example|click here>', '&lt;https://evil.example|click here&gt;'],
    ['Fish & Chips', 'Fish &amp; Chips'],
    ['&amp; already', '&amp;amp; already'],
    ['plain *bold* _it_', 'plain *bold* _it_'],
  ])('%s', (input, expected) => {
    expect(escapeMrkdwn(input)).toBe(expected);
  });
});

describe('sanitize', () => {
  it('replaces control characters and lone surrogates, keeps tabs, newlines and pairs', () => {
    expect(sanitize('a\u0000b\u001bc\u007f')).toBe('a\uFFFDb\uFFFDc\uFFFD');
    expect(sanitize('x\ty\nz')).toBe('x\ty\nz');
    expect(sanitize('a\r\nb\rc')).toBe('a\nb\nc');
    expect(sanitize('\uD83D\uDE00 ok \uD83D lone \uDE00')).toBe('\uD83D\uDE00 ok \uFFFD lone \uFFFD');
  });
});

describe('finding 2 (issue 9): bidirectional control characters', () => {
  const codes = [
    0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069, 0x200e, 0x200f, 0x061c,
  ];

  it.each(codes.map((code) => [code.toString(16).toUpperCase().padStart(4, '0'), String.fromCharCode(code)]))(
    'U+%s is removed from every value shown',
    (_name, c) => {
      expect(sanitize(`a${c}b`)).toBe('ab');
      expect(toMrkdwn([plain(`x${c}`), bold(`${c}y${c}`)])).toBe('x*y*');
      expect(toPlain([plain(`${c}fdp.exe`)])).toBe('fdp.exe');
    },
  );

  it('keeps right-to-left letters themselves, and the C1 controls become U+FFFD like C0', () => {
    expect(sanitize('\u05E9\u05DC\u05D5\u05DD\u200F 12')).toBe('\u05E9\u05DC\u05D5\u05DD 12');
    expect(sanitize('a\u0085b\u009Bc')).toBe('a\uFFFDb\uFFFDc');
  });

  it('a cut never counts a removed character against the limit', () => {
    expect(toPlain([plain(`${'\u202E'.repeat(10)}abc`)], 3)).toBe('abc');
  });
});

describe('truncation', () => {
  it('cuts plain text to the limit with an ellipsis', () => {
    expect(truncatePlain('abcdef', 6)).toBe('abcdef');
    expect(truncatePlain('abcdefg', 6)).toBe('abcde…');
    expect(truncatePlain('abc', 0)).toBe('');
  });

  it('never splits a surrogate pair', () => {
    const cut = truncatePlain('ab\uD83D\uDE00cd', 4);
    expect(cut).toBe('ab…');
  });

  it('never cuts an entity in half', () => {
    expect(truncateEscaped('ab&amp;cd', 5)).toBe('ab…');
    expect(truncateEscaped('ab&amp;cd', 8)).toBe('ab&amp;…');
  });
});

describe('toMrkdwn', () => {
  it('escapes data and applies styles', () => {
    expect(toMrkdwn([plain('Price of <b> '), bold('A & B'), plain(' '), strike('old')])).toBe(
      'Price of &lt;b&gt; *A &amp; B* ~old~',
    );
  });

  it('leaves text unstyled when a marker inside would garble it', () => {
    expect(toMrkdwn([bold('*SALE*')])).toBe('*SALE*');
    expect(toMrkdwn([strike('two\nlines')])).toBe('two\nlines');
    expect(toMrkdwn([bold('  padded ')])).toBe('  *padded* ');
  });

  it('keeps a cut span unstyled when the whole was (found by the biased generator, issue 9)', () => {
    // The whole holds "~", so it is not struck; the cut "&lt;…" no longer does, and striking it
    // made 7 characters of a 5-character limit.
    expect(toMrkdwn([strike('<!channel>~')], 5)).toBe('&lt;…');
    expect(toMrkdwn([plain('ab'), bold('x*yz')], 5)).toBe('abx*…');
  });

  it('closes a style it cuts and ends with an ellipsis', () => {
    const out = toMrkdwn([plain('Before: '), strike('a very long removed sentence')], 20);
    expect(out).toBe('Before: ~a very lo~…');
    expect(out.length).toBeLessThanOrEqual(20);
  });

  /**
   * Issue 9, finding 4: random strings almost never hold `<`, so with the `<` `>` escaping removed this
   * property still passed. Its text is now built mostly from Slack's control sequences and entities
   * (https://docs.slack.dev/messaging/formatting-message-text), so removing any one of the three
   * escapes, or the rule that a cut never splits an entity, fails it within a few runs.
   */
  const slackTokens = [
    '<!channel>',
    '<!here>',
    '<!everyone>',
    '<!subteam^S012AB3|@team>',
    '<@U123ABC>',
    '<#C123|general>',
    '<https://evil.example|click here>',
    '<mailto:a@example.com|mail>',
    '<!date^1392734382^{date}|Feb 18>',
    '&',
    '&amp;',
    '&lt;',
    '&gt;',
    '&#60;',
    '<',
    '>',
    '|',
    '*',
    '_',
    '~',
    ' ',
    '\n',
    'a',
    'Chair',
    '€',
    '\u202E',
  ];
  const slackish = fc
    .array(fc.constantFrom(...slackTokens), { maxLength: 12 })
    .map((parts) => parts.join(''));
  const anyText = fc.oneof(
    { arbitrary: slackish, weight: 4 },
    { arbitrary: fc.string({ unit: 'binary', maxLength: 60 }), weight: 1 },
  );
  const unescapeMrkdwn = (mrkdwn: string): string =>
    mrkdwn.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

  it('keeps any text within its limit and free of unescaped markup (property)', () => {
    const span = fc.record({
      text: anyText,
      style: fc.constantFrom(undefined, 'bold', 'italic', 'strike'),
    });
    fc.assert(
      fc.property(fc.array(span, { maxLength: 8 }), fc.integer({ min: 1, max: 200 }), (spans, max) => {
        const rich: Rich = spans.map((s) =>
          s.style === undefined ? { text: s.text } : { text: s.text, style: s.style },
        );
        const out = toMrkdwn(rich, max);
        expect(out.length).toBeLessThanOrEqual(max);
        expect(hasUnescapedMarkup(out)).toBe(false);
        expect(toPlain(rich, max).length).toBeLessThanOrEqual(max);
      }),
      { numRuns: 300 },
    );
  });

  it('shows any text exactly as it was: unescaping the mrkdwn gives the text back (property)', () => {
    fc.assert(
      fc.property(fc.array(anyText, { maxLength: 8 }), (texts) => {
        const out = toMrkdwn(texts.map(plain));
        expect(hasUnescapedMarkup(out)).toBe(false);
        // `&amp;` in the data must reach Slack as `&amp;amp;`, or people would read `&`.
        expect(unescapeMrkdwn(out)).toBe(sanitize(texts.join('')));
      }),
      { numRuns: 300 },
    );
  });
});
