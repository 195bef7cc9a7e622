/**
 * JSON parsing that never loses a digit. JSON.parse turns 9007199254740993 into ...992 and a long
 * decimal (JsonConverter's `decimal.format=NUMERIC`) into the nearest double; both would silently
 * change a value. Numbers a double cannot carry exactly come back as JsonNumber, holding their text.
 *
 * How: number literals outside string literals that a double would change are rewritten to a string
 * literal starting with U+0000, the text is parsed by the native JSON.parse, and marked strings become
 * JsonNumber. A real string value may start with U+0000 too (MariaDB text columns can hold NUL, and
 * PostgreSQL's json type keeps a `\u0000` escape): such a string gets a second U+0000 in front, and
 * unmark removes it again, so a mark is U+0000 followed by anything but U+0000 and a real string is
 * never taken for a number (issue 19, finding 5: a title starting with NUL became a number). On the
 * captured 18 kB Debezium records (each carries ts_ns, 19 digits) this costs ~1.5x JSON.parse, where
 * JSON.parse's reviver with `context.source` costs ~4x, and that reviver also loses `source` when V8's
 * escaped-key bug strikes (nodejs/node#63785).
 */

/** A JSON number a double cannot hold exactly; `source` is its text as it appeared. */
export class JsonNumber {
  readonly source: string;
  constructor(source: string) {
    this.source = source;
  }
}

const NUL = 0;
/** What a string literal starting with U+0000 starts with in JSON text (JSON has no raw control characters). */
const NUL_ESCAPE = '\\u0000';
const QUOTE = 34;
const BACKSLASH = 92;
/** Number literals shorter than this have at most 15 digits and are always exact. */
const MIN_SUSPECT_LENGTH = 16;

const isNumberChar = (c: number): boolean =>
  (c >= 48 && c <= 57) ||
  c === 45 /* - */ ||
  c === 43 /* + */ ||
  c === 46 /* . */ ||
  c === 101 ||
  c === 69; /* e E */

/**
 * Integer literals are exact when safe. Other literals are exact when they have at most 15 significant
 * digits: then the double's shortest representation (String(n)) names the same decimal.
 */
function isExact(source: string): boolean {
  if (!/[.eE]/.test(source)) return Number.isSafeInteger(Number(source));
  const significant = source
    .replace(/[eE].*$/, '')
    .replace(/[-+.]/g, '')
    .replace(/^0+/, '')
    .replace(/0+$/, '');
  return significant.length <= 15;
}

/** The index just past the string literal whose opening quote is at `open` (or the text's length). */
function endOfString(text: string, open: number): number {
  for (let q = text.indexOf('"', open + 1); q !== -1; q = text.indexOf('"', q + 1)) {
    let backslashes = 0;
    while (text.charCodeAt(q - 1 - backslashes) === BACKSLASH) backslashes += 1;
    if (backslashes % 2 === 0) return q + 1;
  }
  return text.length;
}

/** Whether the string literal ending (exclusive) at `end` is an object's member name: a ':' follows. */
function isMemberName(text: string, end: number): boolean {
  let i = end;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) return c === 58; /* : */
    i += 1;
  }
  return false;
}

/**
 * The text with inexact number literals turned into marked strings, and string values starting with
 * U+0000 given a second one, or undefined when there are neither.
 * One pass: string literals are skipped with indexOf (they are most of a Debezium record: long text
 * columns), the structure between them is read character by character.
 */
function markLongNumbers(text: string): string | undefined {
  let out: string[] | undefined;
  let copied = 0; // text[0, copied) is in out
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = endOfString(text, i);
      if (text.startsWith(NUL_ESCAPE, i + 1) && !isMemberName(text, end)) {
        out ??= [];
        out.push(text.slice(copied, i + 1), NUL_ESCAPE);
        copied = i + 1;
      }
      i = end;
      continue;
    }
    if (!isNumberChar(c)) {
      i += 1;
      continue;
    }
    let end = i + 1;
    while (end < text.length && isNumberChar(text.charCodeAt(end))) end += 1;
    if (end - i >= MIN_SUSPECT_LENGTH) {
      const token = text.slice(i, end);
      if (!isExact(token)) {
        out ??= [];
        out.push(text.slice(copied, i), `"\\u0000${token}"`);
        copied = end;
      }
    }
    i = end;
  }
  if (out === undefined) return undefined;
  out.push(text.slice(copied));
  return out.join('');
}

function unmark(value: unknown): unknown {
  if (typeof value === 'string') {
    if (value.charCodeAt(0) !== NUL) return value;
    // U+0000 U+0000: a real string given a second NUL by markLongNumbers; U+0000 alone: a marked number.
    return value.charCodeAt(1) === NUL ? value.slice(1) : new JsonNumber(value.slice(1));
  }
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) value[i] = unmark(value[i]);
    return value;
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) record[key] = unmark(record[key]);
  return value;
}

/** Parse JSON text; numbers a double would change come back as JsonNumber. Throws SyntaxError. */
export function parseJsonExact(text: string): unknown {
  const marked = markLongNumbers(text);
  return marked === undefined ? JSON.parse(text) : unmark(JSON.parse(marked));
}
