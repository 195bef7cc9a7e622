/**
 * Finishing one taken record: hand its messages to delivery, dead-letter what can never succeed, and
 * say whether the record is finished (its offset may be committed), abandoned (aborted: revoked or
 * shutting down, so it will be read again), or fatal (the service must stop).
 *
 * A record folded into a digest is finished only when the digest went out; until then only its
 * coordinates are kept (a digest may carry tens of thousands of records; their bytes stay in Kafka).
 * If such a digest is refused for good, each record is dead-lettered with its coordinates and no value:
 * dlq.original.{topic,partition,offset} find the bytes in the source topic.
 */

import { originOf } from '../delivery/ledger.ts';
import { type RetryPolicy, retrying } from '../delivery/retry-policy.ts';
import type { ChangeEvent } from '../domain/change.ts';
import { asRecordFailure, describeError, dispositionOf, type NotifierError } from '../domain/errors.ts';
import type { OutboundMessage } from '../domain/message.ts';
import type { Outcome } from '../domain/outcome.ts';
import type { SourceRecord } from '../domain/record.ts';
import type { Clock, DeadLetterSink, Deliverer, Fate, Logger, Metrics, Submission } from '../ports/index.ts';

export type Completion =
  | {
      kind: 'finished';
      delivered: string[];
      /** Dead-lettered: the whole record (no channel) or single channels' messages. */
      deadLettered: Array<{ channel?: string; code: string }>;
      /** Channels where the message folded away (net zero). */
      dropped: string[];
      /** Channels where the listing was past its rules' throttle: the change went out in the digest. */
      throttled?: string[];
    }
  | { kind: 'abandoned' }
  | { kind: 'fatal'; error: unknown };

export interface RecordWorkDeps {
  deliverer: Deliverer;
  deadLetter: DeadLetterSink;
  clock: Clock;
  metrics: Metrics;
  logger: Logger;
  /** Backoff between dead-letter write attempts (retried until they succeed or are aborted). */
  retry: RetryPolicy;
  random: () => number;
}

export interface RecordWork {
  /** Every message went into a digest: the record's bytes were let go. */
  folded: boolean;
  done: Promise<Completion>;
}

type ChannelResult =
  | { kind: 'ok'; channel: string }
  | { kind: 'dropped'; channel: string }
  | { kind: 'dead-letter'; channel: string; error: NotifierError }
  | { kind: 'abandoned' }
  | { kind: 'fatal'; error: unknown };

/**
 * A copy of a buffer that is a view of a larger one, others as they are. kafkajs hands out keys,
 * values and headers as views of the whole fetch response (megabytes), which one kept view would pin
 * for as long as the record waits.
 */
const own = (bytes: Buffer | null): Buffer | null =>
  bytes === null || bytes.byteLength === bytes.buffer.byteLength ? bytes : Buffer.from(bytes);

/** A record that waits (for Slack or the dead-letter topic) with bytes of its own. */
export const withOwnBytes = (record: SourceRecord): SourceRecord => {
  const headers: SourceRecord['headers'] = {};
  for (const [name, value] of Object.entries(record.headers))
    headers[name] = Buffer.isBuffer(value) ? (own(value) ?? undefined) : value;
  return { ...record, key: own(record.key), value: own(record.value), headers };
};

/** What is kept of a record folded into a digest: where it is, not what it said (its key copied). */
const coordinatesOf = (record: SourceRecord): SourceRecord => ({
  topic: record.topic,
  partition: record.partition,
  offset: record.offset,
  key: own(record.key),
  value: null,
  headers: {},
  timestamp: record.timestamp,
});

/**
 * Every message is handed to delivery synchronously, before the first await, so that each channel's
 * lane receives them in record order (order per listing = order per partition).
 */
export function startRecordWork(
  record: SourceRecord,
  outcome: Outcome,
  deps: RecordWorkDeps,
  signal: AbortSignal,
): RecordWork {
  if (outcome.kind === 'dropped') {
    return {
      folded: false,
      done: Promise.resolve({ kind: 'finished', delivered: [], deadLettered: [], dropped: [] }),
    };
  }
  if (outcome.kind === 'dead-letter')
    return { folded: false, done: deadLetterRecord(withOwnBytes(record), outcome.error, deps, signal) };
  // A plain loop, no closure: a closure over `outcome` would keep the whole decoded event alive for as
  // long as the record waits (in a digest, possibly minutes, for tens of thousands of records).
  const origin = originOf(record);
  const submissions: Array<{ channel: string; digest: boolean; fate: Promise<Fate> }> = [];
  /** Channels where the listing was past its rules' throttle (the change went into the digest). */
  const throttled: string[] = [];
  for (const message of outcome.messages) {
    const submitted = submitOrFail(deps.deliverer, message, outcome.event, signal, origin);
    if (submitted.throttled === true) throttled.push(message.channel);
    submissions.push({ channel: message.channel, ...submitted });
  }
  const folded = submissions.length > 0 && submissions.every((s) => s.digest);
  // Only what the dead-letter topic would need is kept while the messages wait: for a record folded
  // into a digest its coordinates, for the others a copy of their bytes (never a view of the fetch).
  const kept = folded ? coordinatesOf(record) : withOwnBytes(record);
  const sourceTsMs = outcome.sourceTsMs;
  const results = submissions.map(({ channel, fate }) =>
    fate.then(
      (f) => fromFate(f, channel, sourceTsMs, deps),
      (error: unknown) => classify(error, signal),
    ),
  );
  return {
    folded,
    done: Promise.all(results).then((all) => settleChannels(kept, all, throttled, deps, signal)),
  };
}

