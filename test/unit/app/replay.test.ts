import { describe, expect, it } from 'vitest';
import {
  changes,
  describeTarget,
  formatPlanLine,
  formatSummary,
  type PartitionOffset,
  type PartitionPlan,
  parseDateTime,
  parseDuration,
  planTopic,
  type ReplayTarget,
  targetTimestamp,
  type Watermarks,
} from '../../../src/app/replay.ts';

const TOPIC = 'monolith.public.listings';

/** Two partitions: p0 holds offsets 10..99, p1 holds 0..49. Overrides replace any field. */
const makeInput = (
  overrides: Partial<{
    target: ReplayTarget;
    watermarks: Watermarks[];
    committed: PartitionOffset[];
    byTimestamp: PartitionOffset[];
  }> = {},
) => ({
  topic: TOPIC,
  target: { kind: 'earliest' } as ReplayTarget,
  watermarks: [
    { partition: 1, low: '0', high: '50' },
    { partition: 0, low: '10', high: '100' },
  ],
  committed: [
    { partition: 0, offset: '100' },
    { partition: 1, offset: '20' },
  ],
  ...overrides,
});

describe('parseDuration', () => {
  it('reads d, h, m and s in that order', () => {
    expect(parseDuration('1h30m')).toBe(90 * 60_000);
    expect(parseDuration('45m')).toBe(45 * 60_000);
    expect(parseDuration('2d')).toBe(2 * 86_400_000);
    expect(parseDuration('1d2h3m4s')).toBe(86_400_000 + 2 * 3_600_000 + 3 * 60_000 + 4000);
  });
  it.each(['', '0m', '90', '1x', '30m1h', '-1h', '1.5h', 'h'])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeNull();
  });
});

describe('parseDateTime', () => {
  it('reads date-times with Z or a numeric zone', () => {
    expect(parseDateTime('2025-01-31T09:00:00Z')).toBe(Date.UTC(2025, 0, 31, 9));
    expect(parseDateTime('2025-01-31T09:00Z')).toBe(Date.UTC(2025, 0, 31, 9));
    expect(parseDateTime('2025-01-31T10:00:00.250+01:00')).toBe(Date.UTC(2025, 0, 31, 9, 0, 0, 250));
    expect(parseDateTime('2025-01-31T04:00:00-05:00')).toBe(Date.UTC(2025, 0, 31, 9));
  });
  it.each([
    '2025-01-31T09:00:00', // no zone: would depend on the operator's TZ
    '2025-01-31',
    '2025-02-30T00:00:00Z', // Date.parse rolls this over to March 2
    '2025-13-01T00:00:00Z',
    '2025-01-31T24:00:00Z',
    'yesterday',
  ])('rejects %j', (text) => {
    expect(parseDateTime(text)).toBeNull();
  });
});

describe('targetTimestamp and describeTarget', () => {
  const now = Date.UTC(2025, 5, 1, 12);
  it('looks up a duration back from now and a date-time as given', () => {
    expect(targetTimestamp({ kind: 'duration', ms: 3_600_000, text: '1h' }, now)).toBe(now - 3_600_000);
    expect(targetTimestamp({ kind: 'datetime', ms: 5, text: 'x' }, now)).toBe(5);
    expect(targetTimestamp({ kind: 'earliest' }, now)).toBeNull();
    expect(targetTimestamp({ kind: 'latest' }, now)).toBeNull();
  });
  it('names the instant it resets to', () => {
    expect(describeTarget({ kind: 'duration', ms: 3_600_000, text: '1h' }, now)).toBe(
      'the first record at or after 2025-06-01T11:00:00.000Z (1h ago)',
    );
    expect(describeTarget({ kind: 'earliest' }, now)).toBe('the earliest offset');
  });
});

