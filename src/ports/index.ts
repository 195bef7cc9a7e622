/**
 * The small ports through which I/O enters the pipeline. Each has one real adapter (src/adapters/)
 * and one fake (test/support/). Only the composition root chooses.
 */
import type { NotifierError } from '../domain/errors.ts';
import type { SlackPayload } from '../domain/message.ts';
import type { SourceRecord } from '../domain/record.ts';

/** Time, so that pure stages and schedulers never read the wall clock themselves. */
export interface Clock {
  now(): number;
  /** Resolves after `ms`, or rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * A chat destination (Slack's Web API). Throws NotifierError with a SLACK_* code:
 * SLACK_RATE_LIMITED carries details.retryAfterMs; SLACK_PERMANENT / SLACK_AUTH carry details.slackError.
 */
export interface ChatDestination {
  /** chat.postMessage; with `threadTs`, a reply in the thread of that message. */
  post(channel: string, payload: SlackPayload, options?: PostOptions): Promise<{ ts: string }>;
  /**
   * A file shared into the channel through Slack's external upload flow
   * (https://docs.slack.dev/messaging/working-with-files#upload): files.getUploadURLExternal, the bytes
   * POSTed to the upload URL, then files.completeUploadExternal with the channel (and thread).
   */
  upload(channel: string, file: ChatFile, options?: PostOptions): Promise<{ fileId: string }>;
}

export interface PostOptions {
  /** Post as a reply in the thread of this message (its `ts`). */
  threadTs?: string;
}

export interface ChatFile {
  /** e.g. "price-changes-2026-11-26T10-00-00Z.csv". */
  filename: string;
  /** Shown in Slack above the file. */
  title: string;
  content: Buffer;
  /** Shown with the file as a comment (plain text, no mrkdwn is parsed). Optional. */
  initialComment?: string;
}

/** Where records (or single messages) that can never succeed go, with the reason. */
export interface DeadLetterSink {
  send(record: SourceRecord, error: NotifierError, extra?: { channel?: string }): Promise<void>;
}

/**
 * Confluent wire-format decoding (magic byte 0 + 4-byte schema id) through a schema registry.
 * Failures are NotifierErrors: SCHEMA_NOT_FOUND, REGISTRY_UNAVAILABLE (retry), DECODE_FAILED, or
 * REGISTRY_AUTH (stop) when the registry refuses the credentials.
 */
export interface SchemaRegistryPort {
  decode(buffer: Buffer): Promise<unknown>;
  /**
   * The writer schema registered under `id`, as the registry stores it. Optional: decode uses it to
   * convert Kafka Connect logical types (an Avro Decimal is bytes whose scale lives only in the
   * schema); without it, registry values are converted like schemaless JSON.
   */
  rawSchema?(id: number): Promise<RegistrySchema>;
}

/** A registered schema: its type and its text (Avro schema JSON, JSON Schema, or .proto source). */
export interface RegistrySchema {
  type: 'AVRO' | 'JSON' | 'PROTOBUF';
  schema: string;
}

/** What the service counts; the prom-client adapter exposes it on /metrics, tests use noopMetrics. */
export interface Metrics {
  recordOutcome(outcome: 'notify' | 'dropped' | 'dead-letter', reason: string): void;
  /** Debezium's source timestamp -> Slack's ok, in seconds. */
  observeEndToEndLatency(seconds: number): void;
  /** result: 'ok' or the Slack error / failure class (e.g. 'ratelimited', 'http_503', 'channel_not_found'). */
  slackCall(result: string): void;
  rateLimited(channel: string): void;
  setQueueDepth(channel: string, depth: number): void;
  setConsumerLag(topic: string, partition: number, lag: number): void;
}

export const noopMetrics: Metrics = {
  recordOutcome: () => {},
  observeEndToEndLatency: () => {},
  slackCall: () => {},
  rateLimited: () => {},
  setQueueDepth: () => {},
  setConsumerLag: () => {},
};

/**
 * Structured logging (pino-compatible: a pino Logger satisfies this). The first argument holds the
 * fields, the second the message. Adapters redact secrets (src/adapters/logger.ts); callers still never
 * pass a token in.
 */
export interface Logger {
  debug(fields: Record<string, unknown>, msg?: string): void;
  info(fields: Record<string, unknown>, msg?: string): void;
  warn(fields: Record<string, unknown>, msg?: string): void;
  error(fields: Record<string, unknown>, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

export const noopLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => noopLogger,
};
