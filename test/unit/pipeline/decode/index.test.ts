import { describe, expect, it } from 'vitest';
import { NotifierError } from '../../../../src/domain/errors.ts';
import { type Decoded, decodeRecord } from '../../../../src/pipeline/decode/index.ts';
import {
  listingsAvroSchema,
  listingsKeyAvroSchema,
  makeAvroEnvelope,
  makeFakeRegistry,
} from '../../../support/avro.ts';
import {
  decimalBase64,
  envelopeSchema,
  jsonText,
  makePayload,
  makeRecord,
  makeRow,
} from '../../../support/records.ts';

const envelopeOf = (decoded: Decoded) => {
  if (decoded.kind !== 'envelope') throw new Error(`expected an envelope, got ${decoded.kind}`);
  return decoded.envelope;
};

async function decodeError(promise: Promise<unknown>): Promise<NotifierError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(NotifierError);
    return error as NotifierError;
  }
  throw new Error('expected decodeRecord to throw');
}

describe('decodeRecord: JSON with schemas', () => {
  it('decodes an update with exact decimals, the key and the source block', async () => {
    const envelope = envelopeOf(await decodeRecord(makeRecord(), {}));
    expect(envelope.op).toBe('u');
    expect(envelope.before?.prc_amt).toEqual({ type: 'decimal', value: '19.99' });
    expect(envelope.after?.prc_amt).toEqual({ type: 'decimal', value: '17.99' });
    expect(envelope.after?.upd_ts).toEqual({ type: 'timestamp', iso: '2026-11-22T13:45:07.123456Z' });
    expect(envelope.after?.lst_ttl).toBe('Ergonomic Office Chair, Mesh Back');
    expect(envelope.key).toEqual({ lst_id: 1 });
    expect(envelope.tsMs).toBe(1_795_873_507_456);
    expect(envelope.source).toMatchObject({ table: 'listings', snapshot: 'false', ts_ms: 1_795_873_507_123 });
    // ts_ns passes 2^53: kept exact as text.
    expect(envelope.source.ts_ns).toBe('1795873507123456000');
  });

  it('turns the TOAST placeholder into unavailable', async () => {
    const payload = makePayload({ after: makeRow({ description: '__debezium_unavailable_value' }) });
    const envelope = envelopeOf(await decodeRecord(makeRecord({ payload }), {}));
    expect(envelope.after?.description).toEqual({ type: 'unavailable' });
  });

  it('keeps a bigint primary key exact', async () => {
    const payload = makePayload({ after: makeRow({ lst_id: 'raw:9007199254740993' }) });
    const record = makeRecord({ payload, keyPayload: { lst_id: 'raw:9007199254740993' } });
    const envelope = envelopeOf(await decodeRecord(record, {}));
    expect(envelope.key).toEqual({ lst_id: { type: 'decimal', value: '9007199254740993' } });
    expect(envelope.after?.lst_id).toEqual({ type: 'decimal', value: '9007199254740993' });
  });

  it('passes headers on as text', async () => {
    const record = makeRecord({
      headers: { '__debezium.newkey': Buffer.from('{"lst_id":2}'), other: 'x', none: undefined },
    });
    const decoded = await decodeRecord(record, {});
    expect(decoded.kind === 'envelope' && decoded.headers).toEqual({
      '__debezium.newkey': '{"lst_id":2}',
      other: 'x',
    });
  });

  it('a record without a key has key null', async () => {
    expect(envelopeOf(await decodeRecord(makeRecord({ keyPayload: null }), {})).key).toBeNull();
  });

  it('a {"schema": null, "payload": …} record decodes like schemaless JSON', async () => {
    const value = Buffer.from(jsonText({ schema: null, payload: makePayload() }));
    const envelope = envelopeOf(await decodeRecord(makeRecord({ value }), {}));
    expect(envelope.after?.prc_amt).toBe(decimalBase64('17.99', 2));
  });
});

