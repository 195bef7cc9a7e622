/**
 * Long text in a chat message: a short excerpt, or a small word diff ("…the ~red~ *blue* bike…")
 * so a reader sees what changed without reading the whole description twice.
 */
import { bold, plain, type Rich, strike, truncatePlain } from './mrkdwn.ts';

export const words = (text: string): string[] => text.split(/\s+/).filter((w) => w !== '');

/** Whitespace collapsed, cut to `length` characters with an ellipsis. */
export function excerpt(text: string, length: number): string {
  return truncatePlain(words(text).join(' '), length);
}

type Op = { kind: 'same' | 'del' | 'add'; words: string[] };

/** Above this many cells the middle is shown as one replacement instead of a word-level LCS. */
const MAX_LCS_CELLS = 40_000;

function lcsOps(a: string[], b: string[]): Op[] {
  if (a.length * b.length > MAX_LCS_CELLS) {
    return [
      { kind: 'del', words: a },
      { kind: 'add', words: b },
    ];
  }
  const width = b.length + 1;
  const table = new Uint32Array((a.length + 1) * width);
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--)
      table[i * width + j] =
        a[i] === b[j]
          ? (table[(i + 1) * width + j + 1] ?? 0) + 1
          : Math.max(table[(i + 1) * width + j] ?? 0, table[i * width + j + 1] ?? 0);
  const ops: Op[] = [];
  const push = (kind: Op['kind'], word: string) => {
    const last = ops.at(-1);
    if (last?.kind === kind) last.words.push(word);
    else ops.push({ kind, words: [word] });
  };
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      push('same', a[i] as string);
      i++;
      j++;
    } else if ((table[(i + 1) * width + j] ?? 0) >= (table[i * width + j + 1] ?? 0))
      push('del', a[i++] as string);
    else push('add', b[j++] as string);
  }
  while (i < a.length) push('del', a[i++] as string);
  while (j < b.length) push('add', b[j++] as string);
  return ops;
}

/** The word-level edit from `before` to `after`: common prefix and suffix, LCS in between. */
export function diffWords(before: string, after: string): Op[] {
  const a = words(before);
  const b = words(after);
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let end = 0;
  while (end < a.length - start && end < b.length - start && a[a.length - 1 - end] === b[b.length - 1 - end])
    end++;
  const ops: Op[] = [];
  if (start > 0) ops.push({ kind: 'same', words: a.slice(0, start) });
  ops.push(...lcsOps(a.slice(start, a.length - end), b.slice(start, b.length - end)));
  if (end > 0) ops.push({ kind: 'same', words: a.slice(a.length - end) });
  return ops.filter((op) => op.words.length > 0);
}

/**
 * Removed words struck through, added words in bold, `context` unchanged words around each change,
 * long unchanged stretches elided with "…", each changed run cut to `maxRun` characters. Returns null
 * when the change is no longer small (more than `maxChanged` characters changed): a rewrite is better
 * shown as an excerpt. Escaping and the final length limit happen in mrkdwn.ts.
 */
export function wordDiff(
  before: string,
  after: string,
  options: { context?: number; maxRun?: number; maxChanged?: number } = {},
): Rich | null {
  const { context = 4, maxRun = 160, maxChanged = 320 } = options;
  const ops = diffWords(before, after);
  const changed = ops.reduce((n, op) => (op.kind === 'same' ? n : n + op.words.join(' ').length), 0);
  if (changed > maxChanged) return null;
  const rich: Rich = [];
  ops.forEach((op, index) => {
    const text = op.words.join(' ');
    const sep = rich.length === 0 ? '' : ' ';
    if (op.kind === 'del') rich.push(plain(sep), strike(truncatePlain(text, maxRun)));
    else if (op.kind === 'add') rich.push(plain(sep), bold(truncatePlain(text, maxRun)));
    else {
      const first = index === 0;
      const last = index === ops.length - 1;
      const w = op.words;
      let shown: string;
      if (first) shown = w.length > context ? `… ${w.slice(-context).join(' ')}` : text;
      else if (last) shown = w.length > context ? `${w.slice(0, context).join(' ')} …` : text;
      else
        shown =
          w.length > 2 * context ? `${w.slice(0, context).join(' ')} … ${w.slice(-context).join(' ')}` : text;
      rich.push(plain(`${sep}${shown}`));
    }
  });
  return rich;
}

/** True when the texts differ only in whitespace. */
export const sameWords = (a: string, b: string): boolean => words(a).join(' ') === words(b).join(' ');
