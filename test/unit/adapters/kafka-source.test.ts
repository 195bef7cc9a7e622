import { describe, expect, it } from 'vitest';
import { toSourceRecord } from '../../../src/adapters/kafka-source.ts';

describe('kafka source record mapping', () => {
  it('keeps key and value bytes untouched, offsets and timestamps as strings, and single header values', () => {
    const key = Buffer.from([0, 1, 2]);
    const value = Buffer.from([0xff, 0xfe]);
    const record = toSourceRecord('t', 3, {
      key,
      value,
      offset: '9007199254740993',
      timestamp: '1767225600000',
      attributes: 0,
      headers: { a: Buffer.from('x'), b: ['first', 'last'], c: undefined },
    });
    expect(record).toEqual({
      topic: 't',
      partition: 3,
      offset: '9007199254740993',
      key,
      value,
      headers: { a: Buffer.from('x'), b: 'last', c: undefined },
      timestamp: '1767225600000',
    });
  });

  it('maps a tombstone to a null value', () => {
    const record = toSourceRecord('t', 0, {
      key: null,
      value: null,
      offset: '1',
      timestamp: '0',
      attributes: 0,
      headers: {},
    });
    expect(record.value).toBeNull();
    expect(record.key).toBeNull();
  });
});
