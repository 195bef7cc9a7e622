/**
 * Hostile change records for property tests (issue 19): Debezium envelopes as JsonConverter writes them
 * for `public.listings`, with extra columns of every Connect type and logical type (values that fit
 * their schema, and values that do not), jsonb nested thousands deep, huge arrays, long numbers,
 * strings starting with NUL, schemas mutated at a random place, schemaless and non-JSON bytes, and
 * tombstones. Half of the updates change only unwatched columns (the noise fast path), the others the
 * price too (the full path, a message).
 *
 * `hostileRecord` gives the bytes; the unit test (test/unit/pipeline/hostile.test.ts) runs them through
 * the pipeline, the service test (test/integration/service/hostile.test.ts) through the real service.
 */
import fc from 'fast-check';
import type { ConnectSchema } from '../../src/pipeline/decode/connect-schema.ts';
import {
  decimalBase64,
  envelopeSchema,
  jsonText,
  keySchema,
  listingRowSchema,
  makeRow,
  makeSource,
} from './records.ts';

export interface HostileRecord {
  /** What the generator meant (for failure messages). */
  kind: string;
  key: Buffer | null;
  value: Buffer | null;
}

/** A column of a type, with generators of values that fit it. */
interface ColumnType {
  schema: Omit<ConnectSchema, 'field'>;
  fits: fc.Arbitrary<unknown>;
}

const base64 = fc.uint8Array({ maxLength: 24 }).map((b) => Buffer.from(b).toString('base64'));
const int = (min: number, max: number) => fc.integer({ min, max });
/** int64 beyond 2^53 too, written as bare numbers ("raw:" is jsonText's escape for them). */
const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((n) => `raw:${n}`);
const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom(
    '\u0000',
    '\u0000123',
    '\u0000\u0000x',
    '<!channel>',
    '\u202Eevil',
    '__debezium_unavailable_value',
  ),
);
const deepJsonText = fc
  .tuple(fc.integer({ min: 1, max: 20_000 }), fc.constantFrom('[', '{"a":'), fc.boolean())
  .map(([depth, open, complete]) => {
    const close = open === '[' ? ']' : '}';
    return `${open.repeat(depth)}1${complete ? close.repeat(depth) : ''}`;
  });

const primitives: ColumnType[] = [
  { schema: { type: 'int8', optional: true }, fits: int(-128, 127) },
  { schema: { type: 'int16', optional: true }, fits: int(-32768, 32767) },
  { schema: { type: 'int32', optional: true }, fits: fc.integer() },
  { schema: { type: 'int64', optional: true }, fits: int64 },
  { schema: { type: 'float32', optional: true }, fits: fc.float({ noDefaultInfinity: true, noNaN: true }) },
  {
    schema: { type: 'float64', optional: true },
    fits: fc.oneof(fc.double({ noDefaultInfinity: true, noNaN: true }), fc.constantFrom('NaN', 'Infinity')),
  },
  { schema: { type: 'boolean', optional: true }, fits: fc.boolean() },
  { schema: { type: 'string', optional: true }, fits: text },
  { schema: { type: 'bytes', optional: true }, fits: base64 },
];

const logicals: ColumnType[] = [
  {
    schema: {
      type: 'bytes',
      optional: true,
      name: 'org.apache.kafka.connect.data.Decimal',
      parameters: { scale: '2' },
    },
    fits: fc.integer({ min: -1e9, max: 1e9 }).map((n) => decimalBase64((n / 100).toFixed(2), 2)),
  },
  {
    schema: {
      type: 'struct',
      optional: true,
      name: 'io.debezium.data.VariableScaleDecimal',
      fields: [
        { field: 'scale', type: 'int32', optional: false },
        { field: 'value', type: 'bytes', optional: false },
      ],
    },
    fits: fc.record({ scale: int(0, 30), value: base64 }),
  },
  { schema: { type: 'int32', optional: true, name: 'io.debezium.time.Date' }, fits: int(-1e6, 1e6) },
  {
    schema: { type: 'int32', optional: true, name: 'org.apache.kafka.connect.data.Date' },
    fits: int(-1e6, 1e6),
  },
  { schema: { type: 'int32', optional: true, name: 'io.debezium.time.Time' }, fits: int(0, 86_399_999) },
  { schema: { type: 'int64', optional: true, name: 'io.debezium.time.MicroTime' }, fits: int64 },
  { schema: { type: 'int64', optional: true, name: 'io.debezium.time.NanoTime' }, fits: int64 },
  { schema: { type: 'int64', optional: true, name: 'io.debezium.time.Timestamp' }, fits: int64 },
  { schema: { type: 'int64', optional: true, name: 'io.debezium.time.MicroTimestamp' }, fits: int64 },
  { schema: { type: 'int64', optional: true, name: 'io.debezium.time.NanoTimestamp' }, fits: int64 },
  { schema: { type: 'int64', optional: true, name: 'org.apache.kafka.connect.data.Timestamp' }, fits: int64 },
  {
    schema: { type: 'string', optional: true, name: 'io.debezium.time.ZonedTimestamp' },
    fits: fc.oneof(
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      text,
    ),
  },
  { schema: { type: 'string', optional: true, name: 'io.debezium.time.ZonedTime' }, fits: text },
  {
    schema: { type: 'string', optional: true, name: 'io.debezium.data.Json' },
    fits: fc.oneof(fc.json(), deepJsonText, text),
  },
  {
    schema: { type: 'bytes', optional: true, name: 'io.debezium.data.Bits', parameters: { length: '9' } },
    fits: base64,
  },
  { schema: { type: 'string', optional: true, name: 'io.debezium.data.Enum' }, fits: text },
  { schema: { type: 'string', optional: true, name: 'io.debezium.data.Uuid' }, fits: fc.uuid() },
  { schema: { type: 'int32', optional: true, name: 'io.debezium.time.Year' }, fits: int(1900, 2200) },
];

