/**
 * Message building for flood control (the MessageComposer port, src/ports/index.ts): delivery holds a
 * listing's change while its message waits, folds a later change into it (the net change: first
 * before -> last after) and folds overflow into digests. Everything here is pure and reads the config
 * it was made with, so a rules reload reaches folded messages too.
 */
import type { Config } from '../config/index.ts';
import type { ChangeEvent, Row } from '../domain/change.ts';
import type { MessageComposer } from '../ports/index.ts';
import { diff, equalValues } from './diff.ts';
import { buildDigest, type DigestItem } from './digest/index.ts';
import { significance } from './filter.ts';
import { render } from './render.ts';
import { type Route, route } from './route.ts';

/** The columns any message reads: the configured fields, their currency columns, the title. */
export function columnsRead(config: Config): Set<string> {
  const columns = new Set<string>();
  for (const field of Object.values(config.fields)) {
    columns.add(field.column);
    if (field.kind === 'money' && field.currencyColumn !== null) columns.add(field.currencyColumn);
  }
  if (config.listing.titleColumn !== null) columns.add(config.listing.titleColumn);
  return columns;
}

const project = (row: Row | null, columns: Set<string>): Row | null => {
  if (row === null) return null;
  const out: Row = {};
  for (const column of columns) if (column in row) out[column] = row[column] ?? null;
  return out;
};

/** The columns every kept change needs whether or not they changed: the title and currency columns. */
export function contextColumns(config: Config): Set<string> {
  const columns = new Set<string>();
  for (const field of Object.values(config.fields)) {
    if (field.kind === 'money' && field.currencyColumn !== null) columns.add(field.currencyColumn);
  }
  if (config.listing.titleColumn !== null) columns.add(config.listing.titleColumn);
  return columns;
}

/**
 * An update with a complete before image, cut to the read columns that changed plus the context
 * columns (unchanged ones hold the after's value on both sides: one copy). A folded change waits in
 * memory until its digest goes out, and a digest may hold 100,000 of them: a watched text column
 * (description) kept twice per change was 1.2 kB of the 4.7 kB each folded record held (issue 16).
 * Left-out columns did not change, so diff() sees no change in them; net() below merges per column.
 */
function compactUpdate(event: ChangeEvent, columns: Set<string>, context: Set<string>): ChangeEvent {
  const before: Row = {};
  const after: Row = {};
  const b = event.before ?? {};
  const a = event.after ?? {};
  for (const column of columns) {
    if (!(column in a)) continue;
    const next = a[column] ?? null;
    const previous = column in b ? (b[column] ?? null) : undefined;
    if (previous !== undefined && equalValues(previous, next)) {
      if (!context.has(column)) continue;
      before[column] = next;
    } else if (previous !== undefined) {
      before[column] = previous;
    }
    after[column] = next;
  }
  const { tsMs, snapshot } = event.source;
  return {
    ...event,
    source: tsMs === undefined ? { snapshot } : { tsMs, snapshot },
    before,
    after,
  };
}

/** The route of `event` to `channelKey`, or null when nothing in it goes there. */
export function routeTo(event: ChangeEvent, channelKey: string, config: Config): Route | null {
  const verdict = significance(event, diff(event), config);
  if (!verdict.significant) return null;
  return route(event, verdict.signals, config).routes.find((r) => r.channelKey === channelKey) ?? null;
}

export function createComposer(config: () => Config): MessageComposer {
  // Once per rules in effect, not per event.
  const columnsByConfig = new WeakMap<Config, { read: Set<string>; context: Set<string> }>();
  const columnsOf = (rules: Config): { read: Set<string>; context: Set<string> } => {
    let columns = columnsByConfig.get(rules);
    if (columns === undefined) {
      columns = { read: columnsRead(rules), context: contextColumns(rules) };
      columnsByConfig.set(rules, columns);
    }
    return columns;
  };
  return {
    slim(event) {
      const { read, context } = columnsOf(config());
      if (event.op === 'update' && event.beforeComplete && event.before !== null && event.after !== null) {
        return compactUpdate(event, read, context);
      }
      return { ...event, before: project(event.before, read), after: project(event.after, read) };
    },

    net(first, last) {
      // Only updates combine: a create or a delete is news of its own.
      if (first.op !== 'update' || last.op !== 'update') return null;
      if (first.keyChange !== undefined || last.keyChange !== undefined) return null;
      // Per column, the first before and the last after (slim changes carry only what changed: a
      // column changed in `first` alone keeps its after from there).
      const before =
        first.before === null || last.before === null ? first.before : { ...last.before, ...first.before };
      const after =
        first.after === null || last.after === null ? last.after : { ...first.after, ...last.after };
      return { ...last, before, after, beforeComplete: first.beforeComplete };
    },

    single(event, channelKey) {
      const r = routeTo(event, channelKey, config());
      if (r === null) return null;
      const route = { rules: r.rules, channelKey };
      return {
        payload: render({ event, signals: r.signals, config: config(), route }),
        priority: r.priority,
      };
    },

    digest(channelKey, events, options) {
      const items: DigestItem[] = [];
      for (const event of events) {
        const r = routeTo(event, channelKey, config());
        if (r !== null) items.push({ event, signals: r.signals, rules: r.rules });
      }
      if (items.length === 0) return null;
      return buildDigest({ channelKey, items, config: config(), ...options });
    },
  };
}
