/**
 * Records for pipeline tests: `makeRecord` builds a Kafka record the way Debezium's PostgreSQL connector
 * with JsonConverter (schemas on) writes one for `public.listings`, with overrides at every level;
 * `loadFixture` reads a captured case from test/fixtures/debezium/<case>/ (meta.json + the exact bytes).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SourceRecord } from '../../src/domain/record.ts';
import type { ConnectSchema } from '../../src/pipeline/decode/connect-schema.ts';
import { bytesFromUnscaled, parseDecimal } from '../../src/pipeline/decode/decimal.ts';

export const FIXTURES_DIR = new URL('../fixtures/debezium/', import.meta.url).pathname;

/** Connect Decimal bytes as JsonConverter writes them (base64), for `decimal` at `scale`. */
export function decimalBase64(decimal: string, scale: number): string {
  const parsed = parseDecimal(decimal);
  if (parsed === undefined || parsed.scale > scale) throw new Error(`${decimal} does not fit scale ${scale}`);
  return bytesFromUnscaled(parsed.unscaled * 10n ** BigInt(scale - parsed.scale)).toString('base64');
}

const field = (name: string, schema: Omit<ConnectSchema, 'field'>): ConnectSchema => ({
  ...schema,
  field: name,
});

/** The listings row schema as Debezium 3.x writes it (decimal.handling.mode=precise, time.precision.mode=adaptive). */
export const listingRowSchema = (name: string, optional: boolean): ConnectSchema => ({
  type: 'struct',
  optional,
  name,
  fields: [
    field('lst_id', { type: 'int64', optional: false }),
    field('LST_STAT_CD', { type: 'string', optional: false }),
    field('lst_ttl', { type: 'string', optional: false }),
    field('description', { type: 'string', optional: true }),
    field('prc_amt', {
      type: 'bytes',
      optional: false,
      name: 'org.apache.kafka.connect.data.Decimal',
      version: 1,
      parameters: { scale: '2', 'connect.decimal.precision': '12' },
    }),
    field('crncy_cd', { type: 'string', optional: false }),
    field('prod_stk_qty', { type: 'int32', optional: false }),
    field('ctgy_cd', { type: 'string', optional: false }),
    field('upd_ts', { type: 'string', optional: false, name: 'io.debezium.time.ZonedTimestamp', version: 1 }),
    field('audit_usr_id', { type: 'int32', optional: true }),
    field('sync_flg', { type: 'boolean', optional: false }),
    field('etl_batch_id', { type: 'int64', optional: true }),
  ],
});

export const sourceSchema: ConnectSchema = {
  type: 'struct',
  name: 'io.debezium.connector.postgresql.Source',
  optional: false,
  fields: [
    field('version', { type: 'string', optional: false }),
    field('connector', { type: 'string', optional: false }),
    field('name', { type: 'string', optional: false }),
    field('ts_ms', { type: 'int64', optional: false }),
    field('snapshot', {
      type: 'string',
      optional: true,
      name: 'io.debezium.data.Enum',
      version: 1,
      parameters: {
        allowed: 'true,first,first_in_data_collection,last_in_data_collection,last,false,incremental',
      },
    }),
    field('db', { type: 'string', optional: false }),
    field('schema', { type: 'string', optional: false }),
    field('table', { type: 'string', optional: false }),
    field('txId', { type: 'int64', optional: true }),
    field('lsn', { type: 'int64', optional: true }),
    field('ts_ns', { type: 'int64', optional: true }),
  ],
};

export const envelopeSchema = (
  row: ConnectSchema = listingRowSchema('monolith.public.listings.Value', true),
): ConnectSchema => ({
  type: 'struct',
  optional: false,
  name: 'monolith.public.listings.Envelope',
  version: 2,
  fields: [
    { ...row, field: 'before' },
    { ...row, field: 'after' },
    { ...sourceSchema, field: 'source' },
    field('op', { type: 'string', optional: false }),
    field('ts_ms', { type: 'int64', optional: true }),
  ],
});

export const keySchema: ConnectSchema = {
  type: 'struct',
  optional: false,
  name: 'monolith.public.listings.Key',
  fields: [field('lst_id', { type: 'int64', optional: false })],
};

/** A listings row as JsonConverter writes it (price as Decimal base64). Overrides win. */
export function makeRow(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    lst_id: 1,
    LST_STAT_CD: 'A',
    lst_ttl: 'Ergonomic Office Chair, Mesh Back',
    description: 'Breathable mesh, adjustable lumbar support.',
    prc_amt: decimalBase64('19.99', 2),
    crncy_cd: 'EUR',
    prod_stk_qty: 12,
    ctgy_cd: 'FURN',
    upd_ts: '2026-11-22T13:45:07.123456Z',
    audit_usr_id: 7,
    sync_flg: false,
    etl_batch_id: null,
    ...overrides,
  };
}