const containers: ColumnType[] = [
  {
    schema: { type: 'array', optional: true, items: { type: 'int32', optional: true } },
    fits: fc.oneof(
      fc.array(fc.integer(), { maxLength: 8 }),
      // Huge arrays: tens of thousands of elements (the record stays under Kafka's 1 MB default).
      fc.integer({ min: 10_000, max: 40_000 }).map((n) => Array.from({ length: n }, (_, i) => i)),
    ),
  },
  {
    schema: {
      type: 'map',
      optional: true,
      keys: { type: 'string', optional: false },
      values: { type: 'string', optional: true },
    },
    fits: fc.dictionary(fc.string({ maxLength: 6 }), fc.option(text), { maxKeys: 4 }),
  },
  {
    schema: {
      type: 'struct',
      optional: true,
      name: 'nested',
      fields: [
        { field: 'a', type: 'int32', optional: true },
        { field: 'b', type: 'string', optional: true },
      ],
    },
    fits: fc.record({ a: fc.option(fc.integer()), b: fc.option(text) }),
  },
];

const columnTypes = [...primitives, ...logicals, ...containers];

/** A value for a column: usually one that fits, sometimes any JSON at all (a contradiction). */
const valueFor = (t: ColumnType): fc.Arbitrary<unknown> =>
  fc.oneof(
    { weight: 4, arbitrary: t.fits },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
    {
      weight: 1,
      arbitrary: fc.constant(null),
    },
  );

interface ExtraColumn {
  schema: ConnectSchema;
  before: unknown;
  after: unknown;
}

const extraColumn = (name: string): fc.Arbitrary<ExtraColumn> =>
  fc.constantFrom(...columnTypes).chain((t) =>
    fc.tuple(valueFor(t), valueFor(t), fc.boolean()).map(([before, after, same]) => ({
      schema: { ...t.schema, field: name } as ConnectSchema,
      before,
      after: same ? before : after,
    })),
  );

const keyOf = (listingId: number): Buffer =>
  Buffer.from(jsonText({ schema: keySchema, payload: { lst_id: listingId } }));

/**
 * An update of the listing with up to four extra columns of any type; `priceChange` makes it a full
 * path record with a message, otherwise only unwatched columns differ (the fast path's case).
 */
const envelopeRecord = (listingId: number): fc.Arbitrary<HostileRecord> =>
  fc
    .tuple(
      fc.tuple(extraColumn('x0'), extraColumn('x1'), extraColumn('x2'), extraColumn('x3')),
      fc.integer({ min: 0, max: 4 }),
      fc.boolean(),
      text,
    )
    .map(([all, count, priceChange, title]) => {
      const extras = all.slice(0, count);
      const row = listingRowSchema('monolith.public.listings.Value', true);
      row.fields = [...(row.fields ?? []), ...extras.map((e) => e.schema)];
      const plain = { lst_id: listingId, lst_ttl: title };
      const before = makeRow({
        ...plain,
        ...Object.fromEntries(extras.map((e) => [e.schema.field, e.before])),
      });
      const after = makeRow({
        ...plain,
        etl_batch_id: 7,
        ...(priceChange ? { prc_amt: decimalBase64('11.11', 2) } : {}),
        ...Object.fromEntries(extras.map((e) => [e.schema.field, e.after])),
      });
      const payload = { before, after, source: makeSource(), op: 'u', ts_ms: 1_795_873_507_456 };
      const kinds = extras.map(
        (e) => `${e.schema.type}${e.schema.name === undefined ? '' : `:${e.schema.name}`}`,
      );
      return {
        kind: `${priceChange ? 'full' : 'fast'} path update [${kinds.join(', ')}]`,
        key: keyOf(listingId),
        value: Buffer.from(jsonText({ schema: envelopeSchema(row), payload })),
      };
    });

/** Every place in a JSON value (as a path of keys and indices), up to a depth. */
function paths(
  value: unknown,
  depth = 7,
  prefix: Array<string | number> = [],
): Array<Array<string | number>> {
  const out: Array<Array<string | number>> = [prefix];
  if (depth === 0 || typeof value !== 'object' || value === null) return out;
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  for (const [k, v] of entries) out.push(...paths(v, depth - 1, [...prefix, k]));
  return out;
}

