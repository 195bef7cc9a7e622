/**
 * The small ports through which I/O enters the pipeline. Each has one real adapter (src/adapters/)
 * and one fake (test/support/). Only the composition root chooses.
 */
import type { ChangeEvent } from '../domain/change.ts';
import type { NotifierError } from '../domain/errors.ts';
import type { OutboundMessage, Priority, SlackPayload } from '../domain/message.ts';
import type { Outcome } from '../domain/outcome.ts';
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
  post(channel: string, payload: SlackPayload, options?: PostOptions): Promise<PostResult>;
  /**
   * chat.update (https://docs.slack.dev/reference/methods/chat.update): the message `ts` in `channel`
   * (an id: Slack's chat.update takes no "#name") says `payload` now. Optional, with canUpdate: only
   * Slack edits messages (Teams and webhooks never: update in place posts there as usual).
   */
  update?(channel: string, ts: string, payload: SlackPayload): Promise<{ ts: string }>;
  /** Whether `update` can edit this channel's messages. Absent: it cannot. */
  canUpdate?(channel: string): boolean;
  /**
   * A file shared into the channel through Slack's external upload flow
   * (https://docs.slack.dev/messaging/working-with-files#upload): files.getUploadURLExternal, the bytes
   * POSTed to the upload URL, then files.completeUploadExternal with the channel (and thread).
   */
  upload(channel: string, file: ChatFile, options?: PostOptions): Promise<{ fileId: string }>;
}

export interface PostResult {
  ts: string;
  /** The channel's id as the service answered it (Slack's chat.postMessage), when it has one. */
  channel?: string;
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
  /** Shown with the file as its message text: Slack parses it as mrkdwn, so escape data in it. Optional. */
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
  /**
   * Flood control folded a change: coalesced, digest, throttled (into the digest by its rules'
   * throttle), lifted (urgent out of a digest), cancelled (net zero).
   */
  folded(channel: string, kind: string): void;
  /** A message not posted again: the delivery ledger says a message already carried the record there. */
  ledgerHit(channel: string): void;
  /** A call waited on the shared pace gates (another replica, or this one, had used the slot). */
  paceWait(ms: number): void;
  /** The shared store could not be reached (op: pace, ledger, anchors); pace fell back to a local share. */
  storeFallback(op: string): void;
  /**
   * A dead-letter write: 'ok', 'failed' (cause: the broker's reason, e.g. TOPIC_AUTHORIZATION_FAILED),
   * or 'slim' (too large for the topic: written without its value; also counted 'ok').
   */
  deadLetterWrite(result: 'ok' | 'failed' | 'slim', cause: string): void;
  /** A dead-letter topic refuses writes past the retry bound (blocked) or takes them again. */
  deadLetterBlocked(topic: string, cause: string, blocked: boolean): void;
  /** A Kafka broker answered the consumer at `atMs` (epoch ms): kafka-contact.ts. */
  kafkaContact(atMs: number): void;
  /**
   * A request to the interactivity endpoint (src/app/interactivity.ts), by outcome: muted, explained,
   * ignored (not a click we act on), failed (acting failed), or refused: forged, stale, replayed,
   * malformed, too-large.
   */
  interaction(outcome: string): void;
}

export const noopMetrics: Metrics = {
  recordOutcome: () => {},
  observeEndToEndLatency: () => {},
  slackCall: () => {},
  rateLimited: () => {},
  setQueueDepth: () => {},
  folded: () => {},
  setConsumerLag: () => {},
  ledgerHit: () => {},
  paceWait: () => {},
  storeFallback: () => {},
  deadLetterWrite: () => {},
  deadLetterBlocked: () => {},
  kafkaContact: () => {},
  interaction: () => {},
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
  /** pino's: lets a caller skip building lines nobody reads (one per record of a fold run). */
  isLevelEnabled?(level: string): boolean;
}

export const noopLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => noopLogger,
};

export type { KafkaSecurity, PartitionOffset, Watermarks } from './kafka.ts';
export type { MuteStore } from './mutes.ts';
export type {
  CommitOffset,
  KafkaContact,
  RecordSource,
  SourceBatch,
  SourceHandlers,
  TopicPartition,
} from './source.ts';
export type {
  AlertEntry,
  AlertMemory,
  ClaimState,
  DeliveryLedger,
  LastValuesStore,
  PaceBucket,
  PaceGate,
  StoreStatus,
  ThreadAnchors,
} from './store.ts';
export type {
  FetchedRecord,
  PartitionRange,
  ReadControl,
  ReadOptions,
  TopicReader,
} from './topic-reader.ts';

/** src/pipeline/index.ts's Pipeline: never throws for a record problem; rethrows 'retry' and 'stop' errors. */
export interface RecordPipeline {
  process(record: SourceRecord): Promise<Outcome>;
}

/** What became of one record's message in one channel. */
export type Fate =
  | { kind: 'delivered'; folded: 'no' | 'coalesced' | 'digest'; ts: string }
  /** Nothing to send any more: the listing's changes in the channel cancelled out. */
  | { kind: 'dropped'; reason: string }
  /** Refused for good (a SLACK_PERMANENT error): the record is dead-lettered for this channel. */
  | { kind: 'failed'; error: NotifierError };