describe('decodeRecord: JSON without schemas', () => {
  it('keeps JSON scalars, converts only what is unambiguous', async () => {
    const payload = makePayload({
      after: makeRow({
        description: '__debezium_unavailable_value',
        etl_batch_id: 'raw:9007199254740993',
        attrs: { scale: 2, value: decimalBase64('17.99', 2) },
        tags: ['a', 'b'],
      }),
    });
    const envelope = envelopeOf(await decodeRecord(makeRecord({ payload, schema: null }), {}));
    expect(envelope.after).toMatchObject({
      lst_id: 1,
      // Precise-mode Decimal without its schema: the base64 text, not a guess.
      prc_amt: decimalBase64('19.99', 2),
      upd_ts: '2026-11-22T13:45:07.123456Z',
      description: { type: 'unavailable' },
      etl_batch_id: { type: 'decimal', value: '9007199254740993' },
      attrs: { type: 'decimal', value: '17.99' },
      tags: { type: 'json', value: ['a', 'b'] },
    });
    expect(envelope.key).toEqual({ lst_id: 1 });
  });
});

describe('decodeRecord: what is skipped', () => {
  it('a null value is a tombstone', async () => {
    expect(await decodeRecord(makeRecord({ value: null }), {})).toEqual({ kind: 'tombstone' });
  });

  it.each([
    [
      'heartbeat topic',
      { topic: '__debezium-heartbeat.monolith', value: Buffer.from('{"ts_ms":1795873507123}') },
      'heartbeat',
    ],
    ['schemaless heartbeat', { value: Buffer.from('{"ts_ms":1795873507123}') }, 'heartbeat'],
    [
      'heartbeat by schema name',
      {
        value: Buffer.from(
          JSON.stringify({
            schema: {
              type: 'struct',
              name: 'io.debezium.connector.common.Heartbeat',
              fields: [{ type: 'int64', field: 'ts_ms' }],
            },
            payload: { ts_ms: 1 },
          }),
        ),
      },
      'heartbeat',
    ],
    [
      'transaction BEGIN',
      {
        topic: 'monolith.transaction',
        value: Buffer.from('{"status":"BEGIN","id":"571","event_count":null,"data_collections":null}'),
      },
      'transaction metadata',
    ],
    [
      'transaction by schema name',
      {
        value: Buffer.from(
          JSON.stringify({
            schema: {
              type: 'struct',
              name: 'io.debezium.connector.common.TransactionMetadataValue',
              fields: [],
            },
            payload: { status: 'END', id: '571' },
          }),
        ),
      },
      'transaction metadata',
    ],
    [
      'schema change',
      { value: Buffer.from('{"source":{},"ddl":"ALTER TABLE listings ADD c int","tableChanges":[]}') },
      'schema change',
    ],
    [
      'logical decoding message',
      { value: Buffer.from('{"op":"m","source":{},"message":{"prefix":"p","content":"AQ=="}}') },
      'logical decoding message',
    ],
  ])('%s is a control record', async (_label, overrides, reason) => {
    expect(await decodeRecord(makeRecord(overrides), {})).toEqual({ kind: 'control', reason });
  });
});

describe('decodeRecord: failures are DECODE_FAILED with a clear message', () => {
  it.each([
    ['not JSON', Buffer.from('hello'), /record value is neither JSON nor Confluent-framed/],
    ['empty bytes', Buffer.alloc(0), /record value is empty/],
    ['a JSON array', Buffer.from('[1,2]'), /expected a Debezium envelope object, got an array/],
    ['no op', Buffer.from('{"before":null,"after":{"a":1}}'), /no "op" field \(fields: before, after\)/],
    [
      'a bad schema',
      Buffer.from('{"schema":{"type":"nope"},"payload":{}}'),
      /schema\.type: expected a Connect type, got "nope"/,
    ],
  ])('%s', async (_label, value, message) => {
    const error = await decodeError(decodeRecord(makeRecord({ value }), {}));
    expect(error.code).toBe('DECODE_FAILED');
    expect(error.message).toMatch(message);
  });

  it('a wrongly typed column names its path', async () => {
    const payload = makePayload({ after: makeRow({ prod_stk_qty: 'many' }) });
    const error = await decodeError(decodeRecord(makeRecord({ payload }), {}));
    expect(error.code).toBe('DECODE_FAILED');
    expect(error.message).toBe('after.prod_stk_qty: expected int32, got string "many"');
  });

  it('a framed record without a registry says so', async () => {
    const value = Buffer.from([0, 0, 0, 0, 7, 2, 4]);
    const error = await decodeError(decodeRecord(makeRecord({ value }), {}));
    expect(error.code).toBe('DECODE_FAILED');
    expect(error.message).toMatch(
      /Confluent wire format \(magic byte 0, schema id 7\) but no schema registry is configured/,
    );
  });
});

