/**
 * Avro for pipeline tests: the listings topic as Debezium's AvroConverter writes it, and a fake
 * SchemaRegistryPort that can be told to fail.
 */
import avro from 'avsc';
import { NotifierError } from '../../src/domain/errors.ts';
import type { RegistrySchema, SchemaRegistryPort } from '../../src/ports/index.ts';
import { decimalBase64 } from './records.ts';

// ---------------------------------------------------------------------------------------------------
// Avro, as Debezium's AvroConverter writes the listings topic (Kafka Connect AvroData: connect.name,
// connect.parameters, ["null", T] for optional fields, Value defined in `before` and referenced in `after`).

const optional = (type: unknown): { type: unknown[]; default: null } => ({
  type: ['null', type],
  default: null,
});

export const listingsKeyAvroSchema = {
  type: 'record',
  name: 'Key',
  namespace: 'monolith.public.listings',
  fields: [{ name: 'lst_id', type: 'long' }],
  'connect.name': 'monolith.public.listings.Key',
};

export const listingsAvroSchema = {
  type: 'record',
  name: 'Envelope',
  namespace: 'monolith.public.listings',
  fields: [
    {
      name: 'before',
      ...optional({
        type: 'record',
        name: 'Value',
        fields: [
          { name: 'lst_id', type: 'long' },
          { name: 'LST_STAT_CD', type: 'string' },
          { name: 'lst_ttl', type: 'string' },
          { name: 'description', ...optional('string') },
          {
            name: 'prc_amt',
            type: {
              type: 'bytes',
              scale: 2,
              precision: 12,
              'connect.version': 1,
              'connect.parameters': { scale: '2', 'connect.decimal.precision': '12' },
              'connect.name': 'org.apache.kafka.connect.data.Decimal',
              logicalType: 'decimal',
            },
          },
          { name: 'crncy_cd', type: 'string' },
          { name: 'prod_stk_qty', type: 'int' },
          { name: 'ctgy_cd', type: 'string' },
          {
            name: 'upd_ts',
            type: { type: 'string', 'connect.version': 1, 'connect.name': 'io.debezium.time.ZonedTimestamp' },
          },
          { name: 'audit_usr_id', ...optional('int') },
          { name: 'sync_flg', type: 'boolean' },
          { name: 'etl_batch_id', ...optional('long') },
        ],
        'connect.name': 'monolith.public.listings.Value',
      }),
    },
    { name: 'after', ...optional('Value') },
    {
      name: 'source',
      type: {
        type: 'record',
        name: 'Source',
        namespace: 'io.debezium.connector.postgresql',
        fields: [
          { name: 'version', type: 'string' },
          { name: 'connector', type: 'string' },
          { name: 'name', type: 'string' },
          { name: 'ts_ms', type: 'long' },
          {
            name: 'snapshot',
            type: [
              {
                type: 'string',
                'connect.version': 1,
                'connect.parameters': {
                  allowed:
                    'true,first,first_in_data_collection,last_in_data_collection,last,false,incremental',
                },
                'connect.default': 'false',
                'connect.name': 'io.debezium.data.Enum',
              },
              'null',
            ],
            default: 'false',
          },
          { name: 'db', type: 'string' },
          { name: 'sequence', ...optional('string') },
          { name: 'ts_us', ...optional('long') },
          { name: 'ts_ns', ...optional('long') },
          { name: 'schema', type: 'string' },
          { name: 'table', type: 'string' },
          { name: 'txId', ...optional('long') },
          { name: 'lsn', ...optional('long') },
          { name: 'xmin', ...optional('long') },
        ],
        'connect.name': 'io.debezium.connector.postgresql.Source',
      },
    },
    {
      name: 'transaction',
      ...optional({
        type: 'record',
        name: 'block',
        namespace: 'event',
        fields: [
          { name: 'id', type: 'string' },
          { name: 'total_order', type: 'long' },
          { name: 'data_collection_order', type: 'long' },
        ],
        'connect.version': 1,
        'connect.name': 'event.block',
      }),
    },
    { name: 'op', type: 'string' },
    { name: 'ts_ms', ...optional('long') },
    { name: 'ts_us', ...optional('long') },
    { name: 'ts_ns', ...optional('long') },
  ],
  'connect.version': 2,
  'connect.name': 'monolith.public.listings.Envelope',
};

