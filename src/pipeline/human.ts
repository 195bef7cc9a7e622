/**
 * Human terms: `LST_STAT_CD` -> "Status", "A" -> "Active", 17.99 + EUR -> "€17.99" with a signed
 * percent change, instants in the configured time zone, long text as an excerpt or word diff.
 * Output is spans of *unescaped* text; mrkdwn.ts escapes them for Slack.
 */
import type { Config, FieldConfig } from '../config/index.ts';
import type { ChangeEvent, ColumnValue, Row } from '../domain/change.ts';
import { type Amount, amountOf, formatAmount, percentChange } from './amount.ts';
import { codeOf, isUnavailable, labelOf, textOf } from './columns.ts';
import type { Signal } from './filter.ts';
import { createMemo } from './memo.ts';
import { plain, type Rich, sanitize } from './mrkdwn.ts';
import { excerpt, wordDiff } from './words.ts';

export const PREVIOUS_UNKNOWN = 'previous value unknown';
export const NOT_SENT = 'unchanged (not sent)';
export const NONE = 'none';

export interface FactField {
  title: string;
  value: Rich;
}

/** One significant change in words. */
export interface Fact {
  summary: Rich;
  fields: FactField[];
}

/**
 * Intl formatters are costly to build (~20 µs, ~1.5 kB each), so they are kept per key. Keys hold config
 * values (locale, time zone) but also the row's currency code and the amount's scale: data, 17,576
 * three-letter codes times the scales (issue 19, finding 6). The memo is bounded; a stream of varied
 * currencies costs rebuilding formatters, never memory.
 */
export const FORMATTER_MEMO_SIZE = 256;
const memo = createMemo<unknown>(FORMATTER_MEMO_SIZE);
const once = <T>(key: string, make: () => T): T => memo.get(key, make) as T;

/** Formatters kept now (tests: the memo stays bounded). */
export const formatterMemoSize = (): number => memo.size;

/** Intl.NumberFormat formats a decimal string exactly (Intl.NumberFormat v3); its typings say number. */
const formatExact = (f: Intl.NumberFormat, text: string): string => f.format(text as unknown as number);

/** "€17.99": the symbol from the row's currency via Intl, the amount exact (formatted from its string). */
export function formatMoney(amount: Amount, currency: string | null, locale: string): string {
  const text = formatAmount(amount);
  if (currency === null || !/^[A-Z]{3}$/.test(currency))
    return currency === null ? text : `${text} ${currency}`;
  try {
    const digits = once(
      `digits|${locale}|${currency}`,
      () =>
        new Intl.NumberFormat(locale, { style: 'currency', currency }).resolvedOptions()
          .maximumFractionDigits ?? 2,
    );
    // Never round money away: show every digit the database holds.
    const shown = Math.min(Math.max(digits, amount.scale), 100);
    const f = once(
      `money|${locale}|${currency}|${shown}`,
      () => new Intl.NumberFormat(locale, { style: 'currency', currency, maximumFractionDigits: shown }),
    );
    return formatExact(f, text);
  } catch {
    return `${text} ${currency}`;
  }
}

export function formatQuantity(amount: Amount, locale: string): string {
  const f = once(`qty|${locale}`, () => new Intl.NumberFormat(locale, { maximumFractionDigits: 100 }));
  return formatExact(f, formatAmount(amount));
}

let lastInstant = { key: '', text: '' };

/** "2025-01-06 10:07:00 GMT+1" in the configured zone; 24-hour, unambiguous across locales. */
export function formatInstant(epochMs: number, timeZone: string): string {
  if (!Number.isFinite(epochMs)) return String(epochMs);
  // One change is rendered once per channel: remember the last instant.
  const key = `${timeZone}|${epochMs}`;
  if (lastInstant.key === key) return lastInstant.text;
  const f = once(
    `time|${timeZone}`,
    () =>
      new Intl.DateTimeFormat('en-US', {
        timeZone,
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
        hourCycle: 'h23',
        timeZoneName: 'short',
      }),
  );
  const parts = Object.fromEntries(f.formatToParts(new Date(epochMs)).map((p) => [p.type, p.value]));
  const text = `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second} ${parts.timeZoneName}`;
  lastInstant = { key, text };
  return text;
}

function currencyIn(field: Extract<FieldConfig, { kind: 'money' }>, row: Row | null): string {
  if (field.currencyColumn === null) return field.currency;
  return codeOf(row?.[field.currencyColumn]) ?? field.currency;
}

/** A money value that is not a number (e.g. Decimal bytes from a topic without schemas, no decimalScale). */
function unreadable(value: ColumnValue): string {
  const text = textOf(value);
  return text === null ? NONE : `unreadable amount (${excerpt(text, 40)})`;
}