describe('decodeRecord: Confluent-framed Avro through the registry port', () => {
  const setup = (options?: { withRawSchema?: boolean }) => {
    const registry = makeFakeRegistry(options);
    const keyId = registry.register(listingsKeyAvroSchema);
    const valueId = registry.register(listingsAvroSchema);
    return { registry, keyId, valueId };
  };

  it('converts with the writer schema: exact Decimal from the Buffer and its scale, bigint longs', async () => {
    const { registry, keyId, valueId } = setup();
    const record = makeRecord({
      key: registry.encode(keyId, { lst_id: 1n }),
      value: registry.encode(valueId, makeAvroEnvelope()),
    });
    const envelope = envelopeOf(await decodeRecord(record, { registry }));
    expect(envelope.op).toBe('u');
    expect(envelope.before?.prc_amt).toEqual({ type: 'decimal', value: '19.99' });
    expect(envelope.after?.prc_amt).toEqual({ type: 'decimal', value: '17.99' });
    expect(envelope.after?.lst_id).toBe(1);
    expect(envelope.after?.upd_ts).toEqual({ type: 'timestamp', iso: '2026-11-22T13:45:07.123456Z' });
    expect(envelope.after?.etl_batch_id).toBeNull();
    expect(envelope.key).toEqual({ lst_id: 1 });
    expect(envelope.source.ts_ns).toBe('1795873507123456000');
    expect(envelope.tsMs).toBe(1_795_873_507_456);
  });

  it('without rawSchema the Avro values are converted schemaless (Decimal stays bytes)', async () => {
    const { registry, valueId } = setup({ withRawSchema: false });
    const record = makeRecord({ keyPayload: null, value: registry.encode(valueId, makeAvroEnvelope()) });
    const envelope = envelopeOf(await decodeRecord(record, { registry }));
    expect(envelope.after?.prc_amt).toEqual({ type: 'bytes', base64: decimalBase64('17.99', 2) });
  });

  it('the TOAST placeholder arrives as text in Avro too', async () => {
    const { registry, valueId } = setup();
    const envelope = makeAvroEnvelope({
      after: { ...(makeAvroEnvelope().after as object), description: '__debezium_unavailable_value' },
    });
    const record = makeRecord({ keyPayload: null, value: registry.encode(valueId, envelope) });
    expect(envelopeOf(await decodeRecord(record, { registry })).after?.description).toEqual({
      type: 'unavailable',
    });
  });

  it.each([
    ['REGISTRY_UNAVAILABLE', new NotifierError('REGISTRY_UNAVAILABLE', 'registry down')],
    ['SCHEMA_NOT_FOUND', new NotifierError('SCHEMA_NOT_FOUND', 'schema id 2 is not in the registry')],
  ] as const)('a %s from the port passes through unchanged', async (code, failure) => {
    const { registry, valueId } = setup();
    registry.failNext(1, failure);
    const record = makeRecord({ keyPayload: null, value: registry.encode(valueId, makeAvroEnvelope()) });
    const error = await decodeError(decodeRecord(record, { registry }));
    expect(error.code).toBe(code);
    expect(error).toBe(failure);
  });

  it('any other failure from the port is DECODE_FAILED (dead-letter, not an endless retry)', async () => {
    const { registry, valueId } = setup();
    registry.failNext(1, new Error('truncated buffer'));
    const record = makeRecord({ keyPayload: null, value: registry.encode(valueId, makeAvroEnvelope()) });
    const error = await decodeError(decodeRecord(record, { registry }));
    expect(error.code).toBe('DECODE_FAILED');
    expect(error.message).toMatch(/record value \(schema id 2\) could not be decoded: truncated buffer/);
  });

  it('an unknown schema id is SCHEMA_NOT_FOUND', async () => {
    const { registry } = setup();
    const value = Buffer.from([0, 0, 0, 0, 99, 0]);
    const error = await decodeError(decodeRecord(makeRecord({ keyPayload: null, value }), { registry }));
    expect(error.code).toBe('SCHEMA_NOT_FOUND');
  });
});

