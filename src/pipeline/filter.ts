/**
 * Significance: which of a change's column changes are worth a message. Only configured fields count;
 * each kind has its own condition (price moved enough, stock crossed its threshold, a watched status
 * transition, text that changed in more than whitespace). Everything else is dropped with a reason,
 * and a drop is a success (STYLE.md habit 2).
 *
 * Reasons read `<class>: <detail>`; the class (snapshot, insignificant, key-change, …) is a small fixed
 * set, fit for a metrics label, and the detail is for people.
 */
import type { Condition, Config, FieldConfig } from '../config/index.ts';
import type { ChangeEvent, FieldChange } from '../domain/change.ts';
import {
  type Amount,
  abs,
  amountOf,
  compareAmounts,
  formatAmount,
  movedByPercent,
  parseAmount,
  subtract,
} from './amount.ts';
import { codeOf, isUnavailable, labelOf, textOf } from './columns.ts';
import { sameWords } from './words.ts';

export interface Signal {
  /** The `fields` key, or null for listing-level signals (created, deleted). */
  field: string | null;
  condition: Condition;
  /** The column change behind the signal (null for created/deleted). */
  change: FieldChange | null;
}

export type Significance = { significant: true; signals: Signal[] } | { significant: false; reason: string };

/**
 * What the edge remembers of one listing (src/app/alert-memory.ts, with a store): per quantity field
 * key, the last stock alert announced. With it, "low" is not announced again until "recovered" was
 * (and "recovered" not again until "low"), however the stock wobbles between. Without it (no store, or
 * a listing never announced), the stateless rule: judged from the event's before and after alone.
 */
export type RememberedAlerts = Readonly<Record<string, 'low' | 'recovered'>>;

type Verdict = { signal: Signal } | { reason: string } | null;

interface ConfigFields {
  fields: ReadonlyArray<readonly [string, FieldConfig]>;
  /** Each field's column and a money field's currency column. */
  watched: ReadonlySet<string>;
}

/** Once per rules in effect, not per record (issue 16: significance runs for every record). */
const fieldsByConfig = new WeakMap<Config, ConfigFields>();
function fieldsOf(config: Config): ConfigFields {
  let known = fieldsByConfig.get(config);
  if (known === undefined) {
    const watched = new Set<string>();
    for (const field of Object.values(config.fields)) {
      watched.add(field.column);
      if (field.kind === 'money' && field.currencyColumn !== null) watched.add(field.currencyColumn);
    }
    known = { fields: Object.entries(config.fields), watched };
    fieldsByConfig.set(config, known);
  }
  return known;
}

/** A money field's minPercent and minAmount, parsed once per field (config values never change). */
const limitsByField = new WeakMap<FieldConfig, { minPercent: Amount | null; minAmount: Amount | null }>();
function limitsOf(field: Extract<FieldConfig, { kind: 'money' }>): {
  minPercent: Amount | null;
  minAmount: Amount | null;
} {
  let limits = limitsByField.get(field);
  if (limits === undefined) {
    limits = {
      minPercent: field.minPercent === null ? null : parseAmount(field.minPercent),
      minAmount: field.minAmount === null ? null : parseAmount(field.minAmount),
    };
    limitsByField.set(field, limits);
  }
  return limits;
}