describe('planTopic', () => {
  it('moves to the low watermark for --to-earliest, counting only records still in the log', () => {
    const plans = planTopic(makeInput({ target: { kind: 'earliest' } }));
    expect(plans).toEqual([
      { topic: TOPIC, partition: 0, current: '100', target: '10', replays: 90n, skips: 0n },
      { topic: TOPIC, partition: 1, current: '20', target: '0', replays: 20n, skips: 0n },
    ]);
  });

  it('moves to the high watermark for --to-latest and counts the skipped records', () => {
    const plans = planTopic(makeInput({ target: { kind: 'latest' } }));
    expect(plans.map((p) => [p.partition, p.target, p.replays, p.skips])).toEqual([
      [0, '100', 0n, 0n],
      [1, '50', 0n, 30n],
    ]);
    expect(plans.map(changes)).toEqual([false, true]);
  });

  it('uses the offsets found by timestamp, clamped to the log', () => {
    const plans = planTopic(
      makeInput({
        target: { kind: 'datetime', ms: 0, text: 't' },
        byTimestamp: [
          { partition: 0, offset: '40' },
          { partition: 1, offset: '50' }, // after the last record: kafkajs answers the end offset
        ],
      }),
    );
    expect(plans.map((p) => [p.partition, p.current, p.target, p.replays, p.skips])).toEqual([
      [0, '100', '40', 60n, 0n],
      [1, '20', '50', 0n, 30n],
    ]);
  });

  it('counts from the low watermark when retention removed records below the committed offset', () => {
    const [p0] = planTopic(
      makeInput({ target: { kind: 'latest' }, committed: [{ partition: 0, offset: '3' }] }),
    );
    expect(p0).toMatchObject({ current: '3', target: '100', skips: 90n, replays: 0n });
  });

  it('reports a partition without a committed offset ("-1" or missing) as current null', () => {
    const plans = planTopic(makeInput({ committed: [{ partition: 0, offset: '-1' }] }));
    expect(plans.map((p) => [p.current, p.target, p.replays, p.skips])).toEqual([
      [null, '10', 0n, 0n],
      [null, '0', 0n, 0n],
    ]);
    expect(plans.every(changes)).toBe(true);
  });

  it('fails loudly when a partition has no offset by timestamp', () => {
    expect(() =>
      planTopic(makeInput({ target: { kind: 'datetime', ms: 0, text: 't' }, byTimestamp: [] })),
    ).toThrow(`no offset by timestamp for ${TOPIC}[0]`);
  });
});

describe('formatPlanLine and formatSummary', () => {
  const plan = (overrides: Partial<PartitionPlan>): PartitionPlan => ({
    topic: TOPIC,
    partition: 0,
    current: '120',
    target: '100',
    replays: 20n,
    skips: 0n,
    ...overrides,
  });
  it('says what each partition replays or skips', () => {
    expect(formatPlanLine(plan({}))).toBe(`${TOPIC}[0]: 120 -> 100 (replays 20 records)`);
    expect(formatPlanLine(plan({ current: '99', target: '100', replays: 0n, skips: 1n }))).toBe(
      `${TOPIC}[0]: 99 -> 100 (skips 1 record)`,
    );
    expect(formatPlanLine(plan({ current: '100', replays: 0n }))).toBe(`${TOPIC}[0]: 100 -> 100 (unchanged)`);
    expect(formatPlanLine(plan({ current: null, replays: 0n }))).toBe(
      `${TOPIC}[0]: none -> 100 (no committed offset)`,
    );
    expect(formatPlanLine(plan({ current: '3', target: '0', replays: 0n }))).toBe(
      `${TOPIC}[0]: 3 -> 0 (no records in between)`,
    );
  });
  it('totals the partitions', () => {
    const plans = [plan({}), plan({ partition: 1, current: '5', target: '7', replays: 0n, skips: 2n })];
    expect(formatSummary(plans)).toBe('2 of 2 partition(s) change: replays 20 records, skips 2 records');
    expect(formatSummary([plan({ current: '100', replays: 0n })])).toBe(
      '0 of 1 partition(s) change: replays 0 records, skips 0 records',
    );
  });
});
