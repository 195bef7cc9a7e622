/**
 * JSON parsing that never loses a digit. JSON.parse turns 9007199254740993 into ...992 and a long
 * decimal (JsonConverter's `decimal.format=NUMERIC`) into the nearest double; both would silently
 * change a value. Numbers that a double cannot carry exactly are kept as their source text in a
 * JsonNumber, using JSON.parse's reviver `context.source` (ES2025 "JSON.parse source text access",
 * in V8 since Node 21). Texts without a long digit run skip the reviver and parse at full speed.
 */

/** A JSON number a double cannot hold exactly; `source` is its text as it appeared. */
export class JsonNumber {
  readonly source: string;
  constructor(source: string) {
    this.source = source;
  }
}

// More than 15 significant digits (excluding leading zeros) may not survive a double round trip.
const LONG_DIGIT_RUN = /\d{16,}|\d[\d.]{16,}/;

/**
 * Integer literals are exact when safe. Other literals are exact when they have at most 15 significant
 * digits: then the double's shortest representation (String(n)) names the same decimal.
 */
const isExact = (value: number, source: string): boolean => {
  if (!/[.eE]/.test(source)) return Number.isSafeInteger(value);
  const significant = source
    .replace(/[eE].*$/, '')
    .replace(/[-.]/g, '')
    .replace(/^0+/, '')
    .replace(/0+$/, '');
  return significant.length <= 15;
};

type Reviver = (this: unknown, key: string, value: unknown, context?: { source?: string }) => unknown;

const keepExact: Reviver = (_key, value, context) => {
  if (typeof value !== 'number' || context?.source === undefined) return value;
  return isExact(value, context.source) ? value : new JsonNumber(context.source);
};

/** Parse JSON text; numbers a double would change come back as JsonNumber. Throws SyntaxError. */
export function parseJsonExact(text: string): unknown {
  if (!LONG_DIGIT_RUN.test(text)) return JSON.parse(text);
  return JSON.parse(text, keepExact as Parameters<typeof JSON.parse>[1]);
}
