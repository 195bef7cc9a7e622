/**
 * Message building for flood control (the MessageComposer port, src/ports/index.ts): delivery holds a
 * listing's change while its message waits, folds a later change into it (the net change: first
 * before -> last after) and folds overflow into digests. Everything here is pure and reads the config
 * it was made with, so a rules reload reaches folded messages too.
 */
import type { Config } from '../config/index.ts';
import type { ChangeEvent, Row } from '../domain/change.ts';
import type { MessageComposer } from '../ports/index.ts';
import { diff } from './diff.ts';
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

/** The route of `event` to `channelKey`, or null when nothing in it goes there. */
export function routeTo(event: ChangeEvent, channelKey: string, config: Config): Route | null {
  const verdict = significance(event, diff(event), config);
  if (!verdict.significant) return null;
  return route(event, verdict.signals, config).routes.find((r) => r.channelKey === channelKey) ?? null;
}

export function createComposer(config: () => Config): MessageComposer {
  // Once per rules in effect, not per event.
  const columnsByConfig = new WeakMap<Config, Set<string>>();
  const columnsOf = (rules: Config): Set<string> => {
    let columns = columnsByConfig.get(rules);
    if (columns === undefined) {
      columns = columnsRead(rules);
      columnsByConfig.set(rules, columns);
    }
    return columns;
  };
  return {
    slim(event) {
      const columns = columnsOf(config());
      return { ...event, before: project(event.before, columns), after: project(event.after, columns) };
    },

    net(first, last) {
      // Only updates combine: a create or a delete is news of its own.
      if (first.op !== 'update' || last.op !== 'update') return null;
      if (first.keyChange !== undefined || last.keyChange !== undefined) return null;
      return { ...last, before: first.before, beforeComplete: first.beforeComplete };
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
