/**
 * A Kafka record as the source hands it to the pipeline: bytes untouched, so that a record that
 * cannot be processed can be dead-lettered exactly as it arrived.
 */
export interface SourceRecord {
  topic: string;
  partition: number;
  /** Kafka offsets are 64-bit; kept as decimal strings as kafkajs gives them. */
  offset: string;
  key: Buffer | null;
  /** null is a tombstone. */
  value: Buffer | null;
  headers: Record<string, Buffer | string | undefined>;
  /** Broker/producer timestamp in epoch milliseconds, as a decimal string (kafkajs). */
  timestamp: string;
}

/** One partition of one topic. */
export interface TopicPartition {
  topic: string;
  partition: number;
}

/** A position to commit: the next offset to read (last finished offset + 1). */
export interface CommitOffset extends TopicPartition {
  offset: string;
}

/** A map key for a partition. */
export const partitionKey = (tp: TopicPartition): string => `${tp.topic}\u0000${tp.partition}`;
