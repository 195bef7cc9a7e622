/**
 * The digest's words as spans (unescaped; mrkdwn.ts escapes them): counts and percents in the
 * configured locale, one line per listing, one line per rule.
 */
import { createMemo, type Memo } from '../memo.ts';
import type { Rich } from '../mrkdwn.ts';
import { bold, plain, truncatePlain } from '../mrkdwn.ts';
import { ARROW, type Entry, type EntryChange } from './entries.ts';
import type { DirectionCount, FieldCount, RuleCount } from './tally.ts';

/** Caps for one value in a line: a 5 kB title must not crowd out the rest of the list. */
const TITLE_MAX = 100;
const ID_MAX = 40;
const VALUE_MAX = 80;
const DIRECTION_MAX = 80;
/** Kinds of move shown per field; the rest are summed up ("+3 more kinds (12)"). */
const DIRECTIONS_SHOWN = 6;

/**
 * Bidi controls (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C) let a value reorder the text
 * around it ("Trojan Source", CVE-2021-42574). Removed from every value here; mrkdwn.ts is to strip them
 * too (issue 9), after which this is a harmless second pass.
 */
const BIDI = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/g;
export const clean = (text: string): string => text.replace(BIDI, '');

/** One line per listing: a value's own line breaks and tabs become spaces, so no title can forge a line. */
const oneLine = (text: string): string => text.replace(/\r\n|[\t\n\v\f\r\u0085\u2028\u2029]/g, ' ');

const short = (text: string, max: number): string => truncatePlain(oneLine(clean(text)), max);

// Keyed by the configured locale only, bounded all the same: a reload may bring new locales.
const numberFormats = createMemo<Intl.NumberFormat>(16);
const percentFormats = createMemo<Intl.NumberFormat>(16);

const formatter = (cache: Memo<Intl.NumberFormat>, locale: string, make: () => Intl.NumberFormat) =>
  cache.get(locale, make);

/** 1240 -> "1,240" (en-US), "1.240" (de-DE). */
export const formatCount = (n: number, locale: string): string =>
  formatter(numberFormats, locale, () => new Intl.NumberFormat(locale)).format(n);

/** -15 -> "-15%", 3.25 -> "+3.3%" (en-US); "-15 %" (de-DE). */
export const formatPercent = (percent: number, locale: string): string =>
  formatter(
    percentFormats,
    locale,
    () =>
      new Intl.NumberFormat(locale, {
        style: 'percent',
        maximumFractionDigits: 1,
        signDisplay: 'exceptZero',
      }),
  ).format(percent / 100);

export const plural = (n: number, one: string, many: string): string => (n === 1 ? one : many);

/** "Ergonomic Office Chair (#12)", "Listing #12", "(id unknown)". */
export function entryName(entry: Entry): Rich {
  const id = entry.id === null ? null : `#${short(entry.id, ID_MAX)}`;
  if (entry.title === null) return [plain(id === null ? 'Listing (id unknown)' : `Listing ${id}`)];
  return [bold(short(entry.title, TITLE_MAX)), plain(id === null ? ' (id unknown)' : ` (${id})`)];
}

/** "Price $19.99 → $17.99 (-10%)", "Listing deleted". */
export function changeWords(change: EntryChange): Rich {
  if (change.fieldKey === null) return [plain(change.after)];
  if (change.field === null) return [plain(`${short(change.label, VALUE_MAX)} changed`)];
  const pct = change.percentText === null ? '' : ` (${change.percentText}%)`;
  return [
    plain(
      `${change.label} ${short(change.before, VALUE_MAX)}${ARROW}${short(change.after, VALUE_MAX)}${pct}`,
    ),
  ];
}

/** One listing in the complete list: "• *Chair* (#12): Price $19.99 → $17.99 (-10%) · <when>[ · rules]". */
export function entryLine(entry: Entry, when: string, withRules: boolean): Rich {
  const rich: Rich = [plain('• '), ...entryName(entry), plain(': ')];
  entry.changes.forEach((c, i) => {
    if (i > 0) rich.push(plain('; '));
    rich.push(...changeWords(c));
  });
  rich.push(plain(` · ${when}`));
  if (withRules) rich.push(plain(` · ${short(entry.item.rules.join(', '), 200)}`));
  return rich;
}

/** "Price" -> "price", but "SKU" stays "SKU". */
const nounOf = (label: string): string =>
  /^\p{Lu}\p{Lu}/u.test(label) ? label : `${label.charAt(0).toLowerCase()}${label.slice(1)}`;

function directionWords(d: DirectionCount, locale: string): string {
  const median = d.medianPercent === null ? '' : `, median ${formatPercent(d.medianPercent, locale)}`;
  return `${formatCount(d.count, locale)} ${short(d.label, DIRECTION_MAX)}${median}`;
}

function fieldWords(f: FieldCount, locale: string): string {
  const noun =
    f.key === ''
      ? plural(f.count, 'listing', 'listings')
      : `${short(nounOf(f.label), 60)} ${plural(f.count, 'change', 'changes')}`;
  const shown = f.directions.slice(0, DIRECTIONS_SHOWN).map((d) => directionWords(d, locale));
  const rest = f.directions.slice(DIRECTIONS_SHOWN);
  if (rest.length > 0) {
    const n = rest.reduce((sum, d) => sum + d.count, 0);
    shown.push(`+${formatCount(rest.length, locale)} more kinds (${formatCount(n, locale)})`);
  }
  return `${formatCount(f.count, locale)} ${noun}: ${shown.join('; ')}`;
}

/** "*price moved*: 1,240 price changes: 1,200 down, median -15%; 40 up, median +3%". */
export function ruleLine(r: RuleCount, locale: string): Rich {
  return [bold(short(r.rule, 80)), plain(`: ${r.fields.map((f) => fieldWords(f, locale)).join(' · ')}`)];
}
