/**
 * Kafka Connect / Debezium temporal types -> ISO-8601 text, exactly (BigInt for nanoseconds, which pass
 * 2^53 for any date after 1970-04-15). See Debezium's "Temporal types" table:
 * https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-temporal-types
 *
 * Output: at least three fractional digits (like Date#toISOString), more only when the value has
 * sub-millisecond digits, trailing zeros beyond the third trimmed: "2026-11-22T13:45:07.123456Z".
 */

/** Units per second of the integer representations Debezium uses. */
export type TimeUnit = 'ms' | 'us' | 'ns';

const PER_SECOND: Record<TimeUnit, bigint> = { ms: 1_000n, us: 1_000_000n, ns: 1_000_000_000n };
const DIGITS: Record<TimeUnit, number> = { ms: 3, us: 6, ns: 9 };
const DAY_MS = 86_400_000;

const floorDiv = (a: bigint, b: bigint): bigint => {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
};

/** Fraction text from a count of sub-second units: at least 3 digits, trailing zeros past 3 trimmed. */
function fractionText(subSecond: bigint, unit: TimeUnit): string {
  const full = subSecond.toString().padStart(DIGITS[unit], '0').padEnd(9, '0');
  return full.slice(0, 3) + full.slice(3).replace(/0+$/, '');
}

const pad2 = (n: number): string => n.toString().padStart(2, '0');

/** io.debezium.time.Date / org.apache.kafka.connect.data.Date: days since the epoch -> "2026-11-22". */
export function dateFromEpochDays(days: number): string {
  const iso = new Date(days * DAY_MS).toISOString();
  return iso.slice(0, iso.indexOf('T'));
}

/**
 * An instant counted in `unit` since the epoch (Timestamp, MicroTimestamp, NanoTimestamp, Connect
 * Timestamp) -> "2026-11-22T13:45:07.123456Z". Note: Debezium's Timestamp types carry PostgreSQL
 * `timestamp without time zone` as if the wall-clock time were UTC; that is what they mean here too.
 */
export function timestampFromEpoch(value: bigint | number, unit: TimeUnit): string {
  const perSecond = PER_SECOND[unit];
  const v = BigInt(value);
  const seconds = floorDiv(v, perSecond);
  const iso = new Date(Number(seconds) * 1000).toISOString();
  return `${iso.slice(0, iso.length - 5)}.${fractionText(v - seconds * perSecond, unit)}Z`;
}

/**
 * Time of day counted in `unit` since midnight (Time, MicroTime, NanoTime) -> "13:45:07.123456".
 * MySQL's TIME is a duration from -838:59:59 to 838:59:59: hours past 23 are kept ("838:59:59.000")
 * and a negative value is signed as a whole ("-00:00:01.500"), as MySQL writes it.
 */
export function timeFromUnits(value: bigint | number, unit: TimeUnit): string {
  const v = BigInt(value);
  if (v < 0n) return `-${timeFromUnits(-v, unit)}`;
  const perSecond = PER_SECOND[unit];
  const seconds = floorDiv(v, perSecond);
  const s = Number(seconds);
  // PostgreSQL allows 24:00:00; keep it rather than wrapping to 00:00.
  const clock = `${pad2(Math.floor(s / 3600))}:${pad2(Math.floor(s / 60) % 60)}:${pad2(s % 60)}`;
  return `${clock}.${fractionText(v - seconds * perSecond, unit)}`;
}

const ZONED_TIMESTAMP =
  /^([+-]?\d{4,})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?(?::?\d{2})?)$/;

/** Offset text ("Z", "+02:00", "-0530") in seconds. */
function offsetSeconds(offset: string): number {
  if (offset === 'Z') return 0;
  const sign = offset.startsWith('-') ? -1 : 1;
  const digits = offset.slice(1).replaceAll(':', '');
  const h = Number(digits.slice(0, 2));
  const m = Number(digits.slice(2, 4) || '0');
  const s = Number(digits.slice(4, 6) || '0');
  return sign * (h * 3600 + m * 60 + s);
}

/**
 * io.debezium.time.ZonedTimestamp: ISO text with an offset (Debezium sends UTC, "…Z", for PostgreSQL
 * timestamptz) -> the same instant in UTC, sub-second digits kept. undefined when not parseable.
 */
export function zonedTimestampToUtc(text: string): string | undefined {
  // Two per update (before and after), and a bulk's rows often share one (upd_ts = now() in one
  // transaction): the last few are remembered (issue 16). A pure function of the text, so the same.
  if (zonedSeen.has(text)) return zonedSeen.get(text);
  const iso = zonedToUtc(text);
  if (zonedSeen.size >= ZONED_SEEN_MAX) zonedSeen.clear();
  zonedSeen.set(text, iso);
  return iso;
}
const ZONED_SEEN_MAX = 256;
const zonedSeen = new Map<string, string | undefined>();

function zonedToUtc(text: string): string | undefined {
  const m = ZONED_TIMESTAMP.exec(text);
  if (m === null) return undefined;
  const [, year, month, day, hour, minute, second = '0', fraction = '', offset = 'Z'] = m;
  const localSeconds =
    Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second)) /
    1000;
  // Date.UTC maps years 0-99 to 1900-1999; correct for that.
  const yearFix = Number(year) >= 0 && Number(year) < 100 ? yearShift(Number(year)) : 0;
  const utcSeconds = localSeconds + yearFix - offsetSeconds(offset);
  if (!Number.isFinite(utcSeconds)) return undefined;
  const nanos = BigInt(fraction.padEnd(9, '0'));
  return timestampFromEpoch(BigInt(utcSeconds) * 1_000_000_000n + nanos, 'ns');
}

function yearShift(year: number): number {
  const wrong = Date.UTC(year, 0, 1);
  const right = new Date(0).setUTCFullYear(year, 0, 1);
  return (right - wrong) / 1000;
}

const ZONED_TIME = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?(?::?\d{2})?)$/;

/** io.debezium.time.ZonedTime ("13:45:07.5Z") -> "13:45:07.500Z" (offset kept: a time has no date to shift). */
export function zonedTime(text: string): string | undefined {
  const m = ZONED_TIME.exec(text);
  if (m === null) return undefined;
  const [, hour, minute, second = '00', fraction = '', offset = 'Z'] = m;
  const nanos = BigInt(fraction.padEnd(9, '0'));
  return `${hour}:${minute}:${second}.${fractionText(nanos, 'ns')}${offset}`;
}
