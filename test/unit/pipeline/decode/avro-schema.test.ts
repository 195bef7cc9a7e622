import { describe, expect, it } from 'vitest';
import { AvroSchemaError, connectSchemaFromAvro } from '../../../../src/pipeline/decode/avro-schema.ts';
import { fieldOf } from '../../../../src/pipeline/decode/connect-schema.ts';
import { listingsAvroSchema } from '../../../support/avro.ts';

describe('connectSchemaFromAvro', () => {
  const envelope = connectSchemaFromAvro(listingsAvroSchema);

  it('maps the Debezium envelope to the Connect schema JsonConverter would show', () => {
    expect(envelope).toMatchObject({ type: 'struct', name: 'monolith.public.listings.Envelope', version: 2 });
    expect(envelope.fields?.map((f) => f.field)).toEqual([
      'before',
      'after',
      'source',
      'transaction',
      'op',
      'ts_ms',
      'ts_us',
      'ts_ns',
    ]);
  });

  it('resolves `after: ["null", "Value"]` to the record defined in before', () => {
    const before = fieldOf(envelope, 'before');
    const after = fieldOf(envelope, 'after');
    expect(after).toMatchObject({ type: 'struct', optional: true, name: 'monolith.public.listings.Value' });
    expect(after?.fields).toEqual(before?.fields);
  });

  it('keeps Decimal name and scale, ZonedTimestamp name, optional unions, Enum with null second', () => {
    const after = fieldOf(envelope, 'after');
    expect(fieldOf(after, 'prc_amt')).toEqual({
      type: 'bytes',
      name: 'org.apache.kafka.connect.data.Decimal',
      version: 1,
      parameters: { scale: '2', 'connect.decimal.precision': '12' },
      field: 'prc_amt',
    });
    expect(fieldOf(after, 'upd_ts')).toMatchObject({
      type: 'string',
      name: 'io.debezium.time.ZonedTimestamp',
    });
    expect(fieldOf(after, 'description')).toEqual({ type: 'string', optional: true, field: 'description' });
    expect(fieldOf(after, 'lst_id')).toEqual({ type: 'int64', field: 'lst_id' });
    expect(fieldOf(fieldOf(envelope, 'source'), 'snapshot')).toMatchObject({
      type: 'string',
      optional: true,
      name: 'io.debezium.data.Enum',
    });
  });

  it.each([
    [{ type: 'int', 'connect.type': 'int16' }, { type: 'int16' }],
    [
      { type: 'bytes', logicalType: 'decimal', precision: 5, scale: 3 },
      { type: 'bytes', name: 'org.apache.kafka.connect.data.Decimal', parameters: { scale: '3' } },
    ],
    [
      { type: 'int', logicalType: 'date' },
      { type: 'int32', name: 'org.apache.kafka.connect.data.Date' },
    ],
    [
      { type: 'long', logicalType: 'timestamp-micros' },
      { type: 'int64', name: 'io.debezium.time.MicroTimestamp' },
    ],
    [
      { type: 'array', items: 'string' },
      { type: 'array', items: { type: 'string' } },
    ],
    [
      { type: 'map', values: 'long' },
      { type: 'map', keys: { type: 'string' }, values: { type: 'int64' } },
    ],
    [
      { type: 'enum', name: 'Color', symbols: ['RED'] },
      { type: 'string', name: 'Color' },
    ],
    [
      { type: 'fixed', name: 'Md5', size: 16 },
      { type: 'bytes', name: 'Md5' },
    ],
    ['double', { type: 'double' }],
    ['float', { type: 'float' }],
  ])('%j -> %j', (avro, connect) => {
    expect(connectSchemaFromAvro(avro)).toEqual(connect);
  });

  it.each([
    [['int', 'string'], /unions other than \["null", T\] are not supported/],
    [
      { type: 'record', name: 'R', fields: [{ name: 'x', type: 'Missing' }] },
      /schema\.fields\[0\]: unknown Avro type name "Missing"/,
    ],
    [{ type: 'record', fields: [] }, /schema\.name: a named type needs a name/],
  ])('%j is an AvroSchemaError naming the path', (avro, message) => {
    expect(() => connectSchemaFromAvro(avro)).toThrow(AvroSchemaError);
    expect(() => connectSchemaFromAvro(avro)).toThrow(message);
  });
});
