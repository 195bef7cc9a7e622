/**
 * The day-2 commands' view of a topic (`dlq`, `explain`, `store warm`; src/cli/): a bounded read of
 * partitions from an offset up to an end fixed when the read starts, a group's committed offsets, and
 * one record fetched by its coordinates. One real adapter (src/adapters/kafka-range-reader.ts, on
 * kafkajs); the command tests script their own (test/unit/cli/). The commands depend on this, not on
 * the adapter.
 */
import type { SourceRecord } from '../domain/record.ts';
import type { PartitionOffset, Watermarks } from './kafka.ts';

/** One record by its coordinates (src/adapters/kafka-record-fetcher.ts). */
export type FetchedRecord =
  | { kind: 'found'; record: SourceRecord }
  /** The topic no longer holds the record (retention, compaction, a deleted topic): why, for people. */
  | { kind: 'gone'; reason: string };

export interface PartitionRange {
  partition: number;
  /** First offset to read. */
  from: string;
  /** First offset NOT to read (the high watermark when the read began). */
  to: string;
}

export interface ReadControl {
  /** Commits `offset + 1` of this record for the read's group (named groups only). */
  commit(): Promise<void>;
  /** Reads no more of this record's partition. */
  stopPartition(): void;
}

export interface ReadOptions {
  topic: string;
  ranges: PartitionRange[];
  /** A named group whose commits are progress; default a throw-away group that never commits. */
  groupId?: string;
  onRecord(record: SourceRecord, control: ReadControl): Promise<void>;
  /** Ends the read early (e.g. Ctrl-C): onRecord is not called again. */
  signal?: AbortSignal;
  /** Longest wait for the next record of an unfinished partition; default 30 000 ms. */
  idleTimeoutMs?: number;
}

export interface TopicReader {
  topicExists(topic: string): Promise<boolean>;
  watermarks(topic: string): Promise<Watermarks[]>;
  /** Committed offsets of the group on the topic; "-1" for a partition without one. */
  committed(groupId: string, topic: string): Promise<PartitionOffset[]>;
  /** Members of the group now (0 when it does not exist). */
  members(groupId: string): Promise<number>;
  /** The first offset at or after `timestampMs` per partition (the end offset when there is none). */
  offsetsAt(topic: string, timestampMs: number): Promise<PartitionOffset[]>;
  read(options: ReadOptions): Promise<void>;
  /** One record by its coordinates, or why the topic no longer holds it (kafka-record-fetcher.ts). */
  fetchRecord(topic: string, partition: number, offset: string): Promise<FetchedRecord>;
  close(): Promise<void>;
}
