import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMemo } from '../../../src/pipeline/memo.ts';

describe('createMemo', () => {
  it('keeps at most maxEntries, dropping the least recently used first', () => {
    const memo = createMemo<number>(2);
    let made = 0;
    const get = (key: string) =>
      memo.get(key, () => {
        made += 1;
        return made;
      });
    expect(get('a')).toBe(1);
    expect(get('b')).toBe(2);
    expect(get('a')).toBe(1); // a hit: a is now the most recent
    expect(get('c')).toBe(3); // b goes
    expect(memo.size).toBe(2);
    expect(get('a')).toBe(1);
    expect(get('b')).toBe(4); // made again
  });

  it('never holds more than its bound, whatever the keys (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.string({ maxLength: 2 })), (max, keys) => {
        const memo = createMemo<string>(max);
        for (const k of keys) {
          expect(memo.get(k, () => `v${k}`)).toBe(`v${k}`);
          expect(memo.size).toBeLessThanOrEqual(max);
        }
        expect(memo.size).toBe(Math.min(max, new Set(keys).size));
      }),
    );
  });

  it('refuses a bound that is not a positive integer', () => {
    expect(() => createMemo(0)).toThrow(RangeError);
  });
});
