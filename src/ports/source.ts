/**
 * The port through which Kafka records come in (one real adapter: src/adapters/kafka-source.ts; one fake:
 * test/support/fake-source.ts). It is shaped after kafkajs's eachBatch with manual resolution, because
 * that is the only shape that lets a consumer keep order per partition, bound its memory and commit
 * only finished work; anything kafkajs-specific stays in the adapter.
 */
import type { CommitOffset, SourceRecord, TopicPartition } from '../domain/record.ts';

export type { CommitOffset, TopicPartition };

/** Records of one partition, in offset order. */
export interface SourceBatch extends TopicPartition {
  /** The partition's high watermark when fetched (offset of the next record to be written), for lag. */
  highWatermark: string;
  records: SourceRecord[];
  /**
   * The record was taken: the source will not hand it out again while this assignment lasts
   * (kafkajs resolveOffset). Taking is not committing.
   */
  take(offset: string): void;
  /** Tell the group coordinator this member is alive; call it while waiting inside the handler. */
  heartbeat(): Promise<void>;
  /** false once the consumer is stopping or the partition was re-sought/revoked: stop taking. */
  isActive(): boolean;
}

export interface SourceHandlers {
  /**
   * Handles one batch. Must not throw: an error thrown into kafkajs is retried and then restarts the
   * consumer, which turns one poison record into an endless loop. Records not taken are handed out
   * again after `resume` (or after the next rejoin).
   */
  onBatch(batch: SourceBatch): Promise<void>;
  /** This member joined the group (again) and now owns exactly these partitions. */
  onAssigned(partitions: TopicPartition[]): void;
  /** Membership is in doubt (rebalance started, consumer crashed or stopped) until the next onAssigned. */
  onUnassigned(reason: string): void;
  /** The consumer crashed; `restarting` false means it gave up and the service must stop. */
  onCrash(error: unknown, restarting: boolean): void;
}

export interface RecordSource {
  /** Connects, joins the group and starts handing out batches; resolves once running. */
  start(handlers: SourceHandlers): Promise<void>;
  /** Stop fetching this partition (records not taken stay unread). Idempotent. */
  pause(tp: TopicPartition): void;
  resume(tp: TopicPartition): void;
  /** Commits positions; rejects when the broker refuses (rebalance, coordinator moved, broker down). */
  commit(offsets: readonly CommitOffset[]): Promise<void>;
  /** Leaves the group and disconnects. Commit before calling it: commits need a running consumer. */
  stop(): Promise<void>;
  /** Why the source cannot consume yet (e.g. its topics do not exist), for /readyz; undefined when it can. */
  notReadyReason?(): string | undefined;
}

/** When a broker last answered the consumer (adapters/kafka-contact.ts watches it), for /readyz. */
export interface KafkaContact {
  /** When a broker last answered the consumer (epoch ms); the watch's start until then. */
  lastContactMs: number;
  /** What went wrong last, and when (epoch ms): kept after contact resumes, for the record. */
  lastError?: { message: string; atMs: number };
}
