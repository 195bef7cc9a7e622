/**
 * RecordSource on a kafkajs consumer group (kafkajs 2.2.4: https://kafka.js.org/docs/consuming).
 *
 * - autoCommit off and eachBatchAutoResolve off: kafkajs neither commits nor marks records read on its
 *   own; the app takes records (resolveOffset) and commits finished positions (commitOffsets).
 * - The handler never throws (kafkajs would retry the batch and then crash-restart the consumer, which
 *   turns one poison record into an endless loop); a throw that slips through is reported as fatal.
 * - consumer.commitOffsets silently does nothing while the runner is not running (during a crash-restart
 *   or before the first join): a commit counts only when kafkajs emits COMMIT_OFFSETS for it, otherwise
 *   commit() rejects and the app retries. Offsets of partitions outside the current assignment are never
 *   sent (the broker would accept them from any member of the current generation).
 * - Topics that do not exist yet are waited for (Debezium creates its topic with its first change
 *   event; subscribing earlier fails with UNKNOWN_TOPIC_OR_PARTITION): start() resolves once connected,
 *   the wait goes on in the background with a log line when it begins and about once a minute, and
 *   notReadyReason() says what is missing (/readyz). A topic that appeared while we waited is read from
 *   its beginning when the group has no committed offset, so its first records are not skipped.
 */
import type { Admin, Consumer, Kafka, KafkaMessage } from 'kafkajs';
import { NotifierError } from '../domain/errors.ts';
import type { SourceRecord } from '../domain/record.ts';
import type { Clock, CommitOffset, RecordSource, SourceHandlers, TopicPartition } from '../ports/index.ts';
import { type Logger, noopLogger } from '../ports/index.ts';
import { kafkaStartError } from './kafka-client.ts';
import { systemClock } from './system-clock.ts';

export interface KafkaSourceOptions {
  kafka: Kafka;
  groupId: string;
  topics: string[];
  /** Where a group without a committed offset starts: earliest when true, latest (default) when false. */
  fromBeginning?: boolean;
  /** kafkajs sessionTimeout; default 30 000 ms. */
  sessionTimeoutMs?: number;
  /** kafkajs heartbeatInterval; default 3000 ms. */
  heartbeatIntervalMs?: number;
  /** Partitions handled at once; default 4. Partitions are independent, records within one are in order. */
  partitionsConsumedConcurrently?: number;
  /** Fetch size per partition; default 1 MiB (kafkajs's). Bounds memory per paused partition. */
  maxBytesPerPartition?: number;
  /** Long-poll wait of an empty fetch; default 1000 ms (kafkajs's 5000 slows shutdown and tests). */
  maxWaitTimeInMs?: number;
  /** How often missing topics are looked for; default 2000 ms. */
  topicPollIntervalMs?: number;
  /** How often "still waiting for topics" is logged; default 60 000 ms. */
  topicWaitLogIntervalMs?: number;
  /** Default: the system clock. */
  clock?: Clock;
  logger?: Logger;
}

export interface KafkaSource extends RecordSource {
  readonly consumer: Consumer;
  /** Why the source is not consuming yet (topics missing), or undefined. */
  notReadyReason(): string | undefined;
}

const headerValue = (v: Buffer | string | (Buffer | string)[] | undefined): Buffer | string | undefined =>
  Array.isArray(v) ? v[v.length - 1] : v;

export function toSourceRecord(topic: string, partition: number, message: KafkaMessage): SourceRecord {
  const headers: SourceRecord['headers'] = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) headers[name] = headerValue(value);
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key ?? null,
    value: message.value ?? null,
    headers,
    timestamp: message.timestamp,
  };
}

const keyOf = (tp: TopicPartition): string => `${tp.topic}\u0000${tp.partition}`;