describe('decodeRecord: a schema seen before is not parsed again, and the split never misreads', () => {
  const decodeValue = async (value: string) =>
    envelopeOf(await decodeRecord(makeRecord({ value: Buffer.from(value) }), {}));
  const schemaText = jsonText(envelopeSchema());
  const payloadText = jsonText(makePayload());

  it('decodes every record of a repeated schema alike, the first and the ones after it', async () => {
    const first = await decodeValue(`{"schema":${schemaText},"payload":${payloadText}}`);
    const again = await decodeValue(`{"schema":${schemaText},"payload":${payloadText}}`);
    expect(again).toEqual(first);
    expect(again.after?.prc_amt).toEqual({ type: 'decimal', value: '17.99' });
  });

  it('a schema as long as a cached one and differing in one byte is read as itself', async () => {
    await decodeValue(`{"schema":${schemaText},"payload":${payloadText}}`);
    // prc_amt's Decimal at scale 3 instead of 2: the same length, the same payload, another value.
    const rescaled = schemaText.replaceAll('"scale":"2"', '"scale":"3"');
    expect(rescaled.length).toBe(schemaText.length);
    expect(rescaled).not.toBe(schemaText);
    const envelope = await decodeValue(`{"schema":${rescaled},"payload":${payloadText}}`);
    expect(envelope.after?.prc_amt).toEqual({ type: 'decimal', value: '1.799' });
  });

  it('a "payload" member inside the schema (a parameter) does not split it there', async () => {
    const schema = envelopeSchema() as unknown as Record<string, unknown>;
    const withParameter = jsonText({ ...schema, parameters: { a: 'b', payload: 'c' } });
    expect(withParameter).toContain(',"payload":');
    const envelope = await decodeValue(`{"schema":${withParameter},"payload":${payloadText}}`);
    expect(envelope.after?.prc_amt).toEqual({ type: 'decimal', value: '17.99' });
  });

  it('a third member after the payload is not dropped: the record is the bare JSON it is', async () => {
    // Not {schema, payload}: read whole as schemaless JSON, which has no op, as before the cache.
    await decodeValue(`{"schema":${schemaText},"payload":${payloadText}}`);
    const error = await decodeError(
      decodeRecord(
        makeRecord({ value: Buffer.from(`{"schema":${schemaText},"payload":${payloadText},"x":1}`) }),
        {},
      ),
    );
    expect(error.code).toBe('DECODE_FAILED');
    expect(error.message).toMatch(/no "op" field/);
  });

  it('a bad schema fails the same way the second time (the problem is cached with it)', async () => {
    const value = Buffer.from('{"schema":{"type":"nope"},"payload":{}}');
    for (let i = 0; i < 2; i += 1) {
      const error = await decodeError(decodeRecord(makeRecord({ value }), {}));
      expect(error.message).toMatch(/schema\.type: expected a Connect type, got "nope"/);
    }
  });
});

describe('decodeRecord: an update converts only the after columns that differ from before', () => {
  it('an unchanged column shares the before value; a changed one is converted on its own', async () => {
    const envelope = envelopeOf(await decodeRecord(makeRecord(), {}));
    expect(envelope.after?.upd_ts).toBe(envelope.before?.upd_ts);
    expect(envelope.after?.prc_amt).toEqual({ type: 'decimal', value: '17.99' });
    expect(envelope.before?.prc_amt).toEqual({ type: 'decimal', value: '19.99' });
  });

  it('the same raw value under a different after schema is converted by that schema', async () => {
    // before's upd_ts is a ZonedTimestamp, after's a plain string: not alike, nothing is shared.
    const schema = envelopeSchema() as unknown as { fields: Array<Record<string, unknown>> };
    const afterField = schema.fields.find((f) => f.field === 'after') as {
      fields: Array<Record<string, unknown>>;
    };
    afterField.fields = afterField.fields.map((f) =>
      f.field === 'upd_ts' ? { type: 'string', optional: true, field: 'upd_ts' } : f,
    );
    const envelope = envelopeOf(await decodeRecord(makeRecord({ schema: schema as never }), {}));
    expect(envelope.before?.upd_ts).toEqual({ type: 'timestamp', iso: '2026-11-22T13:45:07.123456Z' });
    expect(envelope.after?.upd_ts).toBe('2026-11-22T13:45:07.123456Z');
  });
});
