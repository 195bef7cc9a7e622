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

  it('throws SyntaxError on invalid JSON', () => {
    expect(() => parseJsonExact('{"a":')).toThrow(SyntaxError);
  });
});
