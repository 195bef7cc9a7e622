/**
 * The pure part of `listing-notifier dlq`: a dead-letter record read back (its dlq.* headers, written by
 * src/adapters/kafka-dead-letter.ts), the filters, the original record to redrive, what a redrive does
 * with today's outcome, and the lines printed. No I/O, no clock.
 */
import type { Config } from '../config/index.ts';
import type { OutboundMessage } from '../domain/message.ts';
import type { Outcome } from '../domain/outcome.ts';
import type { SourceRecord } from '../domain/record.ts';
import { bytesView, safeText } from './safe-text.ts';

export interface DeadLetter {
  /** `<dlq topic>:<partition>:<offset>` (Kafka topic names cannot hold ':'). */
  id: string;
  topic: string;
  partition: number;
  offset: string;
  code: string | null;
  message: string | null;
  /** The Slack channel whose message failed; null when the whole record was dead-lettered. */
  channel: string | null;
  /** dlq.failed.at as written (ISO), else the dead-letter record's own timestamp. */
  failedAt: string | null;
  failedAtMs: number | null;
  original: { topic: string; partition: number; offset: string; timestamp: string } | null;
  record: SourceRecord;
}

const header = (record: SourceRecord, name: string): string | null => {
  const value = record.headers[name];
  if (value === undefined) return null;
  return Buffer.isBuffer(value) ? value.toString('utf8') : value;
};

export function parseDeadLetter(record: SourceRecord): DeadLetter {
  const failedHeader = header(record, 'dlq.failed.at');
  const failedMs = failedHeader === null ? Number(record.timestamp) : Date.parse(failedHeader);
  const topic = header(record, 'dlq.original.topic');
  const partition = Number(header(record, 'dlq.original.partition'));
  const offset = header(record, 'dlq.original.offset');
  const original =
    topic !== null && offset !== null && Number.isInteger(partition)
      ? { topic, partition, offset, timestamp: header(record, 'dlq.original.timestamp') ?? record.timestamp }
      : null;
  return {
    id: `${record.topic}:${record.partition}:${record.offset}`,
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    code: header(record, 'dlq.error.code'),
    message: header(record, 'dlq.error.message'),
    channel: header(record, 'dlq.channel'),
    failedAt: Number.isFinite(failedMs) ? new Date(failedMs).toISOString() : failedHeader,
    failedAtMs: Number.isFinite(failedMs) ? failedMs : null,
    original,
    record,
  };
}

/** `topic:partition:offset` -> its parts; null when malformed. */
export function parseId(id: string): { topic: string; partition: number; offset: string } | null {
  const match = /^([A-Za-z0-9._-]+):(\d{1,9}):(\d{1,19})$/.exec(id);
  if (match === null) return null;
  return { topic: match[1] ?? '', partition: Number(match[2]), offset: match[3] ?? '0' };
}

/** The record as it was before it was dead-lettered: its own topic, offset and headers. */
export function originalRecord(letter: DeadLetter): SourceRecord {
  const headers: SourceRecord['headers'] = {};
  for (const [name, value] of Object.entries(letter.record.headers))
    if (!name.startsWith('dlq.')) headers[name] = value;
  return {
    ...letter.record,
    topic: letter.original?.topic ?? letter.topic,
    partition: letter.original?.partition ?? letter.partition,
    offset: letter.original?.offset ?? letter.offset,
    timestamp: letter.original?.timestamp ?? letter.record.timestamp,
    headers,
  };
}

/**
 * Whether the letter was written without the original value: dlq.value.omitted says so (slim letters,
 * records folded into a digest), and a letter from before that header with a null value and
 * coordinates is one too (a digest Slack refused dead-lettered its records that way).
 */
export const lacksValue = (letter: DeadLetter): boolean =>
  header(letter.record, 'dlq.value.omitted') !== null || letter.record.value === null;

export interface DeadLetterFilter {
  codes?: string[];
  /** Slack channels (#name or id) or channel keys from the config. */
  channels?: string[];
  sinceMs?: number;
  untilMs?: number;
}

export const hasFilter = (f: DeadLetterFilter): boolean =>
  f.codes !== undefined || f.channels !== undefined || f.sinceMs !== undefined || f.untilMs !== undefined;

/** Channel keys become their targets; `#` is optional on names. */
export function resolveChannels(given: string[], config: Config): string[] {
  return given.flatMap((c) => {
    const target = Object.hasOwn(config.channels, c) ? config.channels[c] : undefined;
    const names = [c, target].filter((n): n is string => n !== undefined);
    return names.flatMap((n) => (n.startsWith('#') ? [n, n.slice(1)] : [n, `#${n}`]));
  });
}

export function matchesFilter(letter: DeadLetter, filter: DeadLetterFilter): boolean {
  if (filter.codes !== undefined && (letter.code === null || !filter.codes.includes(letter.code)))
    return false;
  if (filter.channels !== undefined && (letter.channel === null || !filter.channels.includes(letter.channel)))
    return false;
  if (filter.sinceMs !== undefined && (letter.failedAtMs === null || letter.failedAtMs < filter.sinceMs))
    return false;
  if (filter.untilMs !== undefined && (letter.failedAtMs === null || letter.failedAtMs >= filter.untilMs))
    return false;
  return true;
}

