/**
 * Watches the dead-letter sink for a topic that refuses writes (issue 19, finding 4). The record loop
 * retries a failed dead-letter write with backoff (record-work.ts, `retrying()` on delivery.retry) and
 * keeps the record uncommitted, so nothing is ever committed past a letter that was not written. What
 * this adds is the bound: a topic whose writes failed `blockAfter` times in a row (default 5), or have
 * kept failing for `blockAfterMs` (default 15 s: the time since the first failed attempt began, with
 * no write succeeding since), is blocked, with the broker's reason: `/readyz` turns 503 saying which
 * topic refuses writes and why, the gauge `listing_notifier_dead_letter_blocked{topic,cause}` is 1
 * (PrometheusRule ListingNotifierDeadLetterBlocked), and one error line is logged. The time bound
 * matters because a count alone may never be reached: a write the broker refuses slowly (kafkajs's own
 * retries inside send()) plus the backoff can take many seconds per attempt.
 *
 * `blocked()` (what /readyz reads) judges both bounds against the clock at the time it is asked; the
 * gauge and the log line follow at the next failed attempt (the backoff's cap, delivery.retry.maxDelayMs,
 * at the latest), so no timer keeps the process alive. Writes keep being retried, so fixing the topic
 * (its ACL, its config) lets the partition move on without a restart; the first write that succeeds
 * clears the block.
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
  /** How long one topic's writes may keep failing before it is reported blocked. Default 15 000 ms. */
  blockAfterMs?: number;
}

/** One topic's failing writes: the last failure's facts, since when, and what the gauge was told. */
export interface FailingTopic {
  /** The block as it would be reported (failures, cause, message, record of the last failure). */
  block: DeadLetterBlock;
  /** The cause the gauge and the log were given, once the topic was declared blocked. */
  declared: string | undefined;
}

/** Pure: has this topic's failing passed either bound at `nowMs`? */
export function isBlocked(
  topic: Pick<FailingTopic, 'block'>,
  nowMs: number,
  bounds: { blockAfter: number; blockAfterMs: number },
): boolean {
  return topic.block.failures >= bounds.blockAfter || nowMs - topic.block.sinceMs >= bounds.blockAfterMs;
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
  const bounds = { blockAfter: opts.blockAfter ?? 5, blockAfterMs: opts.blockAfterMs ?? 15_000 };
  const topics = new Map<string, FailingTopic>();

  const clear = (topic: string): void => {
    const state = topics.get(topic);
    topics.delete(topic);
    if (state?.declared === undefined) return;
    opts.metrics.deadLetterBlocked(topic, state.declared, false);
    opts.logger.info(
      { topic, cause: state.declared, failures: state.block.failures },
      'dead-letter topic takes writes again',
    );
  };

  /** Sets the gauge and logs once the topic passed a bound; moves the gauge when the cause changes. */
  const declare = (topic: string, state: FailingTopic, now: number): void => {
    const { cause } = state.block;
    if (state.declared !== undefined) {
      if (state.declared === cause) return;
      opts.metrics.deadLetterBlocked(topic, state.declared, false);
      opts.metrics.deadLetterBlocked(topic, cause, true);
      state.declared = cause;
      return;
    }
    if (!isBlocked(state, now, bounds)) return;
    state.declared = cause;
    opts.metrics.deadLetterBlocked(topic, cause, true);
    const { failures, record, message } = state.block;
    opts.logger.error(
      { topic, cause, failures, failingForMs: now - state.block.sinceMs, record, error: message },
      `dead-letter topic ${topic} refuses writes (${cause}): records wait uncommitted; retrying`,
    );
  };

  return {
    async send(record, error, extra) {
      const topic = opts.topicFor(record.topic);
      // The time bound counts from the start of the first failed attempt: a write that hangs before
      // it fails is part of the failing.
      const startedMs = opts.clock.now();
      try {
        await sink.send(record, error, extra);
      } catch (failure) {
        const cause = detail(failure, 'cause') ?? codeOf(failure).toLowerCase();
        opts.metrics.deadLetterWrite('failed', cause);
        const now = opts.clock.now();
        const message = failure instanceof Error ? failure.message : String(failure);
        const coordinates = { topic: record.topic, partition: record.partition, offset: record.offset };
        const previous = topics.get(topic);
        const state: FailingTopic = previous ?? {
          block: { topic, cause, message, sinceMs: startedMs, failures: 0, record: coordinates },
          declared: undefined,
        };
        state.block = {
          ...state.block,
          cause,
          message,
          sinceMs: Math.min(state.block.sinceMs, startedMs),
          failures: state.block.failures + 1,
          record: coordinates,
        };
        topics.set(topic, state);
        declare(topic, state, now);
        throw failure;
      }
      opts.metrics.deadLetterWrite('ok', '');
      clear(topic);
    },
    blocked: () => {
      const now = opts.clock.now();
      return [...topics.values()].flatMap((s) => (isBlocked(s, now, bounds) ? [s.block] : []));
    },
  };
}