/** One value as people read it, for the given field kind. */
export function formatValue(
  field: FieldConfig,
  value: ColumnValue | undefined,
  config: Config,
  row: Row | null = null,
): string {
  if (value === undefined) return PREVIOUS_UNKNOWN;
  if (value === null) return NONE;
  if (isUnavailable(value)) return NOT_SENT;
  switch (field.kind) {
    case 'money': {
      const amount = amountOf(value);
      return amount === null ? unreadable(value) : formatMoney(amount, currencyIn(field, row), config.locale);
    }
    case 'quantity': {
      const amount = amountOf(value);
      return amount === null ? (textOf(value) ?? NONE) : formatQuantity(amount, config.locale);
    }
    case 'code': {
      const code = codeOf(value);
      // Own keys only: a database value such as "__proto__" must not reach Object.prototype.
      return code === null ? NONE : Object.hasOwn(field.codes, code) ? (field.codes[code] ?? code) : code;
    }
    case 'text':
      return excerpt(textOf(value) ?? '', field.excerptLength) || '(empty)';
    case 'timestamp': {
      const iso = typeof value === 'object' && 'iso' in value ? value.iso : null;
      const ms = iso === null ? (typeof value === 'number' ? value : Number.NaN) : Date.parse(iso);
      return Number.isFinite(ms) ? formatInstant(ms, config.timeZone) : (textOf(value) ?? NONE);
    }
  }
}

/** The listing's name for headers: the title column, else null. */
export function listingTitle(event: ChangeEvent, config: Config): string | null {
  const column = config.listing.titleColumn;
  if (column === null) return null;
  const value = event.after?.[column] ?? event.before?.[column];
  const text = isUnavailable(value) ? null : textOf(value);
  // Judged as shown: a title of nothing but bidi marks is no title (the header would be empty).
  const shown = text === null ? '' : sanitize(text).trim();
  return shown === '' ? null : shown;
}

/** Words for one signal: a one-line summary plus before/after fields. */
export function describe(signal: Signal, event: ChangeEvent, config: Config): Fact {
  if (signal.field === null || signal.change === null) return describeListing(signal, event, config);
  const field = config.fields[signal.field];
  if (field === undefined) throw new Error(`signal for unknown field ${signal.field}`);
  const label = labelOf(signal.field, field);
  const c = signal.change;
  const before = formatValue(field, c.before, config, event.before ?? event.after);
  const after = formatValue(field, c.after, config, event.after);
  const fields: FactField[] = [
    { title: `${label} before`, value: [plain(before)] },
    { title: `${label} after`, value: [plain(after)] },
  ];
  const fact = (...summary: Rich): Fact => ({ summary, fields });

  if (c.beforeUnknown && field.kind === 'quantity' && signal.condition === 'low') {
    return fact(
      plain(
        amountOf(c.after)?.units === 0n
          ? `${label} ran out: ${after} left (${PREVIOUS_UNKNOWN})`
          : `${label} is low: ${after} left (${PREVIOUS_UNKNOWN}; low below ${field.lowBelow})`,
      ),
    );
  }
  if (c.beforeUnknown) {
    const now = field.kind === 'text' ? `: ${after}` : ` ${after}`;
    return fact(plain(`${label} is now${now} (${PREVIOUS_UNKNOWN})`));
  }
  switch (field.kind) {
    case 'money': {
      const a = amountOf(c.before);
      const b = amountOf(c.after);
      const pct =
        a !== null && b !== null && currencyIn(field, event.before) === currencyIn(field, event.after)
          ? percentChange(a, b)
          : null;
      return fact(plain(`${label} changed from ${before} to ${after}${pct === null ? '' : ` (${pct}%)`}`));
    }
    case 'quantity':
      if (signal.condition === 'low')
        return fact(
          plain(
            amountOf(c.after)?.units === 0n
              ? `${label} ran out: ${after} left (was ${before})`
              : `${label} is low: ${after} left (was ${before}; low below ${field.lowBelow})`,
          ),
        );
      if (signal.condition === 'recovered')
        return fact(
          plain(
            `${label} recovered: ${after} (was ${before}; back at ${(field.lowBelow ?? 0) + field.hysteresis} or more)`,
          ),
        );
      return fact(plain(`${label} changed from ${before} to ${after}`));
    case 'text': {
      const a = textOf(c.before);
      const b = textOf(c.after);
      if (b === null) return fact(plain(`${label} removed`));
      if (a === null || field.show === 'excerpt') return fact(plain(`${label} changed: ${after}`));
      const length = field.excerptLength;
      const diff = wordDiff(a, b, { maxRun: length, maxChanged: 2 * length });
      if (diff === null) return fact(plain(`${label} rewritten: ${after}`));
      const visible = diff.some((s) => s.style !== undefined);
      return fact(plain(`${label} changed: `), ...(visible ? diff : [plain('only spacing changed')]));
    }
    case 'code':
    case 'timestamp':
      return fact(plain(`${label} changed from ${before} to ${after}`));
  }
}

/** created / deleted: the listing's watched values as they are now (or were). */
function describeListing(signal: Signal, event: ChangeEvent, config: Config): Fact {
  const row = signal.condition === 'deleted' ? event.before : event.after;
  const fields: FactField[] = [];
  for (const [key, field] of Object.entries(config.fields)) {
    const value = row?.[field.column];
    if (value === undefined || field.kind === 'text') continue;
    fields.push({ title: labelOf(key, field), value: [plain(formatValue(field, value, config, row))] });
  }
  const summary = signal.condition === 'deleted' ? 'Listing deleted' : 'New listing';
  return { summary: [plain(summary)], fields };
}