/** What a redrive does with one dead letter, given today's outcome for its original record. */
export type RedrivePlan =
  | { kind: 'deliver'; messages: OutboundMessage[] }
  /** Today's rules drop it (or no longer send it to the channel that failed): dealt with. */
  | { kind: 'drop'; reason: string }
  /** It still cannot be processed today. */
  | { kind: 'still-failing'; reason: string };

/**
 * `--reroute FROM=TO`: a letter whose dlq.channel is FROM is owed the message today's rules send to
 * TO. The usual failure behind a channel letter is a wrong channel in the config (channel_not_found):
 * once the config is fixed, today's message goes to the new target, which the letter cannot know.
 */
export type Reroutes = ReadonlyMap<string, readonly string[]>;

export function planRedrive(
  letter: DeadLetter,
  outcome: Outcome,
  reroutes: Reroutes = new Map(),
): RedrivePlan {
  if (outcome.kind === 'dead-letter') return { kind: 'still-failing', reason: outcome.reason };
  if (outcome.kind === 'dropped') return { kind: 'drop', reason: outcome.reason };
  if (letter.channel === null) return { kind: 'deliver', messages: outcome.messages };
  // A channel's message failed alone: the other channels had theirs; only that one is owed.
  const owed = reroutes.get(letter.channel) ?? [letter.channel];
  const messages = outcome.messages.filter((m) => owed.includes(m.channel));
  if (messages.length > 0) return { kind: 'deliver', messages };
  // Not a drop: most often the failed channel was renamed in the config, and the letter is still owed.
  const today = outcome.messages.map((m) => m.channel).join(', ');
  return {
    kind: 'still-failing',
    reason: `today's rules send it to ${today}, not to ${letter.channel} (the channel that failed); if that channel was replaced in the config, add --reroute '${letter.channel}=<channel>'`,
  };
}

/** Parses `FROM=TO` pairs; TO may be a channel key. Returns the map or the bad pair. */
export function parseReroutes(pairs: readonly string[], config: Config): Reroutes | { error: string } {
  const map = new Map<string, string[]>();
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    const from = pair.slice(0, at).trim();
    const to = pair.slice(at + 1).trim();
    if (at < 1 || from === '' || to === '')
      return {
        error: `--reroute: expected FROM=TO (e.g. '#sales-alert=sales-alerts'), got ${JSON.stringify(pair)}`,
      };
    for (const name of resolveChannels([from], config)) map.set(name, resolveChannels([to], config));
  }
  return map;
}

/** The change's own time for the late mark: Debezium's source.ts_ms, else the original Kafka time. */
export function originalTimeMs(letter: DeadLetter, outcome: Outcome): number | null {
  if (outcome.sourceTsMs !== undefined) return outcome.sourceTsMs;
  const ms = Number(letter.original?.timestamp ?? letter.record.timestamp);
  return Number.isFinite(ms) && ms > 0 ? ms : null;
}

const original = (l: DeadLetter): string =>
  l.original === null
    ? 'original unknown'
    : `${l.original.topic}[${l.original.partition}]@${l.original.offset}`;

/** One line of `dlq list`: id, when, code, channel, where from, why (untrusted text escaped). */
export function listLine(l: DeadLetter): string {
  return [
    l.id,
    l.failedAt ?? '-',
    safeText(l.code ?? '-'),
    safeText(l.channel ?? '-'),
    safeText(original(l)),
    safeText(l.message ?? '', 160),
  ].join('  ');
}

/** The JSON form of a dead letter (`dlq list --json` without bytes, `dlq show --json` with them). */
export function letterJson(l: DeadLetter, withBytes: boolean): Record<string, unknown> {
  const base: Record<string, unknown> = {
    id: l.id,
    topic: l.topic,
    partition: l.partition,
    offset: l.offset,
    failedAt: l.failedAt,
    code: l.code,
    message: l.message,
    channel: l.channel,
    original: l.original,
  };
  if (!withBytes) return base;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(l.record.headers))
    if (value !== undefined) headers[name] = Buffer.isBuffer(value) ? value.toString('utf8') : value;
  return { ...base, headers, key: bytesView(l.record.key), value: bytesView(l.record.value) };
}

/** `dlq show` as text: every header, the key and the value (pretty JSON when it is JSON). */
export function showLines(l: DeadLetter): string[] {
  const json = letterJson(l, true);
  const lines = [`dead letter ${l.id}`];
  for (const [name, value] of Object.entries(json.headers as Record<string, string>))
    lines.push(`  ${safeText(name)}: ${safeText(value, 2000)}`);
  for (const part of ['key', 'value'] as const) {
    const view = json[part] as ReturnType<typeof bytesView>;
    if (view === null) lines.push(`${part}: (null)`);
    else if ('base64' in view) lines.push(`${part} (not UTF-8, base64): ${view.base64}`);
    else {
      let text = view.utf8;
      try {
        text = JSON.stringify(JSON.parse(view.utf8), null, 2);
      } catch {
        // not JSON: shown as it is
      }
      lines.push(`${part}:`, ...text.split('\n').map((line) => `  ${safeText(line)}`));
    }
  }
  return lines;
}

/** The dead-letter topics: --topic, else source.deadLetterTopic, else "<topic>.dlq" per source topic. */
export function deadLetterTopics(config: Config, given: string[] | undefined): string[] {
  if (given !== undefined) return [...new Set(given)];
  const { deadLetterTopic, topics } = config.source;
  return deadLetterTopic !== null ? [deadLetterTopic] : [...new Set(topics.map((t) => `${t}.dlq`))];
}
