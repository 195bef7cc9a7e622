import { describe, expect, it } from 'vitest';
import {
  dateFromEpochDays,
  timeFromUnits,
  timestampFromEpoch,
  zonedTime,
  zonedTimestampToUtc,
} from '../../../../src/pipeline/decode/temporal.ts';

describe('temporal conversions', () => {
  it('dates are days since the epoch', () => {
    expect(dateFromEpochDays(0)).toBe('1970-01-01');
    expect(dateFromEpochDays(20_414)).toBe('2025-11-22');
    expect(dateFromEpochDays(-1)).toBe('1969-12-31');
  });

  it.each([
    [1_795_873_507_123, 'ms', '2026-11-28T13:45:07.123Z'],
    [1_795_873_507_000, 'ms', '2026-11-28T13:45:07.000Z'],
    [1_795_873_507_123_456, 'us', '2026-11-28T13:45:07.123456Z'],
    [1_795_873_507_123_400, 'us', '2026-11-28T13:45:07.1234Z'],
    [1_795_873_507_123_456_789n, 'ns', '2026-11-28T13:45:07.123456789Z'],
    [-1, 'us', '1969-12-31T23:59:59.999999Z'],
  ] as const)('%s %s -> %s', (value, unit, iso) => {
    expect(timestampFromEpoch(value, unit)).toBe(iso);
  });

  it('nanosecond timestamps stay exact beyond 2^53', () => {
    const ns = 1_795_873_507_123_456_789n;
    expect(BigInt(Number(ns))).not.toBe(ns); // a double would lose the last digits
    expect(timestampFromEpoch(ns, 'ns')).toMatch(/\.123456789Z$/);
  });

  it.each([
    [49_507_123, 'ms', '13:45:07.123'],
    [49_507_123_456n, 'us', '13:45:07.123456'],
    [49_507_123_456_789n, 'ns', '13:45:07.123456789'],
    [0, 'ms', '00:00:00.000'],
    [86_400_000_000n, 'us', '24:00:00.000'],
    // MySQL TIME is a duration: -838:59:59 .. 838:59:59 (captured in test/fixtures/debezium-mariadb).
    [-3_020_399_000_000n, 'us', '-838:59:59.000'],
    [3_020_399_000_000n, 'us', '838:59:59.000'],
    [-1_500_000n, 'us', '-00:00:01.500'],
    [-1, 'ms', '-00:00:00.001'],
  ] as const)('time %s %s -> %s', (value, unit, iso) => {
    expect(timeFromUnits(value, unit)).toBe(iso);
  });

  it.each([
    ['2026-11-22T13:45:07.123456Z', '2026-11-22T13:45:07.123456Z'],
    ['2026-11-22T13:45:07Z', '2026-11-22T13:45:07.000Z'],
    ['2026-11-22T13:45:07.5Z', '2026-11-22T13:45:07.500Z'],
    ['2026-11-22T15:45:07.5+02:00', '2026-11-22T13:45:07.500Z'],
    ['2026-11-22T08:15:07-05:30', '2026-11-22T13:45:07.000Z'],
    ['0050-01-01T00:00:00Z', '0050-01-01T00:00:00.000Z'],
  ])('zoned timestamp %s -> %s', (text, iso) => {
    expect(zonedTimestampToUtc(text)).toBe(iso);
  });

  it('rejects text that is not an ISO timestamp', () => {
    expect(zonedTimestampToUtc('yesterday')).toBeUndefined();
    expect(zonedTime('noon')).toBeUndefined();
  });

  it('zoned times keep their offset', () => {
    expect(zonedTime('13:45:07.123456Z')).toBe('13:45:07.123456Z');
    expect(zonedTime('13:45:07+02:00')).toBe('13:45:07.000+02:00');
  });
});