export function makeSource(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: '3.4.3.Final',
    connector: 'postgresql',
    name: 'monolith',
    ts_ms: 1_795_873_507_123,
    snapshot: 'false',
    db: 'monolith',
    schema: 'public',
    table: 'listings',
    txId: 771,
    lsn: 24_023_128,
    ts_ns: 'raw:1795873507123456000',
    ...overrides,
  };
}

/** A Debezium envelope payload: by default an update of listing 1's price 19.99 -> 17.99. */
export function makePayload(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    before: makeRow(),
    after: makeRow({ prc_amt: decimalBase64('17.99', 2) }),
    source: makeSource(),
    op: 'u',
    ts_ms: 1_795_873_507_456,
    ...overrides,
  };
}

/**
 * JSON text in which strings "raw:<number>" are written as bare numbers: ints above 2^53 (ts_ns,
 * bigint ids) and long decimals cannot pass through JSON.stringify as JS numbers.
 */
export function jsonText(value: unknown): string {
  return JSON.stringify(value).replace(/"raw:(-?\d+(?:\.\d+)?)"/g, '$1');
}

export interface MakeRecordOptions extends Partial<SourceRecord> {
  /** The envelope payload (default makePayload()); ignored when `value` is given. */
  payload?: Record<string, unknown> | null;
  /** The value schema; null writes schemaless JSON. Default envelopeSchema(). */
  schema?: ConnectSchema | null;
  /** The key payload (default { lst_id: payload.after/before lst_id }); null: no key. */
  keyPayload?: Record<string, unknown> | null;
}

export function makeRecord(options: MakeRecordOptions = {}): SourceRecord {
  const { payload = makePayload(), schema = envelopeSchema(), keyPayload, ...overrides } = options;
  const row = (payload?.after ?? payload?.before) as Record<string, unknown> | null | undefined;
  const keyValue = keyPayload === undefined ? { lst_id: row?.lst_id ?? 1 } : keyPayload;
  const value =
    payload === null ? null : Buffer.from(jsonText(schema === null ? payload : { schema, payload }));
  const key =
    keyValue === null
      ? null
      : Buffer.from(jsonText(schema === null ? keyValue : { schema: keySchema, payload: keyValue }));
  return {
    topic: 'monolith.public.listings',
    partition: 0,
    offset: '0',
    key,
    value,
    headers: {},
    timestamp: '1795873507500',
    ...overrides,
  };
}

// ---------------------------------------------------------------------------------------------------
// Captured fixtures

export interface FixtureRecordMeta {
  topic: string;
  partition: number;
  offset: string | number;
  timestamp: string | number;
  keyFile: string | null;
  valueFile: string | null;
  headers?: Record<string, string | null> | Array<{ key: string; value: string | null }> | null;
}

export interface FixtureMeta {
  case: string;
  description: string;
  settings: Record<string, unknown>;
  records: FixtureRecordMeta[];
}

export interface Fixture {
  meta: FixtureMeta;
  records: SourceRecord[];
}

/** The MariaDB source's captured cases (scripts/capture-fixtures.ts --mariadb). */
export const MARIADB_FIXTURES_DIR = new URL('../fixtures/debezium-mariadb/', import.meta.url).pathname;

/** The names of the captured cases (folders holding a meta.json). */
export function fixtureCases(dir: string = FIXTURES_DIR): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, 'meta.json')))
    .map((d) => d.name)
    .sort();
}

function headersOf(headers: FixtureRecordMeta['headers']): SourceRecord['headers'] {
  const out: SourceRecord['headers'] = {};
  if (headers === null || headers === undefined) return out;
  const entries = Array.isArray(headers)
    ? headers.map((h) => [h.key, h.value] as const)
    : Object.entries(headers);
  for (const [name, value] of entries) out[name] = value === null ? undefined : Buffer.from(value);
  return out;
}

/** Reads test/fixtures/debezium/<name>/ into SourceRecords with the exact bytes Kafka carried. */
export function loadFixture(name: string, fixturesDir: string = FIXTURES_DIR): Fixture {
  const dir = join(fixturesDir, name);
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as FixtureMeta;
  const read = (file: string | null): Buffer | null => (file === null ? null : readFileSync(join(dir, file)));
  const records = meta.records.map(
    (r): SourceRecord => ({
      topic: r.topic,
      partition: r.partition,
      offset: String(r.offset),
      timestamp: String(r.timestamp),
      key: read(r.keyFile),
      value: read(r.valueFile),
      headers: headersOf(r.headers),
    }),
  );
  return { meta, records };
}