/**
 * A submission, or this channel's message failed when handing it over threw (a bug in fold or compose
 * that this record's event met): the record is dead-lettered for that channel with PROCESSING_FAILED
 * instead of stopping the service (issue 19). A 'stop' error (delivery stopped) still stops it.
 * What a lane meets later, while sending, is the lane's to settle (it settles a share 'failed').
 */
function submitOrFail(
  deliverer: Deliverer,
  message: OutboundMessage,
  event: ChangeEvent | undefined,
  signal: AbortSignal,
  origin: string,
): Submission {
  try {
    return deliverer.submit(message, event, signal, origin);
  } catch (error) {
    const failure = asRecordFailure(error, 'fold');
    const fate: Promise<Fate> =
      failure.disposition === 'dead-letter'
        ? Promise.resolve({ kind: 'failed', error: failure })
        : Promise.reject(failure);
    return { digest: false, fate };
  }
}

/**
 * deliverer.accepts for admission, where a throw (a bug in the fold decision for this event) admits the
 * record: handing it over then fails it for that channel (submitOrFail), not the service.
 */
export function acceptsOrAdmits(
  deliverer: Pick<Deliverer, 'accepts'>,
  message: OutboundMessage,
  event: ChangeEvent | undefined,
): boolean {
  try {
    return deliverer.accepts(message, event);
  } catch {
    return true;
  }
}

/** A record that can never succeed: to the dead-letter topic, then finished. */
async function deadLetterRecord(
  record: SourceRecord,
  error: NotifierError,
  deps: RecordWorkDeps,
  signal: AbortSignal,
): Promise<Completion> {
  const r = await deadLetterWithRetry(record, error, undefined, deps, signal);
  return r === 'sent'
    ? { kind: 'finished', delivered: [], deadLettered: [{ code: error.code }], dropped: [] }
    : r;
}

function fromFate(
  fate: Fate,
  channel: string,
  sourceTsMs: number | undefined,
  deps: RecordWorkDeps,
): ChannelResult {
  switch (fate.kind) {
    case 'delivered':
      if (sourceTsMs !== undefined) {
        deps.metrics.observeEndToEndLatency(Math.max(0, deps.clock.now() - sourceTsMs) / 1000);
      }
      return { kind: 'ok', channel };
    case 'dropped':
      return { kind: 'dropped', channel };
    case 'failed':
      return { kind: 'dead-letter', channel, error: fate.error };
  }
}

/** Delivery rejects only on an abort, a 'stop' error or a bug; a message refused for good is a fate. */
const classify = (error: unknown, signal: AbortSignal): ChannelResult =>
  signal.aborted ? { kind: 'abandoned' } : { kind: 'fatal', error };

async function settleChannels(
  record: SourceRecord,
  results: ChannelResult[],
  throttled: string[],
  deps: RecordWorkDeps,
  signal: AbortSignal,
): Promise<Completion> {
  const fatal = results.find((r) => r.kind === 'fatal');
  if (fatal !== undefined) return fatal;
  if (results.some((r) => r.kind === 'abandoned')) return { kind: 'abandoned' };
  const delivered: string[] = [];
  const dropped: string[] = [];
  const deadLettered: Array<{ channel?: string; code: string }> = [];
  for (const r of results) {
    if (r.kind === 'ok') delivered.push(r.channel);
    if (r.kind === 'dropped') dropped.push(r.channel);
    if (r.kind !== 'dead-letter') continue;
    const sent = await deadLetterWithRetry(record, r.error, r.channel, deps, signal);
    if (sent !== 'sent') return sent;
    deadLettered.push({ channel: r.channel, code: r.error.code });
  }
  return {
    kind: 'finished',
    delivered,
    deadLettered,
    dropped,
    ...(throttled.length > 0 ? { throttled } : {}),
  };
}

/** Writes to the dead-letter topic until it works: a failed write is never a silent loss. */
export async function deadLetterWithRetry(
  record: SourceRecord,
  error: NotifierError,
  channel: string | undefined,
  deps: RecordWorkDeps,
  signal: AbortSignal,
): Promise<'sent' | { kind: 'abandoned' } | { kind: 'fatal'; error: unknown }> {
  const extra = channel === undefined ? undefined : { channel };
  try {
    await retrying(() => deps.deadLetter.send(record, error, extra), {
      policy: deps.retry,
      random: deps.random,
      sleep: (ms) => deps.clock.sleep(ms, signal),
      verdict: (failure) => (signal.aborted || dispositionOf(failure) !== 'retry' ? 'throw' : 'backoff'),
      onRetry: (failure, attempt, delayMs) =>
        deps.logger.warn(
          {
            topic: record.topic,
            partition: record.partition,
            offset: record.offset,
            attempt: attempt + 1,
            delayMs,
            error: describeError(failure),
          },
          'dead-letter write failed; retrying',
        ),
    });
    return 'sent';
  } catch (failure) {
    if (signal.aborted) return { kind: 'abandoned' };
    return { kind: 'fatal', error: failure };
  }
}
