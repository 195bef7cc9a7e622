/**
 * Counts per rule, field and direction, with the median percent move where there is one:
 * "price moved: 1,240 price changes: 1,200 down, median -15%; 40 up, median +3%".
 *
 * Directions come from the signal's condition: down/up (decreased/increased), low, ran out, recovered
 * for stock, "Active → Unpublished" for status transitions (the codes' words from the config),
 * changed/removed for text and instants, new/deleted for listings, and "previous value unknown" when
 * the update carried no before image.
 *
 * A signal counts under every rule of this channel that matches it (route.ts `matches`), so a rule's
 * counts are exactly what that rule sent here; an item whose rules cannot be matched again (input that
 * did not come from route()) counts under the rule names it carries.
 */
import type { Config, RuleConfig } from '../../config/index.ts';
import { amountOf } from '../amount.ts';
import { codeOf, textOf } from '../columns.ts';
import { matches, ruleName } from '../route.ts';
import { ARROW, type Entry, type EntryChange } from './entries.ts';

export interface DirectionCount {
  key: string;
  /** Unescaped words: "down", "Active → Unpublished". */
  label: string;
  count: number;
  /** Median move in percent (money and quantity up/down), else null. */
  medianPercent: number | null;
}

export interface FieldCount {
  /** The field's key, or '' for listing-level signals. */
  key: string;
  label: string;
  count: number;
  directions: DirectionCount[];
}

export interface RuleCount {
  rule: string;
  count: number;
  fields: FieldCount[];
}

/** Fixed directions in reading order; status transitions sit between recovered and changed. */
const rank: Record<string, number> = {
  down: 0,
  up: 1,
  low: 2,
  out: 3,
  recovered: 4,
  changed: 6,
  removed: 7,
  created: 8,
  deleted: 9,
  unknown: 10,
};
const TRANSITION_RANK = 5;

interface Direction {
  key: string;
  label: string;
}

function directionOf(change: EntryChange): Direction {
  const { signal, field } = change;
  if (signal.condition === 'created') return { key: 'created', label: 'new' };
  if (signal.condition === 'deleted') return { key: 'deleted', label: 'deleted' };
  if (signal.change?.beforeUnknown) return { key: 'unknown', label: 'previous value unknown' };
  switch (signal.condition) {
    case 'decreased':
      return { key: 'down', label: 'down' };
    case 'increased':
      return { key: 'up', label: 'up' };
    case 'low':
      // "ran out" as single messages say it (human.ts) when the stock reached 0.
      return amountOf(signal.change?.after)?.units === 0n
        ? { key: 'out', label: 'ran out' }
        : { key: 'low', label: 'low' };
    case 'recovered':
      return { key: 'recovered', label: 'recovered' };
    default:
      break;
  }
  if (field?.kind === 'code') {
    const from = codeOf(signal.change?.before);
    const to = codeOf(signal.change?.after);
    // \u0000 cannot occur in a sanitized label, so keys of different transitions never collide.
    return { key: `t\u0000${from}\u0000${to}`, label: `${change.before}${ARROW}${change.after}` };
  }
  if (field?.kind === 'text' && textOf(signal.change?.after) === null)
    return { key: 'removed', label: 'removed' };
  return { key: 'changed', label: 'changed' };
}

const rankOf = (key: string): number => rank[key] ?? TRANSITION_RANK;

export function median(sorted: readonly number[]): number | null {
  if (sorted.length === 0) return null;
  const mid = sorted.length >> 1;
  const hi = sorted[mid] as number;
  return sorted.length % 2 === 1 ? hi : ((sorted[mid - 1] as number) + hi) / 2;
}

interface DirAcc extends Direction {
  count: number;
  percents: number[];
}
interface FieldAcc {
  key: string;
  label: string;
  count: number;
  order: number;
  directions: Map<string, DirAcc>;
}
interface RuleAcc {
  rule: string;
  order: number;
  /** Items counted, so an item with two signals under one rule counts once in the rule's total. */
  count: number;
  fields: Map<string, FieldAcc>;
}

/** The rules of `channelKey` by name, in config order, for matching signals again. */
function channelRules(config: Config, channelKey: string): Map<string, { rule: RuleConfig; order: number }> {
  const byName = new Map<string, { rule: RuleConfig; order: number }>();
  config.rules.forEach((rule, i) => {
    const name = ruleName(rule, i);
    if (rule.channels.includes(channelKey) && !byName.has(name)) byName.set(name, { rule, order: i });
  });
  return byName;
}

export function tally(entries: readonly Entry[], channelKey: string, config: Config): RuleCount[] {
  const known = channelRules(config, channelKey);
  const fieldOrder = new Map(Object.keys(config.fields).map((k, i) => [k, i]));
  const rules = new Map<string, RuleAcc>();
  const ruleAcc = (name: string): RuleAcc => {
    let acc = rules.get(name);
    if (acc === undefined) {
      // Config rules in config order, then "unmatched", then any other name.
      const order = known.get(name)?.order ?? (name === 'unmatched' ? 1e6 : 2e6);
      acc = { rule: name, order, count: 0, fields: new Map() };
      rules.set(name, acc);
    }
    return acc;
  };

  for (const entry of entries) {
    const { item } = entry;
    const counted = new Set<string>();
    for (const change of entry.changes) {
      let names = item.rules.filter((name) => {
        const rule = known.get(name)?.rule;
        return rule !== undefined && matches(rule, change.signal, item.event, config);
      });
      if (names.length === 0) names = item.rules.length > 0 ? item.rules : ['(no rule)'];
      const direction = directionOf(change);
      for (const name of names) {
        const r = ruleAcc(name);
        if (!counted.has(name)) {
          counted.add(name);
          r.count += 1;
        }
        const fieldKey = change.fieldKey ?? '';
        let f = r.fields.get(fieldKey);
        if (f === undefined) {
          const order = change.fieldKey === null ? -1 : (fieldOrder.get(fieldKey) ?? 1e6);
          f = { key: fieldKey, label: change.label, count: 0, order, directions: new Map() };
          r.fields.set(fieldKey, f);
        }
        f.count += 1;
        let d = f.directions.get(direction.key);
        if (d === undefined) {
          d = { ...direction, count: 0, percents: [] };
          f.directions.set(direction.key, d);
        }
        d.count += 1;
        if ((direction.key === 'down' || direction.key === 'up') && change.hundredths !== null)
          d.percents.push(Number(change.hundredths) / 100);
      }
    }
  }

  const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...rules.values()]
    .sort((a, b) => a.order - b.order || byText(a.rule, b.rule))
    .map((r) => ({
      rule: r.rule,
      count: r.count,
      fields: [...r.fields.values()]
        .sort((a, b) => a.order - b.order || byText(a.key, b.key))
        .map((f) => ({
          key: f.key,
          label: f.label,
          count: f.count,
          directions: [...f.directions.values()]
            .sort(
              (a, b) =>
                rankOf(a.key) - rankOf(b.key) ||
                // Transitions: the most frequent first.
                b.count - a.count ||
                byText(a.key, b.key),
            )
            .map((d) => ({
              key: d.key,
              label: d.label,
              count: d.count,
              medianPercent: median(d.percents.sort((x, y) => x - y)),
            })),
        })),
    }));
}
