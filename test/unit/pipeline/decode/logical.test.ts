import { describe, expect, it } from 'vitest';
import type { ColumnValue } from '../../../../src/domain/change.ts';
import { NotifierError } from '../../../../src/domain/errors.ts';
import type { ConnectSchema } from '../../../../src/pipeline/decode/connect-schema.ts';
import { JsonNumber } from '../../../../src/pipeline/decode/json.ts';
import { convertStruct, convertValue } from '../../../../src/pipeline/decode/logical.ts';
import { decimalBase64 } from '../../../support/records.ts';

const named = (
  type: ConnectSchema['type'],
  name: string,
  parameters?: Record<string, string>,
): ConnectSchema => (parameters === undefined ? { type, name } : { type, name, parameters });

const decimal = (value: string): ColumnValue => ({ type: 'decimal', value });

describe('convertValue: Kafka Connect and Debezium logical types', () => {
  const price = named('bytes', 'org.apache.kafka.connect.data.Decimal', {
    scale: '2',
    'connect.decimal.precision': '12',
  });

  it.each<[string, ConnectSchema, unknown, ColumnValue]>([
    ['Decimal (base64, scale 2)', price, decimalBase64('19.99', 2), decimal('19.99')],
    ['Decimal (Avro Buffer)', price, Buffer.from([0x07, 0xcf]), decimal('19.99')],
    ['Decimal negative', price, decimalBase64('-0.5', 2), decimal('-0.5')],
    ['Decimal as JSON number (decimal.format=NUMERIC)', price, 19.99, decimal('19.99')],
    [
      'Decimal as long JSON number',
      named('bytes', 'org.apache.kafka.connect.data.Decimal', {
        scale: '2',
        'connect.decimal.precision': '20',
      }),
      new JsonNumber('12345678901234567.89'),
      decimal('12345678901234567.89'),
    ],
    ['Decimal as JSON number with fewer fraction digits than the scale', price, 249, decimal('249')],
    [
      'Decimal as JSON number, no precision in the schema',
      named('bytes', 'org.apache.kafka.connect.data.Decimal', { scale: '2' }),
      new JsonNumber('12345678901234567.89'),
      decimal('12345678901234567.89'),
    ],
    [
      'VariableScaleDecimal',
      { type: 'struct', name: 'io.debezium.data.VariableScaleDecimal', fields: [] },
      { scale: 3, value: Buffer.from([0x30, 0x39]).toString('base64') },
      decimal('12.345'),
    ],
    [
      'io.debezium.time.Date',
      named('int32', 'io.debezium.time.Date'),
      20_414,
      { type: 'date', iso: '2025-11-22' },
    ],
    [
      'Connect Date',
      named('int32', 'org.apache.kafka.connect.data.Date'),
      0,
      { type: 'date', iso: '1970-01-01' },
    ],
    [
      'io.debezium.time.Time',
      named('int32', 'io.debezium.time.Time'),
      49_507_123,
      { type: 'time', iso: '13:45:07.123' },
    ],
    [
      'Connect Time',
      named('int32', 'org.apache.kafka.connect.data.Time'),
      1_000,
      { type: 'time', iso: '00:00:01.000' },
    ],
    [
      'MicroTime',
      named('int64', 'io.debezium.time.MicroTime'),
      49_507_123_456,
      { type: 'time', iso: '13:45:07.123456' },
    ],
    [
      'NanoTime (JsonNumber)',
      named('int64', 'io.debezium.time.NanoTime'),
      49_507_123_456_789,
      { type: 'time', iso: '13:45:07.123456789' },
    ],
    [
      'io.debezium.time.Timestamp',
      named('int64', 'io.debezium.time.Timestamp'),
      1_795_873_507_123,
      { type: 'timestamp', iso: '2026-11-28T13:45:07.123Z' },
    ],
    [
      'Connect Timestamp',
      named('int64', 'org.apache.kafka.connect.data.Timestamp'),
      1_795_873_507_123,
      { type: 'timestamp', iso: '2026-11-28T13:45:07.123Z' },
    ],
    [
      'MicroTimestamp',
      named('int64', 'io.debezium.time.MicroTimestamp'),
      1_795_873_507_123_456,
      { type: 'timestamp', iso: '2026-11-28T13:45:07.123456Z' },
    ],
    [
      'NanoTimestamp beyond 2^53 (JSON)',
      named('int64', 'io.debezium.time.NanoTimestamp'),
      new JsonNumber('1795873507123456789'),
      { type: 'timestamp', iso: '2026-11-28T13:45:07.123456789Z' },
    ],
    [
      'NanoTimestamp beyond 2^53 (Avro bigint)',
      named('int64', 'io.debezium.time.NanoTimestamp'),
      1_795_873_507_123_456_789n,
      { type: 'timestamp', iso: '2026-11-28T13:45:07.123456789Z' },
    ],
    [
      'ZonedTimestamp',
      named('string', 'io.debezium.time.ZonedTimestamp'),
      '2026-11-22T13:45:07.123456Z',
      { type: 'timestamp', iso: '2026-11-22T13:45:07.123456Z' },
    ],
    [
      'ZonedTime',
      named('string', 'io.debezium.time.ZonedTime'),
      '13:45:07.5Z',
      { type: 'time', iso: '13:45:07.500Z' },
    ],
    ['Json', named('string', 'io.debezium.data.Json'), '{"a":[1,2]}', { type: 'json', value: { a: [1, 2] } }],
    ['Json that does not parse stays text', named('string', 'io.debezium.data.Json'), '{oops', '{oops'],
    [
      'Uuid',
      named('string', 'io.debezium.data.Uuid'),
      'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
      'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    ],
    ['Enum', named('string', 'io.debezium.data.Enum', { allowed: 'A,U,D,S' }), 'U', 'U'],
    ['EnumSet', named('string', 'io.debezium.data.EnumSet', { allowed: 'a,b,c' }), 'a,c', 'a,c'],
    ['int64 beyond 2^53', { type: 'int64' }, new JsonNumber('9007199254740993'), decimal('9007199254740993')],
    ['int64 bigint beyond 2^53', { type: 'int64' }, 9_007_199_254_740_993n, decimal('9007199254740993')],
    ['int64 bigint within 2^53', { type: 'int64' }, 42n, 42],
    ['int32', { type: 'int32' }, 12, 12],
    ['double (decimal.handling.mode=double) stays a number', { type: 'double' }, 19.99, 19.99],
    ['float64 (Connect spelling)', { type: 'float64' }, 0.5, 0.5],
    [
      'string (decimal.handling.mode=string) stays text without a source type',
      { type: 'string' },
      '19.99',
      '19.99',
    ],
    [
      'string with __debezium.source.column.type NUMERIC is a decimal',
      { type: 'string', parameters: { '__debezium.source.column.type': 'NUMERIC' } },
      '19.990',
      decimal('19.99'),
    ],
    [
      'float64 with source type NUMERIC(12,2) is the exact decimal',
      {
        type: 'double',
        parameters: {
          '__debezium.source.column.type': 'NUMERIC',
          '__debezium.source.column.length': '12',
          '__debezium.source.column.scale': '2',
        },
      },
      19.99,
      decimal('19.99'),
    ],
    ['bytes', { type: 'bytes' }, 'AQID', { type: 'bytes', base64: 'AQID' }],
    ['boolean', { type: 'boolean' }, false, false],
    [
      'array of text',
      { type: 'array', items: { type: 'string' } },
      ['a', 'b'],
      { type: 'json', value: ['a', 'b'] },
    ],
    [
      'array of decimals (plain text inside json)',
      { type: 'array', items: price },
      [decimalBase64('1.5', 2)],
      { type: 'json', value: ['1.5'] },
    ],
    ['null', { type: 'string', optional: true }, null, null],
  ])('%s', (_label, schema, value, expected) => {
    expect(convertValue(schema, value, 'after.c')).toEqual(expected);
  });

  it.each<[string, ConnectSchema, unknown]>([
    ['text', { type: 'string' }, '__debezium_unavailable_value'],
    ['Json', named('string', 'io.debezium.data.Json'), '__debezium_unavailable_value'],
    ['bytea (base64)', { type: 'bytes' }, Buffer.from('__debezium_unavailable_value').toString('base64')],
    ['bytea (Avro)', { type: 'bytes' }, Buffer.from('__debezium_unavailable_value')],
    ['text[]', { type: 'array', items: { type: 'string' } }, ['__debezium_unavailable_value']],
  ])('the TOAST placeholder in a %s column is unavailable', (_label, schema, value) => {
    expect(convertValue(schema, value, 'after.c')).toEqual({ type: 'unavailable' });
  });

  it("a text column holding the placeholder's base64 is just text", () => {
    const text = Buffer.from('__debezium_unavailable_value').toString('base64');
    expect(convertValue({ type: 'string' }, text, 'after.c')).toBe(text);
  });

  it.each<[string, ConnectSchema, unknown, RegExp]>([
    [
      'Decimal without a scale',
      named('bytes', 'org.apache.kafka.connect.data.Decimal'),
      'AQ==',
      /after\.c \(schema\).*scale/,
    ],
    [
      'Decimal that is not bytes',
      named('bytes', 'org.apache.kafka.connect.data.Decimal', { scale: '2' }),
      true,
      /after\.c: expected Decimal bytes/,
    ],
    ['int32 given text', { type: 'int32' }, 'twelve', /after\.c: expected int32, got string "twelve"/],
    [
      'MicroTimestamp given text',
      named('int64', 'io.debezium.time.MicroTimestamp'),
      'soon',
      /after\.c: expected an integer count of us/,
    ],
    ['struct given a number', { type: 'struct', fields: [] }, 3, /after\.c: expected struct/],
    [
      'VariableScaleDecimal whose value is a number, not bytes',
      { type: 'struct', name: 'io.debezium.data.VariableScaleDecimal', fields: [] },
      { scale: 2, value: 1e308 },
      /after\.c\.value: expected bytes \(base64 or Buffer\), got number 1e\+308/,
    ],
  ])('%s is DECODE_FAILED naming the path', (_label, schema, value, message) => {
    try {
      convertValue(schema, value, 'after.c');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(NotifierError);
      expect((error as NotifierError).code).toBe('DECODE_FAILED');
      expect((error as NotifierError).message).toMatch(message);
    }
  });

  // Issue 9, finding 1: prc_amt arrived as the number 1e308 under a Decimal(12, 2) schema and was
  // delivered as a 309-digit price. A value its own schema cannot hold is a decode error naming the path.
  describe('finding 1: a JSON number that contradicts its Decimal schema is DECODE_FAILED', () => {
    it.each<[string, ConnectSchema, unknown, string]>([
      [
        '1e308 (JSON number) under Decimal(12, 2)',
        price,
        1e308,
        'after.prc_amt: expected a Decimal of precision 12, scale 2, got number 1e+308',
      ],
      [
        '1e308 (exact JSON text) under Decimal(12, 2)',
        price,
        new JsonNumber('1E308'),
        'after.prc_amt: expected a Decimal of precision 12, scale 2, got number 1E308',
      ],
      [
        'thirteen digits under Decimal(12, 2)',
        price,
        new JsonNumber('12345678901.23'),
        'after.prc_amt: expected a Decimal of precision 12, scale 2, got number 12345678901.23',
      ],
      [
        'three fraction digits under scale 2',
        price,
        19.999,
        'after.prc_amt: expected a Decimal of precision 12, scale 2, got number 19.999',
      ],
      [
        'a fraction under scale 0 without a precision',
        named('bytes', 'org.apache.kafka.connect.data.Decimal', { scale: '0' }),
        0.5,
        'after.prc_amt: expected a Decimal of scale 0, got number 0.5',
      ],
      [
        'bytes holding thirteen digits under Decimal(12, 2)',
        price,
        decimalBase64('12345678901.23', 2),
        'after.prc_amt: expected a Decimal of precision 12, scale 2, got string "AR9x+wTL"',
      ],
    ])('%s', (_label, schema, value, message) => {
      expect(() => convertValue(schema, value, 'after.prc_amt')).toThrow(
        expect.objectContaining({ code: 'DECODE_FAILED', message, details: { path: 'after.prc_amt' } }),
      );
    });

    it('the largest value Decimal(12, 2) holds still decodes, as a number and as bytes', () => {
      expect(convertValue(price, new JsonNumber('-9999999999.99'), 'c')).toEqual(decimal('-9999999999.99'));
      expect(convertValue(price, decimalBase64('9999999999.99', 2), 'c')).toEqual(decimal('9999999999.99'));
    });
  });

  it('a date beyond what Date can show (PostgreSQL infinity) stays a raw number instead of failing', () => {
    expect(
      convertValue(named('int64', 'io.debezium.time.MicroTimestamp'), 9_223_372_036_854_775_807n, 'c'),
    ).toEqual(decimal('9223372036854775807'));
  });

  it('convertStruct converts every field of the schema, missing ones as null', () => {
    const schema: ConnectSchema = {
      type: 'struct',
      fields: [
        { type: 'int64', field: 'id' },
        { ...price, field: 'price' },
        { type: 'string', optional: true, field: 'note' },
      ],
    };
    expect(convertStruct(schema, { id: 5, price: decimalBase64('19.99', 2) }, 'after')).toEqual({
      id: 5,
      price: decimal('19.99'),
      note: null,
    });
  });
});
