/**
 * The noise fast path: most change events of the listings table touch only columns no field watches
 * (upd_ts, etl_batch_id, sync_flg, ...). Decoding such an event fully (JSON.parse of ~18 kB with the
 * full before image, then every column through its Connect schema) costs ~150 µs and says only
 * "insignificant". This module looks at the raw bytes instead (no string copy of the record, no
 * parse: native searches for quotes and memcmp of column spans): when no watched column differs
 * between before and after, it returns the very Outcome decideRecord's full path gives
 * ("insignificant: only unwatched columns changed (etl_batch_id)", with listingId and sourceTsMs);
 * otherwise it returns undefined and the full path decides. It never decides anything else.
 *
 * It applies only to JsonConverter records with schemas (`{"schema":…,"payload":{"before":{…},
 * "after":{…},…}}`, compact, as Connect writes them: https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-update-events)
 * whose op is "u", whose before image is complete, whose key decodes, whose topic has no column
 * renames (source.columns), and whose columns appear in
 * the order of the row schema. Anything else (schemaless, Confluent-framed, TOAST placeholders, a
 * control record, a malformed envelope) goes to the full path, which also dead-letters what is broken.
 *
 * Why it gives the same answer: decoding is a function of (column schema, column JSON text), so a
 * column whose before and after texts are byte-identical decodes to equal values and is not in the
 * diff. Columns whose texts differ are all unwatched (else: full path) and are decoded alone, with the
 * same converter, to tell a real change from a different spelling. The row schema is read and checked
 * once per distinct schema text (cached). A byte-identical column of a logical type or of bytes is
 * converted too, and so is one of an array, map or struct (its value must agree with its schema: the
 * full path dead-letters a contradiction even in an unchanged column); an integer column's literal is
 * checked whole (textMatches). What is not checked: a byte-identical plain column (string, number,
 * boolean) is not decoded, only its JSON type is compared with its schema's; likewise the source
 * block's fields are type-checked by their first character, not converted, and the characters inside
 * string literals outside the changed columns are not checked for JSON validity (Connect's Jackson
 * writer never emits invalid JSON). test/unit/pipeline/noise.test.ts holds the two paths equal over
 * the captured fixtures
 * and generated records.
 */
import type { Config } from '../config/index.ts';
import type { ColumnValue, Row } from '../domain/change.ts';
import type { Outcome, OutcomeContext } from '../domain/outcome.ts';
import type { SourceRecord } from '../domain/record.ts';
import { isUnavailable } from './columns.ts';
import { type ConnectSchema, fieldOf } from './decode/connect-schema.ts';
import type { DecimalColumns } from './decode/decimal.ts';
import { envelopeFrom } from './decode/envelope.ts';
import { decodeKey } from './decode/index.ts';
import { parseJsonExact } from './decode/json.ts';
import { convertStruct } from './decode/logical.ts';
import {
  LBRACE,
  LBRACKET,
  nestedEnd,
  QUOTE,
  RBRACE,
  type RecordSchema,
  recordSchema,
  SCHEMA_HEAD,
  startsAt,
  stringEnd,
} from './decode/record-schema.ts';
import { equalValues } from './diff.ts';
import { listingIdOf } from './normalize.ts';

const COMMA = 44;

const PAYLOAD_HEAD = Buffer.from(',"payload":{"before":{');
const AFTER_HEAD = Buffer.from(',"after":{');
/** Names JavaScript orders first in an object (array indices): Row key order would differ. */
const INDEX_LIKE = /^(0|[1-9]\d*)$/;

