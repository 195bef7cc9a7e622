/**
 * normalize: a decoded Debezium envelope -> a ChangeEvent (pure). Follows Debezium's PostgreSQL event
 * semantics (https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-events):
 * - op c/u/d/r/t; `source.snapshot` other than "false" marks snapshot reads;
 * - a primary-key UPDATE arrives as delete(old key, header __debezium.newkey) + tombstone +
 *   create(new key, header __debezium.oldkey);
 * - with REPLICA IDENTITY DEFAULT the before image is absent, or carries only the key columns (the
 *   others null): then before is null and beforeComplete false — the previous values are unknown, and
 *   nothing downstream guesses them.
 * Throws NotifierError('NORMALIZE_FAILED') for an envelope no row change can look like.
 */
import type { ChangeEvent, ChangeOp, ChangeSource, ColumnValue, Row } from '../domain/change.ts';
import { NotifierError } from '../domain/errors.ts';
import type { Decoded } from './decode/index.ts';
import { parseJsonExact } from './decode/json.ts';
import { plain } from './decode/values.ts';

const OPS: Record<string, ChangeOp> = { c: 'create', u: 'update', d: 'delete', r: 'read', t: 'truncate' };

/** Debezium's key-change headers (RelationalChangeRecordEmitter.PK_UPDATE_*_FIELD). */
export const NEW_KEY_HEADER = '__debezium.newkey';
export const OLD_KEY_HEADER = '__debezium.oldkey';

/** Columns tried, in order, for the listing id when the record has no key. */
const ID_COLUMNS = ['id', 'listing_id', 'lst_id'];

const fail = (message: string, details: Record<string, unknown> = {}): never => {
  throw new NotifierError('NORMALIZE_FAILED', message, { details });
};

export function normalize(decoded: Extract<Decoded, { kind: 'envelope' }>): ChangeEvent {
  const { envelope, headers } = decoded;
  const op =
    OPS[envelope.op] ?? fail(`unknown Debezium op ${JSON.stringify(envelope.op)} (expected c, u, d, r or t)`);
  if ((op === 'create' || op === 'read' || op === 'update') && envelope.after === null) {
    fail(`op "${envelope.op}" without an after image`, { op: envelope.op });
  }
  const key = envelope.key;
  const before = op === 'create' || op === 'read' ? null : completeBefore(envelope.before, key);
  const event: ChangeEvent = {
    op,
    source: sourceOf(envelope.source, op),
    key,
    listingId: listingIdOf(key, envelope.after ?? envelope.before),
    before,
    beforeComplete: before !== null,
    after: op === 'delete' || op === 'truncate' ? null : envelope.after,
  };
  const keyChange = keyChangeOf(op, headers);
  if (keyChange !== undefined) event.keyChange = keyChange;
  if (envelope.tsMs !== undefined) event.tsMs = envelope.tsMs;
  return event;
}

/**
 * The before image when it is a full row, else null. Key-only images (REPLICA IDENTITY DEFAULT on a
 * delete, or a sparse image) have no non-null value outside the key columns.
 */
function completeBefore(before: Row | null, key: Row | null): Row | null {
  if (before === null) return null;
  for (const column of Object.keys(before)) {
    if (before[column] !== null && (key === null || !Object.hasOwn(key, column))) return before;
  }
  return null;
}

function sourceOf(source: Record<string, unknown>, op: ChangeOp): ChangeSource {
  const out: ChangeSource = {
    // "true", "first", "last", "first_in_data_collection", "last_in_data_collection", "incremental": a snapshot.
    snapshot:
      op === 'read' ||
      (source.snapshot !== undefined && source.snapshot !== 'false' && source.snapshot !== false),
  };
  for (const name of ['connector', 'db', 'schema', 'table'] as const) {
    const value = source[name];
    if (typeof value === 'string') out[name] = value;
  }
  const tsMs = sourceTsMsOf(source);
  if (tsMs !== undefined) out.tsMs = tsMs;
  return out;
}

/** source.ts_ms (the commit in the database) as a number, when it is one. */
export function sourceTsMsOf(source: Record<string, unknown>): number | undefined {
  const tsMs = Number(source.ts_ms);
  return source.ts_ms !== undefined && source.ts_ms !== null && Number.isFinite(tsMs) ? tsMs : undefined;
}

/** A column value as text for ids: "42", "9007199254740993", "a1b2-…". */
function text(value: ColumnValue | undefined): string | null {
  if (value === null || value === undefined) return null;
  const p = plain(value);
  return typeof p === 'string' ? p : JSON.stringify(p);
}

/** The listing id: the key's only column (or its id column), else the row's id column. */
export function listingIdOf(key: Row | null, row: Row | null): string | null {
  if (key !== null) {
    const columns = Object.keys(key);
    if (columns.length === 1) return text(key[columns[0] as string]);
    for (const c of ID_COLUMNS) if (c in key) return text(key[c]);
    if (columns.length > 1) return columns.map((c) => text(key[c])).join(',');
  }
  if (row !== null) for (const c of ID_COLUMNS) if (c in row) return text(row[c]);
  return null;
}

function keyChangeOf(op: ChangeOp, headers: Record<string, string>): ChangeEvent['keyChange'] {
  const newKey = headers[NEW_KEY_HEADER];
  if (op === 'delete' && newKey !== undefined)
    return { role: 'old-key-deleted', otherKey: keyHeaderId(newKey) };
  const oldKey = headers[OLD_KEY_HEADER];
  if ((op === 'create' || op === 'read') && oldKey !== undefined) {
    return { role: 'new-key-created', otherKey: keyHeaderId(oldKey) };
  }
  return undefined;
}

/**
 * The id in a key header. Its text depends on the worker's header.converter: JSON ({"id":7}, or
 * {"schema":…,"payload":{"id":7}}), or SimpleHeaderConverter's struct text. Unrecognised text is
 * returned as it is, so it is still shown rather than lost.
 */
export function keyHeaderId(header: string): string | null {
  const trimmed = header.trim();
  if (trimmed === '' || trimmed === 'null') return null;
  let parsed: unknown;
  try {
    parsed = parseJsonExact(trimmed);
  } catch {
    const struct = /^Struct\{(.*)\}$/.exec(trimmed);
    if (struct === null) return trimmed;
    const fields = (struct[1] ?? '').split(',').map((f) => f.split('=').slice(1).join('='));
    return fields.length === 1 ? (fields[0] ?? null) : fields.join(',');
  }
  if (isObject(parsed) && 'payload' in parsed && 'schema' in parsed) parsed = parsed.payload;
  if (isObject(parsed)) {
    const values = Object.entries(parsed);
    if (values.length === 1) return scalarText(values[0]?.[1]);
    const id = ID_COLUMNS.find((c) => c in parsed);
    return id === undefined ? values.map(([, v]) => scalarText(v)).join(',') : scalarText(parsed[id]);
  }
  return scalarText(parsed);
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function scalarText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'object' && 'source' in value) return String(value.source);
  return typeof value === 'string' ? value : JSON.stringify(value);
}
