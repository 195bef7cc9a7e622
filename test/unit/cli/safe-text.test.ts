import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesView, safeJson, safeText } from '../../../src/cli/safe-text.ts';

const dangerous =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: checking that none is left
  /[\u0000-\u0008\u000A-\u001F\u007F-\u009F\u200E\u200F\u202A-\u202E\u2028\u2029\u2066-\u2069]/;

describe('safeText and safeJson', () => {
  it('show terminal escapes, C1 controls, bidi overrides and newlines as \\u escapes', () => {
    expect(safeText('a\u001b[31mb\u009b\u202Ec\nd\te')).toBe('a\\u001b[31mb\\u009b\\u202ec\\u000ad\te');
    expect(safeText('abcdef', 4)).toBe('abc…');
  });

  it('leave no dangerous character in any string, and safeJson stays the same JSON', () => {
    // Plain boolean checks: vitest's matchers are slow enough over a thousand runs to time out.
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (s) => {
        const json = safeJson({ s, n: [s] }, 2);
        return (
          !dangerous.test(safeText(s)) &&
          !dangerous.test(json.replace(/\n/g, '')) &&
          JSON.stringify(JSON.parse(json)) === JSON.stringify({ s, n: [s] })
        );
      }),
      { numRuns: 300 },
    );
  });

  it('bytesView: UTF-8 as text, anything else as base64, null as null', () => {
    expect(bytesView(Buffer.from('héllo'))).toEqual({ utf8: 'héllo' });
    expect(bytesView(Buffer.from([0xc3]))).toEqual({ base64: 'ww==' });
    expect(bytesView(null)).toBeNull();
  });
});