/** A listings row as Avro carries it: Decimal as a Buffer (unscaled, big-endian), longs as bigint. */
export function makeAvroRow(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    lst_id: 1n,
    LST_STAT_CD: 'A',
    lst_ttl: 'Ergonomic Office Chair, Mesh Back',
    description: 'Breathable mesh, adjustable lumbar support.',
    prc_amt: Buffer.from(decimalBase64('19.99', 2), 'base64'),
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

/** A Debezium update envelope for Avro: listing 1's price 19.99 -> 17.99 by default. */
export function makeAvroEnvelope(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    before: makeAvroRow(),
    after: makeAvroRow({ prc_amt: Buffer.from(decimalBase64('17.99', 2), 'base64') }),
    source: {
      version: '3.4.3.Final',
      connector: 'postgresql',
      name: 'monolith',
      ts_ms: 1_795_873_507_123n,
      snapshot: 'false',
      db: 'monolith',
      sequence: '["24023040","24023128"]',
      ts_us: 1_795_873_507_123_456n,
      ts_ns: 1_795_873_507_123_456_000n,
      schema: 'public',
      table: 'listings',
      txId: 771n,
      lsn: 24_023_128n,
      xmin: null,
    },
    transaction: null,
    op: 'u',
    ts_ms: 1_795_873_507_456n,
    ts_us: null,
    ts_ns: null,
    ...overrides,
  };
}

/** avsc long as bigint both ways, so test data can carry ts_ns exactly. */
const bigintLong = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
  toBuffer: (n: bigint | number) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(BigInt(n));
    return buf;
  },
  fromJSON: (n: unknown) => BigInt(n as string),
  toJSON: (n: bigint) => n.toString(),
  isValid: (n: unknown) => typeof n === 'bigint' || Number.isInteger(n),
  compare: (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0),
});

/** An avsc typeHook that reads and writes Avro longs as bigint (ts_ns and NanoTimestamp pass 2^53). */
export const bigintLongTypeHook = (schema: unknown): avro.Type | undefined =>
  schema === 'long' ||
  (typeof schema === 'object' && schema !== null && (schema as { type?: unknown }).type === 'long')
    ? bigintLong
    : undefined;

export const avroType = (schema: unknown): avro.Type =>
  avro.Type.forSchema(schema as avro.Schema, { typeHook: bigintLongTypeHook });

export interface FakeRegistry extends SchemaRegistryPort {
  /** Registers an Avro schema and returns its id (ids start at 1, like a fresh registry). */
  register(schema: unknown): number;
  /** Confluent wire format: magic byte 0, the id, the Avro body. */
  encode(id: number, value: unknown): Buffer;
  /** The next `count` calls (decode or rawSchema) reject with `error`. */
  failNext(count: number, error: unknown): void;
  calls: { decode: number; rawSchema: number };
}

/** An in-memory schema registry speaking the port, with scripted failures (STYLE habit 4). */
export function makeFakeRegistry(options: { withRawSchema?: boolean } = {}): FakeRegistry {
  const schemas = new Map<number, { text: string; type: avro.Type }>();
  let failures: { count: number; error: unknown } = { count: 0, error: undefined };
  const maybeFail = (): void => {
    if (failures.count > 0) {
      failures.count -= 1;
      throw failures.error;
    }
  };
  const lookup = (id: number) =>
    schemas.get(id) ??
    (() => {
      throw new NotifierError('SCHEMA_NOT_FOUND', `schema id ${id} is not in the fake registry`);
    })();
  const registry: FakeRegistry = {
    calls: { decode: 0, rawSchema: 0 },
    register(schema) {
      const id = schemas.size + 1;
      schemas.set(id, { text: JSON.stringify(schema), type: avroType(schema) });
      return id;
    },
    encode(id, value) {
      const header = Buffer.alloc(5);
      header.writeUInt32BE(id, 1);
      return Buffer.concat([header, lookup(id).type.toBuffer(value)]);
    },
    failNext(count, error) {
      failures = { count, error };
    },
    async decode(buffer) {
      registry.calls.decode += 1;
      maybeFail();
      return lookup(buffer.readUInt32BE(1)).type.fromBuffer(buffer.subarray(5));
    },
  };
  if (options.withRawSchema !== false) {
    registry.rawSchema = async (id: number): Promise<RegistrySchema> => {
      registry.calls.rawSchema += 1;
      maybeFail();
      return { type: 'AVRO', schema: lookup(id).text };
    };
  }
  return registry;
}