export type DeliveryResult = { ok: true; ts: string } | { ok: false; error: NotifierError };

/**
 * Delivery as the record loop sees it (src/delivery/scheduler.ts): per-channel lanes at the chat
 * service's pace, with flood control (coalescing, digests, urgent first).
 */
export interface Deliverer {
  /**
   * Hands one routed message to its channel's lane, synchronously (per channel, order of calls is
   * order of delivery per listing). `event` lets the lane fold it (coalesce, digest); without it the
   * message is sent as it is. Resolves with the message's fate; rejects with the signal's reason when it
   * aborts first, or with the 'stop' error (bad token) that stopped delivery.
   */
  submit(
    message: OutboundMessage,
    event: ChangeEvent | undefined,
    signal: AbortSignal,
    /** The record's coordinates ("topic/partition/offset"): recorded in the delivery ledger once accepted. */
    origin?: string,
  ): Submission;
  /**
   * Where the message would fold as a digest line in its channel: the open digest's id, '+' for a
   * digest it would open, undefined when it would not go into a digest. Records whose messages all
   * fold into the same open digests join one fold run (src/app/fold-run.ts).
   */
  foldTarget(message: OutboundMessage, event: ChangeEvent | undefined): string | undefined;
  /**
   * A fold run's message: like submit, but carried by the share every record of the run holds (one
   * object for thousands of records, not a promise each). When delivery stops or the signal aborts,
   * the share's `fail` is called once; `forget` ends that watch.
   */
  submitShared(message: OutboundMessage, event: ChangeEvent, share: SharedShare): void;
  forget(share: SharedShare): void;
  /** false when the message would wait as a message of its own in a lane that is full (maxQueuedPerChannel). */
  accepts(message: OutboundMessage, event: ChangeEvent | undefined): boolean;
  /** Resolves when the channel's lane has room again. */
  waitForRoom(channel: string): Promise<void>;
  /** Top-level messages queued or being sent, per channel (channels with none left out). */
  pendingByChannel(): Record<string, number>;
  /** One message, no folding: for one-off deliveries (dead-letter redrive). */
  deliver(message: OutboundMessage, signal?: AbortSignal): Promise<DeliveryResult>;
  /** Closes open digests now instead of at the end of their window (shutdown). */
  flush(): void;
  /** Resolves when nothing is queued, collecting or being sent. */
  onIdle(): Promise<void>;
}

/**
 * What a record (or a fold run of records) holds in the lane items that carry it (src/delivery/lane/item.ts).
 * A share may join several items (a digest and the urgent message an entry was lifted into, or the
 * digest parts a run spans): `joined` is called once per item it joins and `settle` once per item
 * that settles with it, so the share knows when the last of them is done.
 */
export interface Share {
  joined(): void;
  /**
   * `listing` is the listing of a message of its own (a single: the fate is that listing's), absent
   * for a digest (the fate is every listing's in it).
   */
  settle(fate: Fate, listing?: string): void;
  /** Aborted when the record is given up (partition revoked, shutdown deadline). */
  signal: AbortSignal;
  /** The record's coordinates (ledger.ts originOf), recorded in the delivery ledger once accepted. */
  origin?: string;
  /** A run's coordinates, one per record, made when the ledger needs them (not kept as strings). */
  origins?(): readonly string[];
}

/** A fold run's share (Deliverer.submitShared). */
export interface SharedShare extends Share {
  /** Delivery stopped (a 'stop' error) or the signal aborted first: the run is given up. */
  fail(error: unknown): void;
}

export interface Submission {
  /** Folded into a digest: the record's bytes need not be kept for it (only its coordinates). */
  digest: boolean;
  /** Into the digest because the listing is past its rules' throttle (src/delivery/throttle.ts). */
  throttled?: boolean;
  fate: Promise<Fate>;
}

/** A digest as the composer builds it (src/pipeline/digest.ts). */
export interface ComposedDigest {
  payload: SlackPayload;
  /** The complete list as a file (shared in the digest's thread). */
  file?: ChatFile;
  /** The complete list as thread replies (when files are off for the channel). */
  replies: SlackPayload[];
}

/**
 * The pipeline's pure message building, as delivery needs it for folding (src/pipeline/compose.ts).
 * Injected, so that delivery does not depend on the pipeline and a rules reload reaches it.
 */
export interface MessageComposer {
  /** The event cut down to the columns messages read: folded events wait in memory until sent. */
  slim(event: ChangeEvent): ChangeEvent;
  /** One listing's net change (first before -> last after), or null when they do not combine. */
  net(first: ChangeEvent, last: ChangeEvent): ChangeEvent | null;
  /** The message for `event` in the channel, or null when nothing in it is for that channel. */
  single(event: ChangeEvent, channelKey: string): { payload: SlackPayload; priority: Priority } | null;
  /** The digest of these net changes, or null when none of them is for the channel any more. */
  digest(
    channelKey: string,
    events: readonly ChangeEvent[],
    options: { fromMs: number; toMs: number; upload: boolean },
  ): ComposedDigest | null;
}
