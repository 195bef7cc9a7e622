import { describe, expect, it } from 'vitest';
import { convertValue } from '../../../../src/pipeline/decode/logical.ts';
import { bitsFromBytes } from '../../../../src/pipeline/decode/mysql.ts';

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
