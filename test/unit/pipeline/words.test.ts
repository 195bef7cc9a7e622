import { describe, expect, it } from 'vitest';
import { toMrkdwn } from '../../../src/pipeline/mrkdwn.ts';
import { diffWords, excerpt, sameWords, wordDiff } from '../../../src/pipeline/words.ts';

const shown = (before: string, after: string, context?: number) => {
  const rich = wordDiff(before, after, context === undefined ? {} : { context });
  return rich === null ? null : toMrkdwn(rich);
};

describe('wordDiff', () => {
  it('shows a replaced word with a little context', () => {
    expect(shown('Ships within 2 working days.', 'Ships within 3 working days.')).toBe(
      'Ships within ~2~ *3* working days.',
    );
  });

  it('elides long unchanged stretches', () => {
    const before = 'one two three four five six seven eight nine ten eleven twelve';
    const after = 'one two three four five SIX seven eight nine ten eleven twelve';
    expect(shown(before, after, 2)).toBe('… four five ~six~ *SIX* seven eight …');
  });

  it('finds separate edits with a word-level LCS', () => {
    expect(diffWords('a b c d e', 'a x c d y')).toEqual([
      { kind: 'same', words: ['a'] },
      { kind: 'del', words: ['b'] },
      { kind: 'add', words: ['x'] },
      { kind: 'same', words: ['c', 'd'] },
      { kind: 'del', words: ['e'] },
      { kind: 'add', words: ['y'] },
    ]);
  });

  it('gives up on rewrites (more changed than maxChanged)', () => {
    expect(wordDiff('a b c', 'x y z', { maxChanged: 4 })).toBeNull();
  });

  it('cuts a long changed run', () => {
    const rich = wordDiff('keep', `keep ${'word '.repeat(100)}`, { maxRun: 20, maxChanged: 10_000 });
    expect(rich?.find((s) => s.style === 'bold')?.text).toHaveLength(20);
  });
});

describe('excerpt and whitespace', () => {
  it('collapses whitespace and cuts with an ellipsis', () => {
    expect(excerpt('  a\n\n b   c ', 100)).toBe('a b c');
    expect(excerpt('abcdefghij', 5)).toBe('abcd…');
  });

  it('compares ignoring whitespace', () => {
    expect(sameWords('a  b\nc', ' a b c ')).toBe(true);
    expect(sameWords('a b', 'a c')).toBe(false);
  });
});