export function significance(
  event: ChangeEvent,
  changes: FieldChange[],
  config: Config,
  remembered: RememberedAlerts = {},
): Significance {
  const drop = (reason: string): Significance => ({ significant: false, reason });
  if (event.keyChange !== undefined) {
    return drop(
      `key-change: primary key change (${event.keyChange.role}, other key ${event.keyChange.otherKey ?? 'unknown'}); not a listing change`,
    );
  }
  switch (event.op) {
    case 'read':
      return drop('snapshot: initial read of an existing row, not a change');
    case 'truncate':
      return drop('truncate: the table was truncated; there is no row to report');
    case 'create':
      return { significant: true, signals: [{ field: null, condition: 'created', change: null }] };
    case 'delete':
      return { significant: true, signals: [{ field: null, condition: 'deleted', change: null }] };
    case 'update':
      break;
  }

  if (!event.beforeComplete && config.previousUnknown === 'drop')
    return drop(
      'previous-unknown: update without a before image (REPLICA IDENTITY DEFAULT); previousUnknown is "drop"',
    );
  const byColumn = new Map<string, FieldChange>();
  for (const c of changes) byColumn.set(c.column, c);
  const signals: Signal[] = [];
  const reasons: string[] = [];
  const { fields, watched } = fieldsOf(config);
  for (const [key, field] of fields) {
    const verdict = judge(key, field, byColumn, event, remembered[key]);
    if (verdict === null) continue;
    if ('signal' in verdict) signals.push(verdict.signal);
    else reasons.push(verdict.reason);
  }
  if (signals.length > 0) return { significant: true, signals };
  if (reasons.length > 0) return drop(`insignificant: ${reasons.join('; ')}`);
  if (changes.length === 0) return drop('insignificant: no column changed (before and after are equal)');
  const others = changes
    .filter((c) => !watched.has(c.column) && !isUnavailable(c.after))
    .map((c) => c.column);
  return drop(
    others.length > 0
      ? `insignificant: only unwatched columns changed (${others.join(', ')})`
      : 'insignificant: no watched column changed',
  );
}

function judge(
  key: string,
  field: FieldConfig,
  byColumn: Map<string, FieldChange>,
  event: ChangeEvent,
  lastAlert: 'low' | 'recovered' | undefined,
): Verdict {
  let change = byColumn.get(field.column);
  if (field.kind === 'money' && change === undefined && field.currencyColumn !== null) {
    // Only the currency changed: still a different price.
    const currency = byColumn.get(field.currencyColumn);
    const amount = event.after?.[field.column];
    if (currency !== undefined && amount !== undefined && !isUnavailable(amount)) {
      const before = event.before?.[field.column];
      change = {
        column: field.column,
        before: currency.beforeUnknown ? undefined : before,
        after: amount,
        beforeUnknown: currency.beforeUnknown || before === undefined,
      };
    }
  }
  // A TOASTed column Debezium did not send is unchanged, never a change.
  if (change === undefined || isUnavailable(change.after)) return null;
  const unknown = change.beforeUnknown || isUnavailable(change.before);
  const c: FieldChange = unknown ? { ...change, before: undefined, beforeUnknown: true } : change;
  const signal = (condition: Condition): Verdict => ({ signal: { field: key, condition, change: c } });
  const label = labelOf(key, field);

  switch (field.kind) {
    case 'money':
      return judgeMoney(field, c, event, signal, label);
    case 'quantity':
      return remember(judgeQuantity(field, c, signal, label), lastAlert, label);
    case 'code': {
      const from = unknown ? null : codeOf(c.before);
      const to = codeOf(c.after);
      if (!unknown && from === to) return null;
      if (field.transitions.length === 0) return signal('changed');
      const hit = field.transitions.some(
        (t) =>
          (t.from === undefined ? true : from !== null && t.from.includes(from)) &&
          (t.to === undefined || (to !== null && t.to.includes(to))),
      );
      const shown = `${unknown ? '(previous value unknown)' : (from ?? 'none')} -> ${to ?? 'none'}`;
      return hit ? signal('changed') : { reason: `${label} ${shown} is not a watched transition` };
    }
    case 'text': {
      const before = textOf(c.before);
      const after = textOf(c.after);
      if (!unknown && before === after) return null;
      if (!unknown && field.ignoreWhitespace && before !== null && after !== null && sameWords(before, after))
        return { reason: `${label} changed only in whitespace` };
      return signal('changed');
    }
    case 'timestamp':
      return !unknown && textOf(c.before) === textOf(c.after) ? null : signal('changed');
  }
}

