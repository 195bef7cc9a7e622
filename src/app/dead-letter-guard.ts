/**
 * Watches the dead-letter sink for a topic that refuses writes (issue 19, finding 4). The record loop
 * retries a failed dead-letter write with backoff (record-work.ts, `retrying()` on delivery.retry) and
 * keeps the record uncommitted, so nothing is ever committed past a letter that was not written. What
 * this adds is the bound: after `blockAfter` consecutive failures of one topic (default 5: about 7.5 s
 * with the default backoff of 0.5, 1, 2, 4 s) the topic is declared blocked, with the broker's reason:
 * `/readyz` turns 503 saying which topic refuses writes and why, the gauge
 * `listing_notifier_dead_letter_blocked{topic,cause}` is 1 (PrometheusRule
 * ListingNotifierDeadLetterBlocked), and one error line is logged. Writes keep being retried at the
 * backoff's cap (delivery.retry.maxDelayMs), so fixing the topic (its ACL, its config) lets the
 * partition move on without a restart; the first write that succeeds clears the block.
 *
 * A letter too large for the topic never blocks: the sink writes it slim (kafka-dead-letter.ts).
 */
import { codeOf, isNotifierError } from '../domain/errors.ts';
import type { Clock, DeadLetterSink, Logger, Metrics } from '../ports/index.ts';

export interface DeadLetterBlock {
  topic: string;
  /** The broker's reason, a bounded label: TOPIC_AUTHORIZATION_FAILED, INVALID_RECORD, network, ... */
  cause: string;
  /** The last failure's message. */
  message: string;
  sinceMs: number;
  /** Consecutive failed writes. */
  failures: number;
  /** The record whose letter failed last: it stays uncommitted, and so does everything after it. */
  record: { topic: string; partition: number; offset: string };
}

export interface GuardedDeadLetter extends DeadLetterSink {
  /** Topics that refuse writes past the bound, oldest first. */
  blocked(): DeadLetterBlock[];
}

export interface DeadLetterGuardOptions {
  clock: Clock;
  metrics: Metrics;
  logger: Logger;
  /** The dead-letter topic a record of `sourceTopic` goes to (KafkaDeadLetter.topicFor). */
  topicFor(sourceTopic: string): string;
  /** Consecutive failures of one topic before it is reported blocked. Default 5. */
  blockAfter?: number;
}

interface TopicState {
  failures: number;
  firstFailureMs: number;
  block: DeadLetterBlock | undefined;
}

const detail = (error: unknown, name: string): string | undefined => {
  const value = isNotifierError(error) ? error.details[name] : undefined;
  return typeof value === 'string' ? value : undefined;
};

/** `/readyz`'s reason for the blocks (pure). */
export function blockedReason(blocks: readonly DeadLetterBlock[], nowMs: number): string {
  return blocks
    .map(
      (b) =>
        `dead-letter topic ${b.topic} refuses writes (${b.cause}) for ${Math.round((nowMs - b.sinceMs) / 1000)} s, ` +
        `${b.failures} attempts: ${b.record.topic}[${b.record.partition}] is held uncommitted at offset ${b.record.offset}; last error: ${b.message}`,
    )
    .join('; ');
}

export function guardDeadLetter(sink: DeadLetterSink, opts: DeadLetterGuardOptions): GuardedDeadLetter {
  const blockAfter = opts.blockAfter ?? 5;
  const topics = new Map<string, TopicState>();

  const clear = (topic: string): void => {
    const state = topics.get(topic);
    topics.delete(topic);
    if (state?.block === undefined) return;
    opts.metrics.deadLetterBlocked(topic, state.block.cause, false);
    opts.logger.info(
      { topic, cause: state.block.cause, failures: state.failures },
      'dead-letter topic takes writes again',
    );
  };

  return {
    async send(record, error, extra) {
      const topic = opts.topicFor(record.topic);
      try {
        await sink.send(record, error, extra);
      } catch (failure) {
        const cause = detail(failure, 'cause') ?? codeOf(failure).toLowerCase();
        opts.metrics.deadLetterWrite('failed', cause);
        const now = opts.clock.now();
        const state = topics.get(topic) ?? { failures: 0, firstFailureMs: now, block: undefined };
        topics.set(topic, state);
        state.failures += 1;
        const message = failure instanceof Error ? failure.message : String(failure);
        const coordinates = { topic: record.topic, partition: record.partition, offset: record.offset };
        if (state.block !== undefined) {
          if (state.block.cause !== cause) {
            opts.metrics.deadLetterBlocked(topic, state.block.cause, false);
            opts.metrics.deadLetterBlocked(topic, cause, true);
          }
          state.block = { ...state.block, cause, message, failures: state.failures, record: coordinates };
        } else if (state.failures >= blockAfter) {
          state.block = {
            topic,
            cause,
            message,
            sinceMs: state.firstFailureMs,
            failures: state.failures,
            record: coordinates,
          };
          opts.metrics.deadLetterBlocked(topic, cause, true);
          opts.logger.error(
            { topic, cause, failures: state.failures, record: coordinates, error: message },
            `dead-letter topic ${topic} refuses writes (${cause}): records wait uncommitted; retrying`,
          );
        }
        throw failure;
      }
      opts.metrics.deadLetterWrite('ok', '');
      clear(topic);
    },
    blocked: () => [...topics.values()].flatMap((s) => (s.block === undefined ? [] : [s.block])),
  };
}
