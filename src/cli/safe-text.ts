/**
 * Database values (and anything else that came through Kafka) are untrusted in every output format.
 * On a terminal, a control character can move the cursor, rewrite earlier lines or set the window
 * title (ESC [ ... , and the C1 introducer U+009B), and bidirectional overrides can make text read in
 * another order than it is stored (CVE-2021-42574, "Trojan Source"). These helpers show such
 * characters as visible \u escapes, in text and in JSON alike.
 */

// C0 (except tab in text), DEL, C1, bidi embeddings/overrides/isolates, line/paragraph separators,
// and lone surrogates.
const unsafe =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
  /[\u0000-\u0008\u000A-\u001F\u007F-\u009F\u200E\u200F\u202A-\u202E\u2028\u2029\u2066-\u2069]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

// What JSON.stringify leaves raw inside strings (it escapes C0 and lone surrogates itself; structural
// characters are ASCII, so these can only occur inside strings and escaping them keeps valid JSON).
const unsafeInJson = /[\u007F-\u009F\u200E\u200F\u202A-\u202E\u2028\u2029\u2066-\u2069]/g;

const escapeChar = (ch: string): string => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** One line of text for a terminal: unsafe characters escaped, cut to `max` characters with "…". */
export function safeText(text: string, max = Number.POSITIVE_INFINITY): string {
  const shown = text.length > max ? `${text.slice(0, Math.max(0, max - 1))}…` : text;
  return shown.replace(unsafe, escapeChar);
}

/** JSON.stringify with the characters JSON leaves raw (C1, bidi, U+2028/9) escaped too; still JSON. */
export function safeJson(value: unknown, space?: number): string {
  return (JSON.stringify(value, null, space) ?? 'null').replace(unsafeInJson, escapeChar);
}

/** Bytes as text when they are valid UTF-8, else base64; for showing keys and values. */
export function bytesView(bytes: Buffer | null): { utf8: string } | { base64: string } | null {
  if (bytes === null) return null;
  try {
    return { utf8: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
  } catch {
    return { base64: bytes.toString('base64') };
  }
}