/** Characters of JSON numbers and of true, false, null. */
const isScalarByte = (c: number): boolean =>
  (c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46 || (c >= 97 && c <= 122) || c === 69;

/** The end (exclusive) of the JSON value starting at `i`, or -1. */
function valueEnd(b: Buffer, i: number): number {
  const c = b[i];
  if (c === QUOTE) return stringEnd(b, i);
  if (c === LBRACE || c === LBRACKET) return nestedEnd(b, i);
  let j = i;
  while (j < b.length && isScalarByte(b[j] as number)) j += 1;
  return j === i ? -1 : j;
}

/** What a column's JSON text must start with, by Connect type (a cheap check of unconverted values). */
function typeMatches(type: ConnectSchema['type'], first: number): boolean {
  switch (type) {
    case 'string':
    case 'bytes':
      return first === QUOTE;
    case 'boolean':
      return first === 116 /* t */ || first === 102; /* f */
    case 'struct':
    case 'map':
      return first === LBRACE;
    case 'array':
      return first === LBRACKET;
    default:
      // numbers (ints, float, double): digits or '-'
      return (first >= 48 && first <= 57) || first === 45;
  }
}

/** Number literals shorter than this are never read as exact numbers (decode/json.ts's MIN_SUSPECT_LENGTH). */
const MIN_SUSPECT_LENGTH = 16;

/**
 * Whether an unconverted value's text [s, e) agrees with its schema's type as the full path's
 * conversion would (decode/logical.ts, convertPlain): the first character for most types; an int64
 * must be an integer literal (the full path refuses 1.5 and 1e+33 there), an int8..int32 literal short
 * enough to be read as a plain number (a longer one may come back exact, which they refuse). Found by
 * the hostile-record property test (issue 19). What this cannot vouch for goes to the full path.
 */
function textMatches(type: ConnectSchema['type'], b: Buffer, s: number, e: number): boolean {
  if (!typeMatches(type, b[s] as number)) return false;
  if (type === 'int8' || type === 'int16' || type === 'int32') return e - s < MIN_SUSPECT_LENGTH;
  if (type !== 'int64') return true;
  for (let i = b[s] === 45 ? s + 1 : s; i < e; i += 1)
    if ((b[i] as number) < 48 || (b[i] as number) > 57) return false;
  return e > (b[s] === 45 ? s + 1 : s);
}

const isContainer = (type: ConnectSchema['type']): boolean =>
  type === 'array' || type === 'map' || type === 'struct';

const isNullAt = (b: Buffer, s: number, e: number): boolean =>
  e - s === 4 && b[s] === 110 && b[s + 1] === 117 && b[s + 2] === 108 && b[s + 3] === 108;

/** A field name this reader cannot match byte for byte, or that JavaScript would reorder. */
const badName = (n: string): boolean => INDEX_LIKE.test(n) || n.includes('\\') || n.includes('"');
const head = (name: string): Buffer => Buffer.from(`"${name}":`);

/** A row schema read once per distinct schema text. */
interface SchemaInfo {
  /** The schema's JSON text as it sits in the record. */
  bytes: Buffer;
  envelope: ConnectSchema;
  /** The row's fields, in order (before and after have the same). */
  fields: ConnectSchema[];
  names: string[];
  /** `"name":` of each field. */
  heads: Buffer[];
  /** The payload's fields after `after` (source, transaction, op, ts_ms, …) and their heads. */
  restHeads: Buffer[];
  opIndex: number;
  sourceIndex: number;
  /** The source block's fields, their heads, and where ts_ms is among them (-1: absent). */
  sourceFields: ConnectSchema[];
  sourceHeads: Buffer[];
  tsMsIndex: number;
  /** Per config: which fields' columns are watched. */
  watched: WeakMap<Config, boolean[]>;
}

/** Per schema seen in records (decode/record-schema.ts), its row layout; null: not one the fast path reads. */
const infos = new WeakMap<RecordSchema, SchemaInfo | null>();

function schemaInfoOf(b: Buffer): SchemaInfo | undefined {
  const found = recordSchema(b);
  if (found === undefined || !startsAt(b, found.end, PAYLOAD_HEAD)) return undefined;
  let info = infos.get(found.entry);
  if (info === undefined) {
    info = layoutOf(found.entry) ?? null;
    infos.set(found.entry, info);
  }
  return info ?? undefined;
}

function layoutOf(entry: RecordSchema): SchemaInfo | undefined {
  const envelope = entry.schema;
  if (typeof envelope === 'string' || envelope.type !== 'struct') return undefined;
  // Heartbeats, schema changes, transaction metadata: the full path says so.
  const probe = { op: 'u', before: null, after: null, source: null };
  if (envelopeFrom(probe, envelope, 'probe').kind !== 'envelope') return undefined;
  const before = fieldOf(envelope, 'before');
  const after = fieldOf(envelope, 'after');
  const source = fieldOf(envelope, 'source');
  if (before?.type !== 'struct' || after?.type !== 'struct' || before.fields === undefined) return undefined;
  // JsonConverter writes every field, in schema order: before, after, then the rest.
  const envelopeNames = (envelope.fields ?? []).map((f) => f.field as string);
  const restNames = envelopeNames.slice(2);
  if (envelopeNames[0] !== 'before' || envelopeNames[1] !== 'after') return undefined;
  if (source?.type !== 'struct' || !restNames.includes('op')) return undefined;
  if ([...envelopeNames, ...(source.fields ?? []).map((f) => f.field as string)].some(badName))
    return undefined;
  const fields = before.fields;
  const names = fields.map((f) => f.field as string);
  if (names.length === 0 || new Set(names).size !== names.length) return undefined;
  if (names.some(badName)) return undefined;
  if (JSON.stringify(after.fields) !== JSON.stringify(fields)) return undefined;
  const info: SchemaInfo = {
    bytes: entry.bytes,
    envelope,
    fields,
    names,
    heads: names.map(head),
    restHeads: restNames.map(head),
    opIndex: restNames.indexOf('op'),
    sourceIndex: restNames.indexOf('source'),
    sourceFields: source.fields ?? [],
    sourceHeads: (source.fields ?? []).map((f) => head(f.field as string)),
    tsMsIndex: (source.fields ?? []).findIndex((f) => f.field === 'ts_ms'),
    watched: new WeakMap(),
  };
  return info;
}

function watchedOf(info: SchemaInfo, config: Config): boolean[] {
  let flags = info.watched.get(config);
  if (flags === undefined) {
    const columns = new Set<string>();
    for (const field of Object.values(config.fields)) {
      columns.add(field.column);
      if (field.kind === 'money' && field.currencyColumn !== null) columns.add(field.currencyColumn);
    }
    flags = info.names.map((n) => columns.has(n));
    info.watched.set(config, flags);
  }
  return flags;
}

/** An object member read in place by readRow: the source block inside the payload. */
interface Inner {
  index: number;
  heads: Buffer[];
  spans: Int32Array;
}

/**
 * Reads one object whose '{' is at `open` (or the rest of one, from a ','), checking its members are
 * exactly `heads` in order; fills `spans` with each value's start and end, reading member
 * `inner.index` as an object of its own. Returns the index just past its '}', or -1.
 */
function readRow(b: Buffer, open: number, heads: Buffer[], spans: Int32Array, inner?: Inner): number {
  let i = open + 1;
  for (let k = 0; k < heads.length; k += 1) {
    const head = heads[k] as Buffer;
    if (!startsAt(b, i, head)) return -1;
    i += head.length;
    const end =
      inner !== undefined && k === inner.index
        ? b[i] === LBRACE
          ? readRow(b, i, inner.heads, inner.spans)
          : -1
        : valueEnd(b, i);
    if (end < 0) return -1;
    spans[2 * k] = i;
    spans[2 * k + 1] = end;
    if (b[end] !== (k === heads.length - 1 ? RBRACE : COMMA)) return -1;
    i = end + 1;
  }
  return i;
}

/**
 * Scratch space for value spans, reused from record to record (nothing keeps it: dropNoise returns
 * plain values), so that a record costs no typed-array allocations.
 */
let scratch = new Int32Array(256);
function spansFor(size: number, offset: number): Int32Array {
  if (scratch.length < offset + size) {
    const bigger = new Int32Array(2 * (offset + size));
    bigger.set(scratch);
    scratch = bigger;
  }
  return scratch.subarray(offset, offset + size);
}

/**
 * The payload's members after the after image (source, transaction, op, ts_ms, … in schema order, as
 * JsonConverter writes every field) up to the payload's '}', which must be followed by the record's
 * closing '}' and nothing else. op must be "u" and the source block's fields must have their schema's
 * JSON types. Returns source.ts_ms as the full path reads it (null: undefined), or false when the rest
 * is not as expected.
 */
function readRest(b: Buffer, afterClose: number, info: SchemaInfo): { tsMs: number | undefined } | false {
  const rest = spansFor(2 * info.restHeads.length, 4 * info.names.length);
  const source = spansFor(2 * info.sourceHeads.length, 4 * info.names.length + 2 * info.restHeads.length);
  const inner = { index: info.sourceIndex, heads: info.sourceHeads, spans: source };
  const end = readRow(b, afterClose, info.restHeads, rest, inner);
  if (end !== b.length - 1 || b[end] !== RBRACE) return false;
  const opAt = rest[2 * info.opIndex] as number;
  if (rest[2 * info.opIndex + 1] !== opAt + 3 || b[opAt] !== QUOTE || b[opAt + 1] !== 117 /* u */)
    return false;
  let tsMs: number | undefined;
  for (let k = 0; k < info.sourceFields.length; k += 1) {
    const s = source[2 * k] as number;
    const e = source[2 * k + 1] as number;
    if (isNullAt(b, s, e)) continue;
    if (!textMatches((info.sourceFields[k] as ConnectSchema).type, b, s, e)) return false;
    if (k === info.tsMsIndex) {
      for (let i = b[s] === 45 ? s + 1 : s; i < e; i += 1)
        if ((b[i] as number) < 48 || (b[i] as number) > 57) return false;
      tsMs = Number(b.toString('latin1', s, e));
    }
  }
  return { tsMs };
}

/** Decoded record keys by their text: keys repeat (one per listing) and are small. */
const keyCache = new Map<string, Row | null>();
const KEY_CACHE_SIZE = 4096;

function keyOf(bytes: Buffer): Row | null {
  const text = bytes.toString('latin1');
  let row = keyCache.get(text);
  if (row === undefined) {
    row = decodeKey(bytes);
    if (keyCache.size >= KEY_CACHE_SIZE) keyCache.clear();
    keyCache.set(text, row);
  }
  return row;
}

/**
 * The Outcome of a noise update (identical to the full path's), or undefined: not recognised as
 * noise, decide it fully.
 */
export function dropNoise(
  record: SourceRecord,
  config: Config,
  decimalColumns: DecimalColumns,
): Outcome | undefined {
  const b = record.value;
  if (b === null || b.length < 64 || record.key === null || !startsAt(b, 0, SCHEMA_HEAD)) return undefined;
  // A topic whose columns are renamed (source.columns) is decoded fully.
  if (config.source.columns[record.topic] !== undefined) return undefined;
  if (record.topic.startsWith('__debezium-heartbeat')) return undefined;
  const info = schemaInfoOf(b);
  if (info === undefined) return undefined;

  const n = info.names.length;
  const before = spansFor(2 * n, 0);
  const after = spansFor(2 * n, 2 * n);
  const beforeOpen = SCHEMA_HEAD.length + info.bytes.length + PAYLOAD_HEAD.length - 1;
  const beforeClose = readRow(b, beforeOpen, info.heads, before);
  if (beforeClose < 0 || !startsAt(b, beforeClose, AFTER_HEAD)) return undefined;
  const afterClose = readRow(b, beforeClose + AFTER_HEAD.length - 1, info.heads, after);
  if (afterClose < 0) return undefined;
  const watched = watchedOf(info, config);
  // A watched column whose texts differ means "not noise" whatever else holds: said before the rest is
  // read (a bulk of significant changes pays only for the two rows here; issue 16).
  for (let k = 0; k < n; k += 1) {
    if (!watched[k]) continue;
    const bs = before[2 * k] as number;
    const be = before[2 * k + 1] as number;
    const as = after[2 * k] as number;
    const ae = after[2 * k + 1] as number;
    if (be - bs !== ae - as || b.compare(b, as, ae, bs, be) !== 0) return undefined;
  }
  const rest = readRest(b, afterClose, info);
  if (rest === false) return undefined;

  let key: Row | null;
  try {
    key = keyOf(record.key);
  } catch {
    return undefined;
  }
  if (key === null || Object.keys(key).length === 0) return undefined;

  let complete = false;
  const changed: string[] = [];
  for (let k = 0; k < n; k += 1) {
    const name = info.names[k] as string;
    const field = info.fields[k] as ConnectSchema;
    const bs = before[2 * k] as number;
    const be = before[2 * k + 1] as number;
    const as = after[2 * k] as number;
    const ae = after[2 * k + 1] as number;
    const beforeNull = isNullAt(b, bs, be);
    if (!beforeNull && !Object.hasOwn(key, name)) complete = true;
    if (be - bs === ae - as && b.compare(b, as, ae, bs, be) === 0) {
      if (beforeNull) continue;
      if (!textMatches(field.type, b, bs, be)) return undefined;
      // A logical type (Decimal, timestamps, Json, ...), bytes, or a container (array, map, struct: its
      // elements have types of their own) is only valid if its text converts: the full path
      // dead-letters a record whose value contradicts its schema, even an unchanged one (an array of
      // strings in an int32 array column, a value nested deeper than the stack: issue 19).
      if (field.name !== undefined || field.type === 'bytes' || isContainer(field.type)) {
        try {
          const one: ConnectSchema = { type: 'struct', fields: [field] };
          convertStruct(
            one,
            { [name]: parseJsonExact(b.toString('utf8', bs, be)) },
            'before',
            decimalColumns,
          );
        } catch {
          return undefined;
        }
      }
      continue;
    }
    if (watched[k]) return undefined;
    // Texts differ: decode this column alone on both sides, as the full path would.
    let values: [ColumnValue | undefined, ColumnValue | undefined];
    try {
      const one: ConnectSchema = { type: 'struct', fields: [field] };
      const decode = (s: number, e: number, path: string) =>
        convertStruct(one, { [name]: parseJsonExact(b.toString('utf8', s, e)) }, path, decimalColumns)[name];
      values = [decode(bs, be, 'before'), decode(as, ae, 'after')];
    } catch {
      return undefined;
    }
    // TOAST placeholders: the full path's diff treats them apart (never a change / previous unknown).
    if (isUnavailable(values[0]) || isUnavailable(values[1])) return undefined;
    if (!equalValues(values[0], values[1])) changed.push(name);
  }
  if (!complete) return undefined;

  const context: OutcomeContext = {};
  const listingId = listingIdOf(key, null);
  if (listingId !== null) context.listingId = listingId;
  if (rest.tsMs !== undefined) context.sourceTsMs = rest.tsMs;
  const reason =
    changed.length === 0
      ? 'insignificant: no column changed (before and after are equal)'
      : `insignificant: only unwatched columns changed (${changed.join(', ')})`;
  return { kind: 'dropped', reason, ...context };
}
