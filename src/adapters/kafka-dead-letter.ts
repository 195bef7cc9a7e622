/**
 * DeadLetterSink on a kafkajs producer: the record's original key and value bytes (and headers) go to
 * the dead-letter topic, with headers saying why, so that a person can read the reason and a replay can
 * re-produce the exact bytes. The topic is `<original topic>.dlq` unless configured, created on first
 * use when missing.
 *
 * A letter always finds a way out (issue 19, finding 4):
 * - A letter the topic cannot take for its size (MESSAGE_TOO_LARGE: the record fitted the source topic,
 *   the dlq.* headers tip it over max.message.bytes) is written slim at once: the coordinates, the
 *   error, `dlq.value.omitted`, the original size and the topic's limit, and the first bytes of the value
 *   (`dlq.value.head`); the original headers are left out too. The record itself stays in the source
 *   topic, where `dlq redrive` reads it back by its coordinates. Once the limit is known (the topic's
 *   max.message.bytes, read after the first refusal), a letter sure not to fit goes slim without trying.
 * - Any other failure is DEAD_LETTER_FAILED (disposition 'retry'), with the broker's reason as
 *   `details.cause` (kafkajs's error type: TOPIC_AUTHORIZATION_FAILED, INVALID_RECORD, ...; 'network',
 *   'timeout', 'unknown' otherwise: a bounded set, for metric labels). The caller keeps the record
 *   unfinished (uncommitted) and tries again; src/app/dead-letter-guard.ts tells /readyz and the
 *   metrics once the retries pass their bound.
 */

import { type Admin, type IHeaders, type Kafka, Partitioners, type Producer } from 'kafkajs';
import { deadLetterSendRetryPolicy, kafkajsRetry } from '../delivery/retry-policy.ts';
import { NotifierError } from '../domain/errors.ts';
import type { SourceRecord } from '../domain/record.ts';
import {
  type Clock,
  type DeadLetterSink,
  type Logger,
  type Metrics,
  noopLogger,
  noopMetrics,
} from '../ports/index.ts';

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
  /** Counts slim letters (deadLetterWrite('slim', ...)). */
  metrics?: Metrics;
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

/** Bytes of the value a slim letter keeps (`dlq.value.head`), so a person sees what the record was. */
export const slimHeadBytes = 1024;
/** A key longer than this is left out of a slim letter too (Debezium keys are a few dozen bytes). */
const slimKeyBytes = 1024;
/** Record batch and header framing on top of key, value and headers, for the size estimate. */
const framingBytes = 512;

const tooLargeTypes = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);

/**
 * The cause of a producer failure as a bounded label: kafkajs's protocol error type (Kafka's fixed
 * list of error names), else the failure class. Looks through kafkajs's wrappers (retries exceeded,
 * aggregate errors).
 */
export function producerCause(error: unknown, depth = 0): string {
  if (typeof error !== 'object' || error === null || depth > 4) return 'unknown';
  const e = error as {
    name?: string;
    type?: unknown;
    cause?: unknown;
    originalError?: unknown;
    errors?: unknown;
  };
  if (typeof e.type === 'string' && /^[A-Z][A-Z_]{2,60}$/.test(e.type)) return e.type;
  for (const inner of [e.originalError, e.cause, Array.isArray(e.errors) ? e.errors[0] : undefined]) {
    const cause = inner === undefined ? 'unknown' : producerCause(inner, depth + 1);
    if (cause !== 'unknown') return cause;
  }
  if (e.name === 'KafkaJSConnectionError' || e.name === 'KafkaJSConnectionClosedError') return 'network';
  if (e.name === 'KafkaJSRequestTimeoutError' || e.name === 'KafkaJSTimeout') return 'timeout';
  return 'unknown';
}

const headerBytes = (headers: IHeaders): number =>
  Object.entries(headers).reduce(
    (n, [k, v]) => n + k.length + (v === undefined ? 0 : Buffer.byteLength(v as never)),
    0,
  );

/**
 * The slim letter for a record too large for the dead-letter topic (pure; exported for tests): no
 * original headers, no value, its first `slimHeadBytes` bytes in `dlq.value.head`.
 */
