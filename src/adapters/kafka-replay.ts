/**
 * The Kafka side of `listing-notifier replay`: reads a consumer group's committed offsets and a topic's
 * watermarks, finds offsets by timestamp, and sets the group's offsets, all with the kafkajs admin.
 *
 * kafkajs's admin.setOffsets only works on a group without running members (it briefly joins the group
 * itself to commit); the caller checks `members()` first so that it can say why it refuses.
 * https://kafka.js.org/docs/admin#a-name-set-offsets-a-set-consumer-group-offsets
 */
import type { Admin } from 'kafkajs';
import {
  type KafkaSecurity,
  type Logger,
  noopLogger,
  type PartitionOffset,
  type Watermarks,
} from '../ports/index.ts';
import { createKafkaClient } from './kafka-client.ts';

export interface GroupState {
  state: string;
  members: number;
}

export interface ReplayAdmin {
  /** The group's state and its number of members (0 for a group that does not exist yet). */
  group(groupId: string): Promise<GroupState>;
  /** Whether the topic exists (kafkajs retries unknown topics for a long time instead of failing). */
  topicExists(topic: string): Promise<boolean>;
  watermarks(topic: string): Promise<Watermarks[]>;
  /** Committed offsets of the group on the topic; "-1" for a partition without one. */
  committed(groupId: string, topic: string): Promise<PartitionOffset[]>;
  /** The first offset at or after `timestampMs`, or the end offset when there is none. */
  offsetsAt(topic: string, timestampMs: number): Promise<PartitionOffset[]>;
  setOffsets(groupId: string, topic: string, partitions: PartitionOffset[]): Promise<void>;
  close(): Promise<void>;
}

export interface ReplayAdminOptions {
  brokers: string[];
  clientId: string;
  logger?: Logger;
  /** TLS/SASL as the service uses them (src/config/connections.ts). Default: plaintext. */
  security?: KafkaSecurity;
}

export async function connectReplayAdmin(opts: ReplayAdminOptions): Promise<ReplayAdmin> {
  const kafka = createKafkaClient({
    brokers: opts.brokers,
    clientId: opts.clientId,
    logger: opts.logger ?? noopLogger,
    ...(opts.security === undefined ? {} : { security: opts.security }),
  });
  const admin: Admin = kafka.admin();
  await admin.connect();
  return {
    group: async (groupId) => {
      const { groups } = await admin.describeGroups([groupId]);
      const group = groups.find((g) => g.groupId === groupId);
      return { state: group?.state ?? 'Dead', members: group?.members.length ?? 0 };
    },
    topicExists: async (topic) => (await admin.listTopics()).includes(topic),
    watermarks: async (topic) =>
      (await admin.fetchTopicOffsets(topic)).map(({ partition, low, high }) => ({ partition, low, high })),
    committed: async (groupId, topic) => {
      const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return (entry?.partitions ?? []).map(({ partition, offset }) => ({ partition, offset }));
    },
    offsetsAt: async (topic, timestampMs) =>
      (await admin.fetchTopicOffsetsByTimestamp(topic, timestampMs)).map(({ partition, offset }) => ({
        partition,
        offset,
      })),
    setOffsets: (groupId, topic, partitions) => admin.setOffsets({ groupId, topic, partitions }),
    close: () => admin.disconnect(),
  };
}
