/**
 * Finishing one taken record: deliver its messages, dead-letter what can never succeed, and say whether
 * the record is finished (its offset may be committed), abandoned (aborted: revoked or shutting down,
 * so it will be read again), or fatal (the service must stop).
 */

import { backoffDelay, type RetryPolicy } from '../delivery/retry-policy.ts';
import type { NotifierError } from '../domain/errors.ts';
import { isNotifierError } from '../domain/errors.ts';
import type { OutboundMessage } from '../domain/message.ts';
import type { Outcome } from '../domain/outcome.ts';
import type { SourceRecord } from '../domain/record.ts';
import type { Clock, DeadLetterSink, Logger, Metrics } from '../ports/index.ts';
import { describeError, dispositionOf } from './disposition.ts';

/** src/delivery/scheduler.ts's DeliveryResult. */
export type DeliveryResult = { ok: true; ts: string } | { ok: false; error: NotifierError };

/** The part of the delivery scheduler (src/delivery/scheduler.ts) the service uses. */
export interface Deliverer {
  /** Retries 429s and transient failures until `signal` aborts; rejects with a 'stop' error on SLACK_AUTH. */
  deliver(message: OutboundMessage, signal?: AbortSignal): Promise<DeliveryResult>;
  pendingByChannel(): Record<string, number>;
  waitForRoom(channel: string): Promise<void>;
}

export type Completion =
  | {
      kind: 'finished';
      delivered: string[];
      /** Dead-lettered: the whole record (no channel) or single channels' messages. */
      deadLettered: Array<{ channel?: string; code: string }>;
    }
  | { kind: 'abandoned' }
  | { kind: 'fatal'; error: unknown };

export interface CompletionDeps {
  deliverer: Deliverer;
  deadLetter: DeadLetterSink;
  clock: Clock;
  metrics: Metrics;
  logger: Logger;
  /** Backoff between dead-letter write attempts (they are retried until they succeed or are aborted). */
  retry: RetryPolicy;
  random: () => number;
}

type ChannelResult =
  | { kind: 'ok'; channel: string }
  | { kind: 'dead-letter'; channel: string; error: NotifierError }
  | { kind: 'abandoned' }
  | { kind: 'fatal'; error: unknown };

/**
 * Every message is handed to the scheduler synchronously, before the first await, so that the
 * scheduler's per-channel queues receive them in record order (order per listing = order per partition).
 */
export function completeRecord(
  record: SourceRecord,
  outcome: Outcome,
  deps: CompletionDeps,
  signal: AbortSignal,
): Promise<Completion> {
  if (outcome.kind === 'dropped')
    return Promise.resolve({ kind: 'finished', delivered: [], deadLettered: [] });
  if (outcome.kind === 'dead-letter') {
    return deadLetterWithRetry(record, outcome.error, undefined, deps, signal).then((r) =>
      r === 'sent' ? { kind: 'finished', delivered: [], deadLettered: [{ code: outcome.error.code }] } : r,
    );
  }
  const results = outcome.messages.map((message) => deliverOne(message, outcome.sourceTsMs, deps, signal));
  return Promise.all(results).then((all) => settleChannels(record, all, deps, signal));
}

function deliverOne(
  message: OutboundMessage,
  sourceTsMs: number | undefined,
  deps: CompletionDeps,
  signal: AbortSignal,
): Promise<ChannelResult> {
  const { channel } = message;
  return deps.deliverer.deliver(message, signal).then(
    (result): ChannelResult => {
      if (result.ok) {
        if (sourceTsMs !== undefined) {
          deps.metrics.observeEndToEndLatency(Math.max(0, deps.clock.now() - sourceTsMs) / 1000);
        }
        return { kind: 'ok', channel };
      }
      return classify(result.error, channel, signal);
    },
    (error: unknown): ChannelResult => classify(error, channel, signal),
  );
}

function classify(error: unknown, channel: string, signal: AbortSignal): ChannelResult {
  if (signal.aborted) return { kind: 'abandoned' };
  switch (dispositionOf(error)) {
    case 'dead-letter':
      return { kind: 'dead-letter', channel, error: error as NotifierError };
    case 'retry':
      // The scheduler retries until aborted; a 'retry' result without an abort is a broken promise.
      return { kind: 'fatal', error };
    case 'stop':
      return { kind: 'fatal', error };
  }
}

async function settleChannels(
  record: SourceRecord,
  results: ChannelResult[],
  deps: CompletionDeps,
  signal: AbortSignal,
): Promise<Completion> {
  const fatal = results.find((r) => r.kind === 'fatal');
  if (fatal !== undefined) return fatal;
  if (results.some((r) => r.kind === 'abandoned')) return { kind: 'abandoned' };
  const delivered: string[] = [];
  const deadLettered: Array<{ channel?: string; code: string }> = [];
  for (const r of results) {
    if (r.kind === 'ok') delivered.push(r.channel);
    if (r.kind !== 'dead-letter') continue;
    const sent = await deadLetterWithRetry(record, r.error, r.channel, deps, signal);
    if (sent !== 'sent') return sent;
    deadLettered.push({ channel: r.channel, code: r.error.code });
  }
  return { kind: 'finished', delivered, deadLettered };
}

/** Writes to the dead-letter topic until it works: a failed write is never a silent loss. */
async function deadLetterWithRetry(
  record: SourceRecord,
  error: NotifierError,
  channel: string | undefined,
  deps: CompletionDeps,
  signal: AbortSignal,
): Promise<'sent' | { kind: 'abandoned' } | { kind: 'fatal'; error: unknown }> {
  const extra = channel === undefined ? undefined : { channel };
  for (let attempt = 0; ; attempt += 1) {
    if (signal.aborted) return { kind: 'abandoned' };
    try {
      await deps.deadLetter.send(record, error, extra);
      return 'sent';
    } catch (failure) {
      // Only an explicit 'stop' stops; anything else from the sink (its own DEAD_LETTER_FAILED, or an
      // unexpected client error) is treated as transient, because giving up would lose the record.
      if (isNotifierError(failure) && failure.disposition === 'stop')
        return { kind: 'fatal', error: failure };
      const delayMs = backoffDelay(deps.retry, attempt, deps.random);
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
      );
      try {
        await deps.clock.sleep(delayMs, signal);
      } catch {
        return { kind: 'abandoned' };
      }
    }
  }
}