export function slimLetter(
  record: SourceRecord,
  error: NotifierError,
  failedAtMs: number,
  channel: string | undefined,
  limit: number | undefined,
): { key: Buffer | null; value: null; headers: IHeaders } {
  const headers = deadLetterHeaders({ ...record, headers: {} }, error, failedAtMs, channel);
  const size = record.value?.length ?? 0;
  const keptKey = record.key !== null && record.key.length <= slimKeyBytes ? record.key : null;
  Object.assign(headers, {
    'dlq.value.omitted': `too large for the dead-letter topic (${size} bytes${limit === undefined ? '' : `, max.message.bytes ${limit}`}): read it from dlq.original.*`,
    'dlq.value.bytes': String(size),
    'dlq.headers.omitted': Object.keys(record.headers).join(',').slice(0, 1000),
  });
  if (record.value !== null) headers['dlq.value.head'] = record.value.subarray(0, slimHeadBytes);
  if (keptKey === null && record.key !== null) headers['dlq.key.omitted'] = `${record.key.length} bytes`;
  return { key: keptKey, value: null, headers };
}

export function createKafkaDeadLetter(opts: KafkaDeadLetterOptions): KafkaDeadLetter {
  const metrics = opts.metrics ?? noopMetrics;
  // max.message.bytes per dead-letter topic, learnt after its first size refusal.
  const limits = new Map<string, number>();
  const logger = opts.logger ?? noopLogger;
  // Not idempotent: kafkajs's idempotent producer wants unlimited retries inside send(), which would
  // hide a broker outage from the caller; the service retries instead, and a rare duplicate in the
  // dead-letter topic is harmless (each carries its original offset).
  const producer: Producer = opts.kafka.producer({
    idempotent: false,
    maxInFlightRequests: 1,
    // Few retries inside send(): the caller's backoff (and its bound, dead-letter-guard.ts) decide.
    retry: kafkajsRetry(deadLetterSendRetryPolicy),
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
      const failedAtMs = opts.clock.now();
      const full = {
        key: record.key,
        value: record.value,
        headers: deadLetterHeaders(record, error, failedAtMs, extra?.channel),
      };
      // A record folded into a digest reaches here with its coordinates only.
      if (record.value === null)
        full.headers['dlq.value.omitted'] = 'not carried (coordinates only): read it from dlq.original.*';
      const write = (message: { key: Buffer | null; value: Buffer | null; headers: IHeaders }) =>
        producer.send({ topic, acks: -1, messages: [message] });
      const slim = async (cause: string): Promise<void> => {
        await write(slimLetter(record, error, failedAtMs, extra?.channel, limits.get(topic)));
        metrics.deadLetterWrite('slim', cause);
        logger.warn(
          {
            topic,
            originalTopic: record.topic,
            partition: record.partition,
            offset: record.offset,
            bytes: record.value?.length ?? 0,
            limit: limits.get(topic),
          },
          'dead letter too large for its topic: written slim (coordinates, error, first bytes)',
        );
      };
      try {
        await connect();
        await ensureTopic(topic);
        const limit = limits.get(topic);
        const estimate =
          (record.key?.length ?? 0) + (record.value?.length ?? 0) + headerBytes(full.headers) + framingBytes;
        if (limit !== undefined && estimate > limit) await slim('MESSAGE_TOO_LARGE');
        else {
          try {
            await write(full);
          } catch (cause) {
            if (!tooLargeTypes.has(producerCause(cause))) throw cause;
            if (!limits.has(topic)) {
              const learnt = await topicLimit(topic);
              if (learnt !== undefined) limits.set(topic, learnt);
            }
            await slim(producerCause(cause));
          }
        }
      } catch (cause) {
        const label = producerCause(cause);
        // Even the slim letter was too large: the topic's limit is not what was learnt (its config
        // changed), so the next attempt tries the whole letter and learns the limit afresh.
        if (tooLargeTypes.has(label)) limits.delete(topic);
        throw new NotifierError(
          'DEAD_LETTER_FAILED',
          `could not write to ${topic}: ${label === 'unknown' ? '' : `${label}: `}${(cause as Error).message}`,
          {
            cause,
            details: {
              topic,
              cause: label,
              originalTopic: record.topic,
              partition: record.partition,
              offset: record.offset,
            },
          },
        );
      }
    },
  };

  /** The topic's max.message.bytes (broker default message.max.bytes when not set); undefined if unknown. */
  async function topicLimit(topic: string): Promise<number | undefined> {
    try {
      const described = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [
          { type: 2 /* ConfigResourceTypes.TOPIC */, name: topic, configNames: ['max.message.bytes'] },
        ],
      });
      const value = Number(described.resources[0]?.configEntries[0]?.configValue);
      return Number.isFinite(value) && value > 0 ? value : undefined;
    } catch {
      return undefined;
    }
  }
}
