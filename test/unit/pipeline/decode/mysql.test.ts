import { describe, expect, it } from 'vitest';
import { convertValue } from '../../../../src/pipeline/decode/logical.ts';
import { bitsFromBytes, unsignedBigint } from '../../../../src/pipeline/decode/mysql.ts';

describe('io.debezium.data.Bits (BitSet bytes, little-endian)', () => {
  it.each([
    // BIT(10) b'1000000101' = 517: BitSet bytes [0x05, 0x02] (low byte first), as captured ("BQI=").
    [[0x05, 0x02], 10, '1000000101'],
    [[0x03, 0x00], 10, '0000000011'],
    [[0x01], 1, '1'],
    // BitSet#toByteArray drops trailing zero bytes: b'0' arrives as no bytes at all.
    [[], 10, '0000000000'],
    [[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 64, '1'.repeat(64)],
    [[0x80], undefined, '10000000'],
  ] as const)('%j length %s -> %s', (bytes, length, bits) => {
    expect(bitsFromBytes(Uint8Array.from(bytes), length)).toBe(bits);
  });

  it('converts a Bits column from its JSON base64 and schema length', () => {
    const schema = { type: 'bytes', name: 'io.debezium.data.Bits', parameters: { length: '10' } } as const;
    expect(convertValue(schema, 'BQI=', 'after.ship_flags')).toBe('1000000101');
    expect(() => convertValue(schema, 42, 'after.ship_flags')).toThrow(
      /after\.ship_flags: expected Bits bytes/,
    );
  });
});

describe('BIGINT UNSIGNED wrapped into a signed int64 (bigint.unsigned.handling.mode=long)', () => {
  it.each([
    [-1n, 'BIGINT UNSIGNED', 18446744073709551615n],
    [-2n, 'bigint unsigned', 18446744073709551614n],
    [-(1n << 63n), 'BIGINT UNSIGNED ZEROFILL', 1n << 63n],
    [5n, 'BIGINT UNSIGNED', undefined],
    [-1n, 'BIGINT', undefined],
    [-1n, 'INT UNSIGNED', undefined],
    [-1n, undefined, undefined],
  ] as const)('%s as %s -> %s', (n, type, expected) => {
    expect(unsignedBigint(n, type)).toBe(expected);
  });

  it('reads the stored value back when the schema names the source type, else keeps the int64', () => {
    const typed = {
      type: 'int64',
      parameters: { '__debezium.source.column.type': 'BIGINT UNSIGNED' },
    } as const;
    expect(convertValue(typed, -2, 'after.etl_batch_id')).toEqual({
      type: 'decimal',
      value: '18446744073709551614',
    });
    expect(convertValue(typed, 7, 'after.etl_batch_id')).toBe(7);
    expect(convertValue({ type: 'int64' }, -2, 'after.etl_batch_id')).toBe(-2);
  });
});
