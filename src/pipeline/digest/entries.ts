/**
 * A digest's items in display terms, once: each item becomes an Entry (id, title, and per signal the
 * field, before, after and exact percent change), and the entries are sorted once. Every later part
 * (counts, Slack lines, CSV rows) reads entries, so all of them say the same thing in the same order.
 *
 * Sort order (documented, deterministic): listing ids made only of digits first, in numeric order
 * (compared as digit strings, so ids beyond 2^53 sort right); then other ids in UTF-16 code-unit order
 * (not locale order, which may differ between Node builds); items without an id last. Items with the
 * same id keep their input order (Array.prototype.sort is stable).
 */
import type { Config, FieldConfig } from '../../config/index.ts';
import type { ChangeEvent, ColumnValue, Row } from '../../domain/change.ts';
import { type Amount, amountOf, isZero, percentChange, subtract } from '../amount.ts';
import { codeOf, labelOf, textOf } from '../columns.ts';
import type { Signal } from '../filter.ts';
import { formatValue, listingTitle } from '../human.ts';
import type { DigestItem } from './types.ts';

/** One signal of one item, as people read it (unescaped; escaping happens where it is written). */
export interface EntryChange {
  signal: Signal;
  /** The field's key, or null for listing-level signals (created, deleted). */
  fieldKey: string | null;
  field: FieldConfig | null;
  /** "Price", or "Listing" for created/deleted. */
  label: string;
  before: string;
  after: string;
  /** Exact change in hundredths of a percent (money and quantity with a known, non-zero before). */
  hundredths: bigint | null;
  /** As single messages show it: "-10", "+2.5", "-<0.1" (amount.ts percentChange). */
  percentText: string | null;
}

export interface Entry {
  item: DigestItem;
  id: string | null;
  title: string | null;
  changes: EntryChange[];
}

export const LISTING_LABEL = 'Listing';
/** Between before and after in Slack text: one character, and nothing mrkdwn escapes (unlike "->"). */
export const ARROW = ' → ';

function currencyIn(field: Extract<FieldConfig, { kind: 'money' }>, row: Row | null): string {
  if (field.currencyColumn === null) return field.currency;
  return codeOf(row?.[field.currencyColumn]) ?? field.currency;
}

/** (after - before) / |before| in hundredths of a percent, rounded half away from zero; null from 0. */
export function hundredthsOf(before: Amount, after: Amount): bigint | null {
  if (isZero(before)) return null;
  const delta = subtract(after, before);
  const base = before.units * 10n ** BigInt(delta.scale - before.scale);
  const denominator = base < 0n ? -base : base;
  const numerator = delta.units * 10_000n;
  const negative = numerator < 0n;
  const n = negative ? -numerator : numerator;
  let q = n / denominator;
  if ((n % denominator) * 2n >= denominator) q += 1n;
  return negative ? -q : q;
}

type Format = (key: string, field: FieldConfig, value: ColumnValue | undefined, row: Row | null) => string;

/**
 * formatValue with a memo for one digest: a bulk change formats the same few prices, quantities and
 * codes thousands of times, and Intl formatting is most of the digest's cost. Only values whose
 * output depends on nothing but their text, the field and (money) the currency are remembered.
 */
function formatWithMemo(config: Config): Format {
  const memo = new Map<string, string>();
  return (key, field, value, row) => {
    const kind = typeof value === 'object' && value !== null ? value.type : typeof value;
    const text =
      kind === 'decimal' || kind === 'string' || kind === 'number' ? textOf(value as ColumnValue) : null;
    if (text === null || (field.kind !== 'money' && field.kind !== 'quantity' && field.kind !== 'code'))
      return formatValue(field, value, config, row);
    const currency = field.kind === 'money' ? currencyIn(field, row) : '';
    const memoKey = `${key}\u0000${currency}\u0000${kind}\u0000${text}`;
    let out = memo.get(memoKey);
    if (out === undefined) {
      out = formatValue(field, value, config, row);
      memo.set(memoKey, out);
    }
    return out;
  };
}

function changeOf(signal: Signal, event: ChangeEvent, config: Config, format: Format): EntryChange {
  if (signal.field === null || signal.change === null) {
    const after = signal.condition === 'deleted' ? 'Listing deleted' : 'New listing';
    return {
      signal,
      fieldKey: null,
      field: null,
      label: LISTING_LABEL,
      before: '',
      after,
      hundredths: null,
      percentText: null,
    };
  }
  const field = config.fields[signal.field];
  // route() only hands on signals of configured fields; anything else is shown by its key.
  if (field === undefined) {
    return {
      signal,
      fieldKey: signal.field,
      field: null,
      label: signal.field,
      before: '',
      after: 'changed',
      hundredths: null,
      percentText: null,
    };
  }
  const c = signal.change;
  const before = format(signal.field, field, c.before, event.before ?? event.after);
  const after = format(signal.field, field, c.after, event.after);
  let hundredths: bigint | null = null;
  let percentText: string | null = null;
  const numeric =
    field.kind === 'quantity' ||
    (field.kind === 'money' && currencyIn(field, event.before) === currencyIn(field, event.after));
  if (numeric && !c.beforeUnknown) {
    const a = amountOf(c.before);
    const b = amountOf(c.after);
    if (a !== null && b !== null) {
      hundredths = hundredthsOf(a, b);
      percentText = percentChange(a, b);
    }
  }
  return {
    signal,
    fieldKey: signal.field,
    field,
    label: labelOf(signal.field, field),
    before,
    after,
    hundredths,
    percentText,
  };
}

/** Digit-only ids sort numerically; the key makes the comparison a cheap string compare. */
interface SortKey {
  group: 0 | 1 | 2;
  text: string;
}

function sortKey(id: string | null): SortKey {
  if (id === null) return { group: 2, text: '' };
  if (/^\d+$/.test(id)) {
    const digits = id.replace(/^0+(?=\d)/, '');
    // Longer digit strings are larger numbers: pad so plain string order is numeric order.
    return { group: 0, text: `${String(digits.length).padStart(6, '0')}:${digits}:${id}` };
  }
  return { group: 1, text: id };
}

export function compareKeys(a: SortKey, b: SortKey): number {
  if (a.group !== b.group) return a.group - b.group;
  return a.text < b.text ? -1 : a.text > b.text ? 1 : 0;
}

/** The items in display terms, sorted (see the module comment). Linear apart from the one sort. */
export function entriesOf(items: readonly DigestItem[], config: Config): Entry[] {
  const format = formatWithMemo(config);
  const keyed = items.map((item) => {
    const { event } = item;
    const entry: Entry = {
      item,
      id: event.listingId,
      title: listingTitle(event, config),
      changes: item.signals.map((s) => changeOf(s, event, config, format)),
    };
    return { entry, key: sortKey(event.listingId) };
  });
  keyed.sort((a, b) => compareKeys(a.key, b.key));
  return keyed.map((k) => k.entry);
}
