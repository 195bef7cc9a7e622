/**
 * Before images from what the service has seen (pure). Without REPLICA IDENTITY FULL (PostgreSQL) or
 * with binlog_row_image=MINIMAL (MariaDB/MySQL), Debezium's update events carry no before image, or one
 * of the key columns only (https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-replica-identity);
 * an unchanged TOASTed column arrives as `__debezium_unavailable_value`. The edge (src/app/last-values.ts)
 * keeps the last known values of the watched columns per listing; this module decides when an event
 * needs them, fills its before image from them, and says what the event teaches the store.
 *
 * Positions order entries: an entry is used only when it is older than the event (a replayed record
 * never takes its before image from its own or a later change) and a stored entry is replaced only by
 * a newer one (the store's put). PostgreSQL: source.lsn; MariaDB/MySQL: source.file, pos and row.
 */
import type { Config } from '../config/index.ts';
import type { ChangeEvent, ColumnValue, Row } from '../domain/change.ts';
import type { KnownValues, Learned } from '../domain/known-values.ts';
import type { DebeziumEnvelope } from './decode/index.ts';

export type { KnownValues, Learned };

/** The position of warm-start values: every change is newer, so warm values never replace one. */
export const WARM_POSITION = '0';

const pad = (n: bigint | number, width: number): string => n.toString().padStart(width, '0');

const integer = (v: unknown): bigint | undefined => {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === 'bigint' && v >= 0n) return v;
  if (typeof v === 'string' && /^\d{1,20}$/.test(v)) return BigInt(v);
  return undefined;
};

/** The change's position in the source's log, or undefined when its source block has none. */
export function positionOf(source: Record<string, unknown>): string | undefined {
  const lsn = integer(source.lsn);
  if (lsn !== undefined) return `pg:${pad(lsn, 20)}`;
  const pos = integer(source.pos);
  if (typeof source.file === 'string' && source.file !== '' && pos !== undefined)
    return `my:${source.file}:${pad(pos, 20)}:${pad(integer(source.row) ?? 0n, 10)}`;
  return undefined;
}

/** The columns the rules watch: each field's column and a money field's currency column. */
export function watchedColumns(config: Config): string[] {
  let columns = cache.get(config);
  if (columns === undefined) {
    const set = new Set<string>();
    for (const field of Object.values(config.fields)) {
      set.add(field.column);
      if (field.kind === 'money' && field.currencyColumn !== null) set.add(field.currencyColumn);
    }
    columns = [...set];
    cache.set(config, columns);
  }
  return columns;
}
const cache = new WeakMap<Config, string[]>();

const isUnavailable = (v: ColumnValue | undefined): boolean =>
  typeof v === 'object' && v !== null && v.type === 'unavailable';

/** A before image with no value outside the key columns (normalize.ts completeBefore). */
function keyOnly(before: Row | null, key: Row | null): boolean {
  if (before === null) return true;
  for (const column of Object.keys(before))
    if (!(key !== null && column in key) && before[column] !== null) return false;
  return true;
}

/**
 * An update whose before image lacks a watched column: none or a key-only image (DEFAULT, MINIMAL),
 * or a watched column Debezium did not send (unchanged TOAST). With FULL this is false and the store
 * is never read.
 */
export function lacksBefore(envelope: DebeziumEnvelope, watched: readonly string[]): boolean {
  if (envelope.op !== 'u') return false;
  if (keyOnly(envelope.before, envelope.key)) return true;
  return watched.some((c) => isUnavailable(envelope.before?.[c]));
}

/**
 * The envelope with its before image filled from `known` for the watched columns it lacks. `known`
 * must be older than the event (usable); columns `known` does not hold stay unknown ("previous
 * unknown" for that field). Unwatched columns of a key-only image stay absent.
 */
export function fillBefore(
  envelope: DebeziumEnvelope,
  known: KnownValues,
  watched: readonly string[],
): DebeziumEnvelope {
  // A key-only image's other columns are nulls that mean "not sent", not null values.
  const sparse = keyOnly(envelope.before, envelope.key);
  const base: Row = sparse ? { ...(envelope.key ?? {}) } : { ...envelope.before };
  let filled = false;
  for (const column of watched) {
    const value = known.values[column];
    if (value === undefined) continue;
    const current = base[column];
    if (current === undefined || isUnavailable(current)) {
      base[column] = value;
      filled = true;
    }
  }
  return filled ? { ...envelope, before: base } : envelope;
}

/** `known` is from before the event at `position` (a replayed record is not judged by later values). */
export const usable = (known: KnownValues | undefined, position: string | undefined): known is KnownValues =>
  known !== undefined && position !== undefined && known.position < position;

/**
 * What the store should hold after `event`: the watched columns' values (an unchanged TOAST column
 * keeps its known before value), {} after a delete; undefined when there is nothing to keep (no
 * listing id, no position, a truncate, or no watched value known).
 */
export function learnedOf(
  event: ChangeEvent,
  position: string | undefined,
  watched: readonly string[],
): Learned | undefined {
  if (event.listingId === null || position === undefined) return undefined;
  if (event.op === 'truncate') return undefined;
  if (event.op === 'delete') return { listingId: event.listingId, entry: { position, values: {} } };
  // Half of a primary-key change (delete + create): the create teaches the new key's values.
  const values: Row = {};
  for (const column of watched) {
    const after = event.after?.[column];
    const value = after === undefined || isUnavailable(after) ? event.before?.[column] : after;
    if (value !== undefined && !isUnavailable(value)) values[column] = value;
  }
  if (Object.keys(values).length === 0) return undefined;
  return { listingId: event.listingId, entry: { position, values } };
}

/** The store's text for an entry: position, a tab, the values as JSON. */
export const entryText = (entry: KnownValues): string => `${entry.position}\t${JSON.stringify(entry.values)}`;

/** The entry back from its text; undefined for text that is not one (a store written by something else). */
export function parseEntry(text: string): KnownValues | undefined {
  const tab = text.indexOf('\t');
  if (tab < 0) return undefined;
  try {
    const values = JSON.parse(text.slice(tab + 1)) as unknown;
    if (typeof values !== 'object' || values === null || Array.isArray(values)) return undefined;
    return { position: text.slice(0, tab), values: values as Row };
  } catch {
    return undefined;
  }
}
