/**
 * Text that goes to Slack. Every database value is untrusted: in mrkdwn (section text, fields, context,
 * and the top-level `text` fallback) `&`, `<` and `>` are escaped, so no value can become
 * `<!channel>`, `<!here>`, `<@U123>`, `<#C123>`, `<!subteam^…>` or a forged `<https://x|label>` link.
 * https://docs.slack.dev/messaging/formatting-message-text#escaping
 *
 * Human text is built as spans (text + optional style) from unescaped strings; only this module turns
 * spans into mrkdwn or plain text, escaping and truncating on the way, so no caller can forget.
 */

export type Style = 'bold' | 'italic' | 'strike';
export interface Span {
  text: string;
  style?: Style;
}
export type Rich = Span[];

export const ELLIPSIS = '…';

const markers: Record<Style, string> = { bold: '*', italic: '_', strike: '~' };

/**
 * Bidirectional formatting characters: the embeddings and overrides (U+202A-U+202E), the isolates
 * (U+2066-U+2069) and the implicit marks (U+200E LRM, U+200F RLM, U+061C ALM). A value holding one can
 * reorder what is shown after it, ours included: "\u202Efdp.exe" displays as "exe.pdf", and
 * "\u200F100 - 200\u200F" as "200 - 100" (the Trojan Source class, CVE-2021-42574; Unicode UAX #9).
 * They are removed rather than replaced with U+FFFD: right-to-left titles legitimately carry marks, and
 * without them Hebrew or Arabic text still displays in its natural order.
 */
const BIDI_CONTROLS = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;

/**
 * What every value passes through before it is shown (toMrkdwn, toPlain). Control characters (C0 other
 * than tab and newline, DEL, and C1, the set the demo's terminal view also blanks) and lone surrogates
 * carry no meaning in a chat message and would only bloat the JSON (`\u0000` is six characters): they
 * become U+FFFD. Bidirectional formatting characters are removed (see BIDI_CONTROLS).
 */
export function sanitize(text: string): string {
  return (
    text
      .replace(/\r\n?/g, '\n')
      .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
      // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
      .replace(/[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g, '\uFFFD')
      .replace(BIDI_CONTROLS, '')
  );
}

/** Slack's three mrkdwn escapes; nothing else needs escaping. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Cuts to at most `max` UTF-16 units (what Slack's limits count, conservatively), ending in "…". */
export function truncatePlain(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max < 1) return '';
  return `${cutAt(text, max - 1)}${ELLIPSIS}`;
}

/** Never splits a surrogate pair. */
function cutAt(text: string, end: number): string {
  let cut = Math.max(0, end);
  const code = text.charCodeAt(cut - 1);
  if (cut > 0 && code >= 0xd800 && code <= 0xdbff) cut -= 1;
  return text.slice(0, cut);
}

/** Like truncatePlain for already-escaped mrkdwn: never cuts an entity (`&amp;`) in half. */
export function truncateEscaped(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max < 1) return '';
  let head = cutAt(text, max - 1);
  const amp = head.lastIndexOf('&');
  if (amp !== -1 && !head.slice(amp).includes(';')) head = head.slice(0, amp);
  return `${head}${ELLIPSIS}`;
}

/**
 * A style marker only works around text that does not itself hold the marker, a line break, or
 * leading/trailing spaces; other text is left unstyled rather than risk garbled formatting.
 */
function styled(escaped: string, style: Style | undefined): string {
  if (style === undefined) return escaped;
  const marker = markers[style];
  const core = escaped.trim();
  if (core === '' || /[*_~`\n]/.test(core)) return escaped;
  const start = escaped.indexOf(core);
  return `${escaped.slice(0, start)}${marker}${core}${marker}${escaped.slice(start + core.length)}`;
}

/** Spans -> escaped mrkdwn of at most `max` characters (styles closed properly when cut). */
export function toMrkdwn(rich: Rich, max: number = Number.POSITIVE_INFINITY): string {
  let out = '';
  for (const span of rich) {
    const escaped = escapeMrkdwn(sanitize(span.text));
    const piece = styled(escaped, span.style);
    if (out.length + piece.length <= max) {
      out += piece;
      continue;
    }
    // Doesn't fit: cut this span's own text (room for two markers and the ellipsis), then stop. A span
    // left unstyled whole stays unstyled when cut: the cut may have dropped the marker that kept it so
    // ("<!channel>~" struck), and markers it had no room for would break the limit.
    const styledWhole = piece !== escaped;
    const room = max - out.length - (styledWhole ? 2 : 0);
    if (room < 2) return truncateEscaped(`${out}${escaped}`, max);
    const cut = truncateEscaped(escaped, room);
    if (cut === ELLIPSIS || !styledWhole) return out + cut;
    return out + styled(cut.slice(0, -1), span.style) + ELLIPSIS;
  }
  return out;
}

/** Spans -> plain text (header, button), no escaping needed there, at most `max` characters. */
export function toPlain(rich: Rich, max: number = Number.POSITIVE_INFINITY): string {
  return truncatePlain(sanitize(rich.map((s) => s.text).join('')), max);
}

export const plain = (text: string): Span => ({ text });
export const bold = (text: string): Span => ({ text, style: 'bold' });
export const strike = (text: string): Span => ({ text, style: 'strike' });
export const italic = (text: string): Span => ({ text, style: 'italic' });