export function createKafkaSource(opts: KafkaSourceOptions): KafkaSource {
  const logger = opts.logger ?? noopLogger;
  const consumer = opts.kafka.consumer({
    groupId: opts.groupId,
    sessionTimeout: opts.sessionTimeoutMs ?? 30_000,
    heartbeatInterval: opts.heartbeatIntervalMs ?? 3000,
    maxBytesPerPartition: opts.maxBytesPerPartition ?? 1_048_576,
    maxWaitTimeInMs: opts.maxWaitTimeInMs ?? 1000,
    allowAutoTopicCreation: false,
  });
  let assigned = new Set<string>();
  let commitEvents = 0;
  let started = false;
  const clock = opts.clock ?? systemClock;
  const stopping = new AbortController();
  let waiting: { topics: string[]; since: number } | undefined;
  let background: Promise<void> = Promise.resolve();

  const listen = (handlers: SourceHandlers): void => {
    const { events } = consumer;
    consumer.on(events.GROUP_JOIN, (event) => {
      const partitions = Object.entries(event.payload.memberAssignment).flatMap(([topic, ps]) =>
        ps.map((partition) => ({ topic, partition })),
      );
      assigned = new Set(partitions.map(keyOf));
      handlers.onAssigned(partitions);
    });
    consumer.on(events.REBALANCING, () => {
      assigned = new Set();
      handlers.onUnassigned('rebalancing');
    });
    consumer.on(events.STOP, () => {
      assigned = new Set();
      handlers.onUnassigned('stopped');
    });
    consumer.on(events.CRASH, (event) => {
      assigned = new Set();
      handlers.onCrash(event.payload.error, event.payload.restart);
    });
    consumer.on(events.COMMIT_OFFSETS, () => {
      commitEvents += 1;
    });
  };

  return {
    consumer,

    async start(handlers) {
      if (started) throw new Error('kafka source already started');
      started = true;
      listen(handlers);
      await consumer.connect().catch((error: unknown) => {
        throw kafkaStartError(error);
      });
      const admin = opts.kafka.admin();
      try {
        await admin.connect();
        const missing = await missingTopics(admin, opts.topics);
        if (missing.length === 0) {
          await admin.disconnect();
          await subscribeAndRun(handlers, []);
          return;
        }
        waiting = { topics: missing, since: clock.now() };
        logger.warn(
          { topics: missing },
          `waiting for topic(s) to exist: ${missing.join(', ')} (consuming starts when they appear)`,
        );
      } catch (error) {
        await admin.disconnect().catch(() => {});
        throw kafkaStartError(error);
      }
      const waited = waiting.topics;
      background = waitForTopics(admin)
        .then((appeared) => (appeared ? subscribeAndRun(handlers, waited) : undefined))
        .catch((error: unknown) => {
          if (stopping.signal.aborted) return;
          logger.error({ error }, 'could not start consuming after waiting for the topics');
          handlers.onCrash(error, false);
        })
        .finally(() => admin.disconnect().catch(() => {}));
    },

    notReadyReason() {
      if (waiting === undefined) return undefined;
      const seconds = Math.round((clock.now() - waiting.since) / 1000);
      return `waiting for topic(s) to exist: ${waiting.topics.join(', ')} (for ${seconds} s)`;
    },

    pause(tp) {
      consumer.pause([{ topic: tp.topic, partitions: [tp.partition] }]);
    },

    resume(tp) {
      consumer.resume([{ topic: tp.topic, partitions: [tp.partition] }]);
    },

    async commit(offsets: readonly CommitOffset[]) {
      const refused = (why: string, cause?: unknown): NotifierError =>
        new NotifierError('KAFKA_COMMIT_FAILED', `commit refused: ${why}`, { cause, details: { offsets } });
      const mine = offsets.filter((o) => assigned.has(keyOf(o)));
      if (mine.length === 0) {
        if (offsets.length > 0) throw refused('not assigned any of these partitions (rebalancing)');
        return;
      }
      const before = commitEvents;
      try {
        await consumer.commitOffsets(
          mine.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset })),
        );
      } catch (cause) {
        throw refused((cause as Error).message, cause);
      }
      if (commitEvents === before) throw refused('consumer not running; kafkajs skipped the commit');
      if (mine.length < offsets.length) throw refused('some partitions are no longer assigned');
    },

    async stop() {
      stopping.abort(new Error('source stopping'));
      await background;
      await consumer.disconnect();
    },
  };

  /** Polls until every topic exists (true) or the source is stopped (false), logging about once a minute. */
  async function waitForTopics(admin: Admin): Promise<boolean> {
    const pollMs = opts.topicPollIntervalMs ?? 2000;
    const logEveryMs = opts.topicWaitLogIntervalMs ?? 60_000;
    let loggedAt = clock.now();
    for (;;) {
      try {
        await clock.sleep(pollMs, stopping.signal);
      } catch {
        return false; // stopped while waiting
      }
      const since = waiting?.since ?? clock.now();
      let missing = waiting?.topics ?? [...opts.topics];
      try {
        missing = await missingTopics(admin, opts.topics);
      } catch (error) {
        // The broker may be restarting: keep waiting, kafkajs reconnects.
        logger.warn({ error }, 'looking for the topics failed; still waiting');
      }
      if (missing.length === 0) {
        logger.info({ topics: opts.topics, waitedMs: clock.now() - since }, 'topic(s) exist now: consuming');
        waiting = undefined;
        return true;
      }
      waiting = { topics: missing, since };
      if (clock.now() - loggedAt >= logEveryMs) {
        loggedAt = clock.now();
        logger.warn(
          { topics: missing, waitedMs: clock.now() - since },
          `still waiting for topic(s) to exist: ${missing.join(', ')}`,
        );
      }
    }
  }

  /** Subscribes and starts the runner; topics in `fromStart` begin at their start when the group has no offset. */
  async function subscribeAndRun(handlers: SourceHandlers, fromStart: readonly string[]): Promise<void> {
    const rest = opts.topics.filter((t) => !fromStart.includes(t));
    if (rest.length > 0)
      await consumer.subscribe({ topics: rest, fromBeginning: opts.fromBeginning ?? false });
    if (fromStart.length > 0) await consumer.subscribe({ topics: [...fromStart], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: opts.partitionsConsumedConcurrently ?? 4,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        const { topic, partition } = batch;
        try {
          await handlers.onBatch({
            topic,
            partition,
            highWatermark: batch.highWatermark,
            records: batch.messages.map((m) => toSourceRecord(topic, partition, m)),
            take: resolveOffset,
            heartbeat,
            isActive: () => isRunning() && !isStale(),
          });
        } catch (error) {
          logger.error({ topic, partition, error }, 'batch handler threw; stopping instead of looping');
          handlers.onCrash(error, false);
        }
      },
    });
  }
}

/** The topics among `topics` that the cluster does not have (yet). */
async function missingTopics(admin: Admin, topics: readonly string[]): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  return topics.filter((t) => !existing.has(t));
}