/** A valid update with one place of its schema or payload replaced by anything, or removed. */
const mutatedRecord = (listingId: number): fc.Arbitrary<HostileRecord> =>
  fc
    .tuple(fc.nat(), fc.option(fc.jsonValue({ maxDepth: 2 })), fc.boolean())
    .map(([at, replacement, inSchema]) => {
      const payload = {
        before: makeRow({ lst_id: listingId }),
        after: makeRow({ lst_id: listingId, etl_batch_id: 3 }),
        source: makeSource(),
        op: 'u',
        ts_ms: 1_795_873_507_456,
      };
      // A deep copy: envelopeSchema shares its source schema with every other record.
      const whole: Record<string, unknown> = structuredClone({ schema: envelopeSchema(), payload });
      const all = paths(inSchema ? whole.schema : whole.payload).filter((p) => p.length > 0);
      const path = all[at % all.length] ?? [];
      let parent: Record<string | number, unknown> = (inSchema ? whole.schema : whole.payload) as Record<
        string,
        unknown
      >;
      for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
      const last = path.at(-1) as string | number;
      if (replacement === null && !Array.isArray(parent)) delete parent[last];
      else parent[last] = replacement;
      return {
        kind: `mutated ${inSchema ? 'schema' : 'payload'} at ${path.join('.')}`,
        key: keyOf(listingId),
        value: Buffer.from(jsonText(whole)),
      };
    });

/** A schema and value nested `depth` arrays deep: JSON.parse copes, recursive readers do not. */
const deepStructRecord = (listingId: number): fc.Arbitrary<HostileRecord> =>
  fc.integer({ min: 1_000, max: 12_000 }).map((depth) => {
    const row = listingRowSchema('monolith.public.listings.Value', true);
    row.fields = [...(row.fields ?? []), { field: 'deep', type: 'string', optional: true, name: 'DEEP' }];
    const payload = {
      before: makeRow({ lst_id: listingId, deep: 'DEEP_VALUE' }),
      after: makeRow({ lst_id: listingId, deep: 'DEEP_VALUE', etl_batch_id: 9 }),
      source: makeSource(),
      op: 'u',
      ts_ms: 1_795_873_507_456,
    };
    const schema = `${'{"type":"array","optional":true,"items":'.repeat(depth)}{"type":"int32"}${'}'.repeat(depth)}`;
    const value = `${'['.repeat(depth)}1${']'.repeat(depth)}`;
    const textOf = jsonText({ schema: envelopeSchema(row), payload })
      .replaceAll(
        '{"field":"deep","type":"string","optional":true,"name":"DEEP"}',
        `{"field":"deep",${schema.slice(1)}`,
      )
      .replaceAll('"DEEP_VALUE"', value);
    return { kind: `struct nested ${depth} deep`, key: keyOf(listingId), value: Buffer.from(textOf) };
  });

const oddRecord = (listingId: number): fc.Arbitrary<HostileRecord> =>
  fc.oneof(
    fc
      .uint8Array({ maxLength: 64 })
      .map((b) => ({ kind: 'random bytes', key: keyOf(listingId), value: Buffer.from(b) })),
    fc.constant({ kind: 'tombstone', key: keyOf(listingId), value: null }),
    fc.jsonValue({ maxDepth: 3 }).map((v) => ({
      kind: 'schemaless JSON',
      key: keyOf(listingId),
      value: Buffer.from(JSON.stringify(v) ?? 'null'),
    })),
    fc.jsonValue({ maxDepth: 2 }).map((v) => ({
      kind: 'hostile key',
      key: Buffer.from(JSON.stringify(v) ?? ''),
      value: Buffer.from(
        jsonText({
          schema: envelopeSchema(),
          payload: {
            before: makeRow(),
            after: makeRow({ sync_flg: true }),
            source: makeSource(),
            op: 'u',
            ts_ms: 1,
          },
        }),
      ),
    })),
    fc.constant({ kind: 'no key', key: null, value: Buffer.from('{"schema":null,"payload":null}') }),
  );

/** A failing case is reported by its kind and size, not by its (up to a megabyte of) bytes. */
const labelled = (r: HostileRecord): HostileRecord =>
  Object.assign(r, {
    [fc.toStringMethod]: () =>
      `${r.kind} (${r.value?.length ?? 0} bytes: ${r.value?.toString('utf8', 0, 300)})`,
  });

/** One hostile record about `listingId` (a listing that exists only in these records). */
export const hostileRecord = (listingId: number): fc.Arbitrary<HostileRecord> =>
  fc
    .oneof(
      { weight: 5, arbitrary: envelopeRecord(listingId) },
      { weight: 3, arbitrary: mutatedRecord(listingId) },
      { weight: 1, arbitrary: deepStructRecord(listingId) },
      { weight: 2, arbitrary: oddRecord(listingId) },
    )
    .map(labelled);