function judgeMoney(
  field: Extract<FieldConfig, { kind: 'money' }>,
  c: FieldChange,
  event: ChangeEvent,
  signal: (condition: Condition) => Verdict,
  label: string,
): Verdict {
  if (c.beforeUnknown) return signal('changed');
  const before = amountOf(c.before);
  const after = amountOf(c.after);
  const currencyOf = (row: ChangeEvent['after']) =>
    field.currencyColumn === null ? field.currency : (codeOf(row?.[field.currencyColumn]) ?? field.currency);
  const sameCurrency = currencyOf(event.before) === currencyOf(event.after);
  if (before === null || after === null || !sameCurrency) return signal('changed');
  const direction = compareAmounts(after, before);
  if (direction === 0) return null;
  const condition = direction > 0 ? 'increased' : 'decreased';
  const { minPercent, minAmount } = limitsOf(field);
  if (minPercent === null && minAmount === null) return signal(condition);
  if (minPercent !== null && movedByPercent(before, after, minPercent)) return signal(condition);
  const moved = abs(subtract(after, before));
  if (minAmount !== null && compareAmounts(moved, minAmount) >= 0) return signal(condition);
  const limits = [
    minPercent === null ? null : `${formatAmount(minPercent)}%`,
    minAmount === null ? null : formatAmount(minAmount),
  ].filter((x) => x !== null);
  return {
    reason: `${label} moved by ${formatAmount(moved)} (${formatAmount(before)} -> ${formatAmount(after)}), less than ${limits.join(' or ')}`,
  };
}

/** The stateless verdict, less an alert that repeats the last one announced for the listing. */
function remember(verdict: Verdict, lastAlert: 'low' | 'recovered' | undefined, label: string): Verdict {
  if (lastAlert === undefined || verdict === null || !('signal' in verdict)) return verdict;
  if (verdict.signal.condition !== lastAlert) return verdict;
  const next = lastAlert === 'low' ? 'recovered' : 'low';
  return { reason: `${label} ${lastAlert} was announced already; not again until ${next}` };
}

function judgeQuantity(
  field: Extract<FieldConfig, { kind: 'quantity' }>,
  c: FieldChange,
  signal: (condition: Condition) => Verdict,
  label: string,
): Verdict {
  const after = amountOf(c.after);
  const before = c.beforeUnknown ? null : amountOf(c.before);
  if (field.lowBelow === null) {
    if (before === null || after === null) return signal('changed');
    const direction = compareAmounts(after, before);
    return direction === 0 ? null : signal(direction > 0 ? 'increased' : 'decreased');
  }
  const low = { units: BigInt(field.lowBelow), scale: 0 };
  const recover = { units: BigInt(field.lowBelow + field.hysteresis), scale: 0 };
  if (after === null) return { reason: `${label} has no value` };
  const isLow = compareAmounts(after, low) < 0;
  if (c.beforeUnknown) {
    // previousUnknown: notify judges each field by its new value alone (as price and status are): a
    // stock below the low mark warns, since missing a sell-out is worse than hearing again on the next
    // update of that row (previousUnknown: drop is the way out). Above the mark nothing says the stock
    // was ever low, so "recovered" would fire for every healthy listing: dropped.
    if (isLow) return signal('low');
    return {
      reason: `${label} is ${formatAmount(after)} but its previous value is unknown: cannot tell whether it recovered to ${field.lowBelow + field.hysteresis}`,
    };
  }
  if (before === null)
    return isLow ? signal('low') : { reason: `${label} was empty, now ${formatAmount(after)}` };
  if (compareAmounts(before, after) === 0) return null;
  if (isLow && compareAmounts(before, low) >= 0) return signal('low');
  if (compareAmounts(after, recover) >= 0 && compareAmounts(before, recover) < 0) return signal('recovered');
  return {
    reason: `${label} ${formatAmount(before)} -> ${formatAmount(after)} crossed neither the low mark (below ${field.lowBelow}) nor the recovery mark (${field.lowBelow + field.hysteresis})`,
  };
}
