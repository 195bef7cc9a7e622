import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonNumber, parseJsonExact } from '../../../../src/pipeline/decode/json.ts';

describe('parseJsonExact', () => {
  it('keeps integers beyond 2^53 as their text', () => {
    const parsed = parseJsonExact('{"id":9007199254740993,"small":42}') as Record<string, unknown>;
    expect(parsed.id).toEqual(new JsonNumber('9007199254740993'));
    expect(parsed.small).toBe(42);
  });

  it('keeps decimals with more than 15 significant digits as their text', () => {
    const parsed = parseJsonExact('[12345678901234567.89, 19.99, 0.30000000000000004]') as unknown[];
    expect(parsed[0]).toEqual(new JsonNumber('12345678901234567.89'));
    expect(parsed[1]).toBe(19.99);
    expect(parsed[2]).toEqual(new JsonNumber('0.30000000000000004'));
  });

  it('does not wrap long digit runs inside strings', () => {
    expect(parseJsonExact('{"phone":"12345678901234567890","n":1}')).toEqual({
      phone: '12345678901234567890',
      n: 1,
    });
  });

  it('issue 19, finding 5: a string starting with U+0000 stays a string, beside marked numbers or not', () => {
    // MariaDB text can hold NUL; JsonConverter writes it as \u0000. The long ts_ns makes the text marked.
    const text = '{"title":"\\u0000Chair","ts_ns":1795873507123456000,"n":"\\u0000","nn":"\\u0000\\u00001"}';
    expect(parseJsonExact(text)).toEqual({
      title: '\u0000Chair',
      ts_ns: new JsonNumber('1795873507123456000'),
      n: '\u0000',
      nn: '\u0000\u00001',
    });
    expect(parseJsonExact('["\\u0000123", 12345678901234567890]')).toEqual([
      '\u0000123',
      new JsonNumber('12345678901234567890'),
    ]);
    // A member name starting with NUL is a name, not a value: left as it is.
    expect(parseJsonExact('{"\\u0000k":"\\u0000v","x":12345678901234567890}')).toEqual({
      '\u0000k': '\u0000v',
      x: new JsonNumber('12345678901234567890'),
    });
  });

  it('throws SyntaxError on invalid JSON', () => {
    expect(() => parseJsonExact('{"a":')).toThrow(SyntaxError);
  });
});

describe('parseJsonExact never changes a value (property)', () => {
  /** JSON text where bigints are written as bare integer literals. */
  const stringify = (value: unknown): string =>
    JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? `@@${v}@@` : v)).replace(
      /"@@(-?\d+)@@"/g,
      '$1',
    );

  /**
   * The oracle: JSON.parse with the reviver's `context.source` (slow, but it sees every literal as
   * written). Integer literals beyond 2^53 and other literals with more than 15 significant digits
   * are the ones a double changes.
   */
  const oracle = (text: string): unknown =>
    JSON.parse(text, ((_key: string, value: unknown, context?: { source?: string }) => {
      const source = context?.source;
      if (typeof value !== 'number' || source === undefined) return value;
      const integer = /^-?\d+$/.test(source);
      const significant = source
        .replace(/[eE].*$/, '')
        .replace(/[-+.]/g, '')
        .replace(/^0+/, '')
        .replace(/0+$/, '');
      const exact = integer ? Number.isSafeInteger(value) : significant.length <= 15;
      return exact ? value : new JsonNumber(source);
    }) as Parameters<typeof JSON.parse>[1]);

  // Strings that look like numbers, quotes and escapes next to long digit runs: the hard cases.
  const trickyString = fc.oneof(
    fc.string(),
    fc.constantFrom(
      ':12345678901234567,',
      '\\"12345678901234567890\\"',
      '"',
      '\\',
      'a\\\\',
      '1.23456789012345678',
      // Strings starting with NUL look like marked numbers (issue 19, finding 5).
      '\u0000',
      '\u000012345678901234567890',
      '\u0000\u0000x',
    ),
    fc.tuple(fc.bigInt(), fc.string()).map(([n, b]) => `\u0000${n}${b}`),
    fc.tuple(fc.string(), fc.bigInt(), fc.string()).map(([a, n, b]) => `${a}${n}${b}`),
  );
  const leaf = fc.oneof(
    fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    trickyString,
  );
  const tree = fc.letrec((tie) => ({
    node: fc.oneof(
      { depthSize: 'small' },
      leaf,
      fc.array(tie('node'), { maxLength: 4 }),
      // Keys JSON writes without escapes: V8's JSON.parse (Node 24.x, 26.x) decodes escaped keys such
      // as "\"" as "\\" once its key cache holds a "\\" key (nodejs/node#63785), native and reviver
      // parsing alike. That is V8's to fix, and no Debezium column name needs escaping here.
      fc.dictionary(
        trickyString.filter((k) => JSON.stringify(k) === `"${k}"`),
        tie('node'),
        { maxKeys: 4 },
      ),
    ),
  })).node;

  it('agrees with the source-text oracle on any JSON with big numbers and tricky strings', () => {
    fc.assert(
      fc.property(tree, (value) => {
        const text = stringify(value);
        expect(parseJsonExact(text), text).toEqual(oracle(text));
      }),
      { numRuns: 1000 },
    );
  });
});
