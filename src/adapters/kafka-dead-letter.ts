/**
 * DeadLetterSink on a kafkajs producer: the record's original key and value bytes (and headers) go to
 * the dead-letter topic, with headers saying why, so that a person can read the reason and a replay can
 * re-produce the exact bytes. The topic is `<original topic>.dlq` unless configured, created on first
 * use when missing. Any failure is DEAD_LETTER_FAILED, whose disposition is 'retry': the caller keeps
 * the record unfinished (uncommitted) and tries again, so a dead-letter outage never loses a record.
 */
import { type Admin, type IHeaders, type Kafka, Partitioners, type Producer } from 'kafkajs';
import { NotifierError } from '../domain/errors.ts';
import type { SourceRecord } from '../domain/record.ts';
import { type Clock, type DeadLetterSink, type Logger, noopLogger } from '../ports/index.ts';

export interface KafkaDeadLetterOptions {
  kafka: Kafka;
  /** source.deadLetterTopic; null (default) sends each record to `<its topic>.dlq`. */
  topic: string | null;
  clock: Clock;
  logger?: Logger;
  /** Partitions of a dead-letter topic this sink creates; default 1. */
  numPartitions?: number;
  /** Replication of a created topic; default -1 (the broker's default.replication.factor). */
  replicationFactor?: number;
}

export interface KafkaDeadLetter extends DeadLetterSink {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  /** The topic a record from `sourceTopic` goes to. */
  topicFor(sourceTopic: string): string;
}

/** Header values are bounded so that one enormous error text cannot make the record too large. */
const maxHeaderChars = 2000;
const clip = (s: string): string => (s.length > maxHeaderChars ? `${s.slice(0, maxHeaderChars - 1)}…` : s);

/** The dead-letter headers for a record (pure; exported for tests). */
export function deadLetterHeaders(
  record: SourceRecord,
  error: NotifierError,
  failedAtMs: number,
  channel?: string,
): IHeaders {
  const headers: IHeaders = {};
  // The original headers ride along (Debezium's __debezium.* key-change markers matter to a replay).
  for (const [name, value] of Object.entries(record.headers)) if (value !== undefined) headers[name] = value;
  Object.assign(headers, {
    'dlq.error.code': error.code,
    'dlq.error.message': clip(error.message),
    'dlq.original.topic': record.topic,
    'dlq.original.partition': String(record.partition),
    'dlq.original.offset': record.offset,
    'dlq.original.timestamp': record.timestamp,
    'dlq.failed.at': new Date(failedAtMs).toISOString(),
  });
  if (channel !== undefined) headers['dlq.channel'] = channel;
  return headers;
}

export function createKafkaDeadLetter(opts: KafkaDeadLetterOptions): KafkaDeadLetter {
  const logger = opts.logger ?? noopLogger;
  // Not idempotent: kafkajs's idempotent producer wants unlimited retries inside send(), which would
  // hide a broker outage from the caller; the service retries instead, and a rare duplicate in the
  // dead-letter topic is harmless (each carries its original offset).
  const producer: Producer = opts.kafka.producer({
    idempotent: false,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  const admin: Admin = opts.kafka.admin();
  const ensured = new Map<string, Promise<void>>();
  let connected: Promise<void> | undefined;

  const topicFor = (sourceTopic: string): string => opts.topic ?? `${sourceTopic}.dlq`;

  const connect = (): Promise<void> => {
    connected ??= Promise.all([producer.connect(), admin.connect()]).then(
      () => {},
      (error: unknown) => {
        connected = undefined;
        throw error;
      },
    );
    return connected;
  };

  const ensureTopic = (topic: string): Promise<void> => {
    let promise = ensured.get(topic);
    if (promise === undefined) {
      // Look before creating: kafkajs logs a create of an existing topic at error level
      // ("Topic creation errors") even though createTopics then resolves false.
      promise = admin
        .listTopics()
        .then(
          (existing): Promise<boolean> | boolean =>
            !existing.includes(topic) &&
            admin.createTopics({
              waitForLeaders: true,
              topics: [
                {
                  topic,
                  numPartitions: opts.numPartitions ?? 1,
                  replicationFactor: opts.replicationFactor ?? -1,
                },
              ],
            }),
        )
        .then((created) => {
          if (created) logger.info({ topic }, 'created the dead-letter topic');
        })
        .catch((error: unknown) => {
          ensured.delete(topic);
          // Another instance created it meanwhile: fine.
          if ((error as { type?: string }).type === 'TOPIC_ALREADY_EXISTS') return;
          throw error;
        });
      ensured.set(topic, promise);
    }
    return promise;
  };

  return {
    topicFor,
    connect,
    async disconnect() {
      connected = undefined;
      await Promise.allSettled([producer.disconnect(), admin.disconnect()]);
    },
    async send(record, error, extra) {
      const topic = topicFor(record.topic);
      try {
        await connect();
        await ensureTopic(topic);
        await producer.send({
          topic,
          acks: -1,
          messages: [
            {
              key: record.key,
              value: record.value,
              headers: deadLetterHeaders(record, error, opts.clock.now(), extra?.channel),
            },
          ],
        });
      } catch (cause) {
        throw new NotifierError(
          'DEAD_LETTER_FAILED',
          `could not write to ${topic}: ${(cause as Error).message}`,
          {
            cause,
            details: {
              topic,
              originalTopic: record.topic,
              partition: record.partition,
              offset: record.offset,
            },
          },
        );
      }
    },
  };
}
