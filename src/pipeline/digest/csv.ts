/**
 * The complete list as a CSV file (RFC 4180: https://www.rfc-editor.org/rfc/rfc4180): a header row,
 * then one row per item in the digest's sort order, CRLF line ends, fields quoted when they hold a
 * quote, comma or leading/trailing space (quotes doubled). UTF-8 with a byte order mark, so Excel reads
 * non-ASCII titles as UTF-8 rather than the system code page.
 *
 * Every cell that carries data is untrusted:
 * - formula injection (https://owasp.org/www-community/attacks/CSV_Injection): a cell whose first
 *   non-blank character is = + - @ (or their full-width forms, which some spreadsheets also accept),
 *   or that starts with TAB or CR, gets a leading apostrophe, so spreadsheets show it as text. The one
 *   column this module computes itself, "change %", is a plain decimal number ("-10.05") and stays one
 *   so it can be sorted.
 * - bidi controls (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C; "Trojan Source",
 *   CVE-2021-42574) are removed, so a title cannot reorder what a reader sees in its row.
 * - other control characters are removed; line breaks and tabs become spaces (one row per line), and
 *   lone surrogates become U+FFFD.
 */
import { Buffer } from 'node:buffer';
import type { ChatFile } from '../../ports/index.ts';
import type { Entry } from './entries.ts';

export const CSV_HEADER = [
  'listing id',
  'title',
  'rules',
  'field',
  'before',
  'after',
  'change %',
  'changed at (UTC)',
] as const;

/** Between the parts of a cell when an item has several signals (price and stock in one channel). */
const JOIN = '; ';

const BIDI = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/g;
const BREAKS = /\r\n|[\t\n\v\f\r\u0085\u2028\u2029]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
const CONTROLS = /[\u0000-\u001F\u007F-\u009F]/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const FORMULA_START = /^[\t\r]|^\s*[=+\-@\uFF1D\uFF0B\uFF0D\uFF20]/;
const NUMBER = /^-?\d+(\.\d+)?$/;

/** Untrusted text made safe to show in a cell (see the module comment). */
export function cleanCell(text: string): string {
  return text.replace(BREAKS, ' ').replace(BIDI, '').replace(CONTROLS, '').replace(LONE_SURROGATE, '\uFFFD');
}

/** A leading apostrophe for anything a spreadsheet could take for a formula. */
export function neutralise(cell: string): string {
  return FORMULA_START.test(cell) ? `'${cell}` : cell;
}

/** RFC 4180 quoting: only where needed, quotes doubled. */
export function quote(cell: string): string {
  return /[",\r\n]|^\s|\s$/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell;
}

const dataCell = (text: string): string => quote(neutralise(cleanCell(text)));

/** Hundredths of a percent as a plain decimal: -1005n -> "-10.05", 250n -> "2.5", 0n -> "0". */
export function percentCell(hundredths: bigint): string {
  const negative = hundredths < 0n;
  const n = negative ? -hundredths : hundredths;
  const frac = (n % 100n).toString().padStart(2, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${n / 100n}${frac === '' ? '' : `.${frac}`}`;
}

function isoOf(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '';
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? '' : date.toISOString();
}

function row(entry: Entry): string {
  const { changes, item } = entry;
  const percent = changes.map((c) => (c.hundredths === null ? '' : percentCell(c.hundredths))).join(JOIN);
  // One computed number stays a number; a list of them (several signals) is text like any other.
  const percentOut = percent === '' || NUMBER.test(percent) ? percent : dataCell(percent);
  return [
    dataCell(entry.id ?? ''),
    dataCell(entry.title ?? ''),
    dataCell(item.rules.join(JOIN)),
    dataCell(changes.map((c) => c.label).join(JOIN)),
    dataCell(changes.map((c) => c.before).join(JOIN)),
    dataCell(changes.map((c) => c.after).join(JOIN)),
    percentOut,
    isoOf(item.event.source.tsMs),
  ].join(',');
}

/** The CSV text (without the byte order mark). */
export function toCsv(entries: readonly Entry[]): string {
  const lines = [CSV_HEADER.join(',')];
  for (const entry of entries) lines.push(row(entry));
  return `${lines.join('\r\n')}\r\n`;
}

/** "sales-alerts-digest-2026-11-28T13-45-07Z.csv": safe on every file system and in a URL. */
export function csvFilename(channelKey: string, fromMs: number): string {
  const slug =
    channelKey
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^[.-]+|[.-]+$/g, '')
      .slice(0, 60) || 'channel';
  const iso = isoOf(fromMs);
  const when = iso === '' ? 'unknown-time' : iso.replace(/\.\d+Z$/, 'Z').replaceAll(':', '-');
  return `${slug}-digest-${when}.csv`;
}

export function csvFile(entries: readonly Entry[], filename: string, title: string): ChatFile {
  return { filename, title, content: Buffer.from(`\uFEFF${toCsv(entries)}`, 'utf8') };
}
