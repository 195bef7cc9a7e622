/**
 * The pure part of `listing-notifier replay`: in this project a replay is a reset of the consumer
 * group's committed offsets (the service then re-reads from there). This module parses the target,
 * turns offsets fetched from Kafka into a per-partition plan and words it; no I/O, no clock (the
 * caller passes `nowMs`).
 *
 * Offsets are strings in kafkajs (int64); they are compared as bigint. A committed offset of "-1"
 * means the group has none for that partition.
 */
import type { PartitionOffset, Watermarks } from '../ports/kafka.ts';

// Re-exported: the plan's inputs, for callers (and tests) that plan a replay.
export type { PartitionOffset, Watermarks };

export type ReplayTarget =
  | { kind: 'datetime'; ms: number; text: string }
  | { kind: 'duration'; ms: number; text: string }
  | { kind: 'earliest' }
  | { kind: 'latest' };

export interface PartitionPlan {
  topic: string;
  partition: number;
  /** The group's committed offset, or null when it has none. */
  current: string | null;
  /** Where the group will resume. */
  target: string;
  /** Records read again (current > target) or skipped (target > current); 0 when unchanged or unknown. */
  replays: bigint;
  skips: bigint;
}

const unitMs = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 } as const;
const durationPattern = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** `1h30m`, `45m`, `2d`, `90s` (units d, h, m, s, in that order) as milliseconds; null when malformed or 0. */
export function parseDuration(text: string): number | null {
  const match = durationPattern.exec(text.trim());
  if (match === null || text.trim() === '') return null;
  const [, d, h, m, s] = match;
  const ms =
    Number(d ?? 0) * unitMs.d +
    Number(h ?? 0) * unitMs.h +
    Number(m ?? 0) * unitMs.m +
    Number(s ?? 0) * unitMs.s;
  return ms > 0 && Number.isSafeInteger(ms) ? ms : null;
}

// A date, a time and an explicit zone: a replay point must not depend on the operator's TZ.
const dateTimePattern =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/i;

/** An ISO 8601 date-time with a zone (`2025-01-31T09:00:00Z`, `...+01:00`) as epoch ms; null otherwise. */
export function parseDateTime(text: string): number | null {
  const match = dateTimePattern.exec(text.trim());
  if (match === null) return null;
  const [, , month, day, hour, minute, second] = match;
  // Date.parse rolls 2025-02-30 over to March; reject out-of-range fields instead.
  if (Number(month) < 1 || Number(month) > 12 || Number(day) < 1 || Number(day) > 31) return null;
  if (Number(hour) > 23 || Number(minute) > 59 || Number(second ?? 0) > 59) return null;
  const ms = Date.parse(text.trim());
  if (Number.isNaN(ms)) return null;
  const calendarDay = new Date(ms + zoneOffsetMs(text.trim())).getUTCDate();
  return calendarDay === Number(day) ? ms : null;
}

function zoneOffsetMs(text: string): number {
  const zone = /([+-])(\d{2}):?(\d{2})$/.exec(text);
  if (zone === null) return 0;
  const sign = zone[1] === '-' ? -1 : 1;
  return sign * (Number(zone[2]) * 3_600_000 + Number(zone[3]) * 60_000);
}

/** The timestamp to look offsets up by, or null for earliest/latest (which need no lookup). */
export function targetTimestamp(target: ReplayTarget, nowMs: number): number | null {
  if (target.kind === 'datetime') return target.ms;
  if (target.kind === 'duration') return nowMs - target.ms;
  return null;
}

export function describeTarget(target: ReplayTarget, nowMs: number): string {
  switch (target.kind) {
    case 'earliest':
      return 'the earliest offset';
    case 'latest':
      return 'the latest offset';
    case 'datetime':
      return `the first record at or after ${new Date(target.ms).toISOString()}`;
    case 'duration':
      return `the first record at or after ${new Date(nowMs - target.ms).toISOString()} (${target.text} ago)`;
  }
}

const clamp = (value: bigint, low: bigint, high: bigint): bigint =>
  value < low ? low : value > high ? high : value;

/**
 * The plan for one topic. `byTimestamp` is kafkajs's fetchTopicOffsetsByTimestamp result (it already
 * answers the end offset for a time after the last record); earliest/latest use the watermarks.
 * Counts use the records still in the log: a committed offset below `low` (retention removed them)
 * counts from `low`.
 */
export function planTopic(input: {
  topic: string;
  target: ReplayTarget;
  watermarks: readonly Watermarks[];
  committed: readonly PartitionOffset[];
  byTimestamp?: readonly PartitionOffset[];
}): PartitionPlan[] {
  const { topic, target, watermarks, committed, byTimestamp = [] } = input;
  return [...watermarks]
    .sort((a, b) => a.partition - b.partition)
    .map(({ partition, low, high }) => {
      const lo = BigInt(low);
      const hi = BigInt(high);
      let next: bigint;
      if (target.kind === 'earliest') next = lo;
      else if (target.kind === 'latest') next = hi;
      else {
        const found = byTimestamp.find((p) => p.partition === partition);
        if (found === undefined) throw new Error(`no offset by timestamp for ${topic}[${partition}]`);
        next = clamp(BigInt(found.offset), lo, hi);
      }
      const committedOffset = committed.find((p) => p.partition === partition)?.offset;
      const current =
        committedOffset === undefined || BigInt(committedOffset) < 0n ? null : BigInt(committedOffset);
      const from = current === null ? null : clamp(current, lo, hi);
      return {
        topic,
        partition,
        current: current === null ? null : current.toString(),
        target: next.toString(),
        replays: from !== null && from > next ? from - next : 0n,
        skips: from !== null && next > from ? next - from : 0n,
      };
    });
}

/** Whether applying the plan changes anything for this partition. */
export const changes = (plan: PartitionPlan): boolean => plan.current !== plan.target;

const records = (n: bigint): string => `${n} record${n === 1n ? '' : 's'}`;

/** `monolith.public.listings[0]: 120 -> 100 (replays 20 records)` */
export function formatPlanLine(plan: PartitionPlan): string {
  const head = `${plan.topic}[${plan.partition}]: ${plan.current ?? 'none'} -> ${plan.target}`;
  if (plan.current === null) return `${head} (no committed offset)`;
  if (plan.replays > 0n) return `${head} (replays ${records(plan.replays)})`;
  if (plan.skips > 0n) return `${head} (skips ${records(plan.skips)})`;
  return plan.current === plan.target ? `${head} (unchanged)` : `${head} (no records in between)`;
}

/** One line for the whole plan: totals across partitions. */
export function formatSummary(plans: readonly PartitionPlan[]): string {
  const replays = plans.reduce((sum, p) => sum + p.replays, 0n);
  const skips = plans.reduce((sum, p) => sum + p.skips, 0n);
  const changed = plans.filter(changes).length;
  return `${changed} of ${plans.length} partition(s) change: replays ${records(replays)}, skips ${records(skips)}`;
}
