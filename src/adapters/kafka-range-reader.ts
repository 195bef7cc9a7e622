/**
 * Reading a bounded stretch of a topic with kafkajs, for the day-2 commands (`dlq`, `explain`): each
 * partition from an offset up to an end fixed when the read starts (the high watermark then), so the
 * read always ends even while producers write. The real TopicReader (the port: src/ports/topic-reader.ts).
 *
 * kafkajs has no consumer without a group (no assign()), so a read joins one:
 * - a throw-away group (`<clientId>-inspect-<uuid>`) that never commits and is deleted afterwards, for
 *   looking (`dlq list|show`, `explain`);
 * - a named group whose commits are the progress (`dlq redrive`): the caller commits each record once
 *   it is dealt with, and a later read starts from the committed offset.
 * Records reach `onRecord` one at a time in offset order per partition; the read waits for it.
 * https://kafka.js.org/docs/consuming#a-name-seek-a-seek
 */
import { randomUUID } from 'node:crypto';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import type { SourceRecord } from '../domain/record.ts';
import { type Logger, noopLogger, type ReadOptions, type TopicReader } from '../ports/index.ts';
import { createRecordFetcher } from './kafka-record-fetcher.ts';
import { toSourceRecord } from './kafka-source.ts';

/**
 * kafkajs hands out slices of the fetched batch (up to maxBytesPerPartition): a record a caller keeps
 * would keep its whole batch alive (measured: explain keeping a few thousand records of one listing
 * out of 245,000 held 2.2 GB). Copies of the few bytes instead.
 */
function detach(record: SourceRecord): SourceRecord {
  const copy = (b: Buffer | null): Buffer | null => (b === null ? null : Buffer.from(b));
  const headers: SourceRecord['headers'] = {};
  for (const [name, value] of Object.entries(record.headers))
    headers[name] = Buffer.isBuffer(value) ? Buffer.from(value) : value;
  return { ...record, key: copy(record.key), value: copy(record.value), headers };
}

export function createTopicReader(opts: { kafka: Kafka; clientId: string; logger?: Logger }): TopicReader {
  const logger = opts.logger ?? noopLogger;
  const admin: Admin = opts.kafka.admin();
  let connected: Promise<void> | undefined;
  const ready = (): Promise<void> => {
    connected ??= admin.connect();
    return connected;
  };
  const throwaway: string[] = [];
  const fetcher = createRecordFetcher({ kafka: opts.kafka, admin, ready, clientId: opts.clientId, logger });

  const read = async (options: ReadOptions): Promise<void> => {
    const pending = options.ranges.filter((r) => BigInt(r.from) < BigInt(r.to));
    if (pending.length === 0 || options.signal?.aborted) return;
    const groupId = options.groupId ?? `${opts.clientId}-inspect-${randomUUID()}`;
    if (options.groupId === undefined) throwaway.push(groupId);
    const consumer: Consumer = opts.kafka.consumer({
      groupId,
      allowAutoTopicCreation: false,
      // One record at a time is all a person reads; a small fetch keeps a show of one record cheap.
      maxBytesPerPartition: 1_048_576,
    });
    const ends = new Map(pending.map((r) => [r.partition, BigInt(r.to)]));
    const open = new Set(pending.map((r) => r.partition));
    const { topic } = options;
    let done = false;
    let finish: (error?: unknown) => void = () => {};
    const finished = new Promise<void>((resolve, reject) => {
      finish = (error) => {
        done = true;
        clearTimeout(idle);
        if (error === undefined) resolve();
        else reject(error);
      };
    });
    const idleMs = options.idleTimeoutMs ?? 30_000;
    let idle: NodeJS.Timeout | undefined;
    const armIdle = (): void => {
      clearTimeout(idle);
      if (done) return;
      idle = setTimeout(
        () =>
          finish(
            new Error(
              `no record from ${topic} partition(s) ${[...open].join(', ')} for ${idleMs} ms although the range is not read to its end`,
            ),
          ),
        idleMs,
      );
    };
    const close = (partition: number): void => {
      open.delete(partition);
      consumer.pause([{ topic, partitions: [partition] }]);
      if (open.size === 0) finish();
    };
    const onAbort = (): void => finish();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message, heartbeat }) => {
          if (done || !open.has(partition) || options.signal?.aborted) return;
          const end = ends.get(partition) ?? 0n;
          if (BigInt(message.offset) >= end) {
            close(partition);
            return;
          }
          // The caller may take long (a redrive waits for Slack's pace and Retry-After): no idle
          // timeout meanwhile, and heartbeats so the group does not expel this member after
          // sessionTimeout (kafkajs heartbeats only between messages on its own).
          clearTimeout(idle);
          const beat = setInterval(() => void heartbeat().catch(() => undefined), 3000);
          const record = detach(toSourceRecord(topic, partition, message));
          let stopped = false;
          try {
            await handle(record, partition, message.offset, () => {
              stopped = true;
            });
          } catch (error) {
            // The caller's failure ends the read (kafkajs would otherwise retry the message).
            finish(error);
            return;
          } finally {
            clearInterval(beat);
            armIdle();
          }
          if (stopped || BigInt(message.offset) + 1n >= end) close(partition);
        },
      });
      for (const range of pending) consumer.seek({ topic, partition: range.partition, offset: range.from });
      armIdle();
      await finished;
    } catch (error) {
      finish(error);
      throw error;
    } finally {
      clearTimeout(idle);
      options.signal?.removeEventListener('abort', onAbort);
      await consumer.disconnect().catch((error: unknown) => {
        logger.warn({ error: String(error) }, 'leaving the reading group failed');
      });
    }

    function handle(
      record: SourceRecord,
      partition: number,
      offset: string,
      stop: () => void,
    ): Promise<void> {
      return options.onRecord(record, {
        commit: async () => {
          if (options.groupId === undefined) return;
          await consumer.commitOffsets([{ topic, partition, offset: (BigInt(offset) + 1n).toString() }]);
        },
        stopPartition: stop,
      });
    }
  };

  return {
    topicExists: async (topic) => {
      await ready();
      return (await admin.listTopics()).includes(topic);
    },
    watermarks: async (topic) => {
      await ready();
      return (await admin.fetchTopicOffsets(topic)).map(({ partition, low, high }) => ({
        partition,
        low,
        high,
      }));
    },
    committed: async (groupId, topic) => {
      await ready();
      const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return (entry?.partitions ?? []).map(({ partition, offset }) => ({ partition, offset }));
    },
    members: async (groupId) => {
      await ready();
      const { groups } = await admin.describeGroups([groupId]);
      return groups.find((g) => g.groupId === groupId)?.members.length ?? 0;
    },
    offsetsAt: async (topic, timestampMs) => {
      await ready();
      return (await admin.fetchTopicOffsetsByTimestamp(topic, timestampMs)).map(({ partition, offset }) => ({
        partition,
        offset,
      }));
    },
    read,
    fetchRecord: (topic, partition, offset) => fetcher.fetch(topic, partition, offset),
    async close() {
      await fetcher.close();
      if (connected !== undefined && throwaway.length > 0)
        await admin.deleteGroups(throwaway.splice(0)).catch(() => undefined);
      if (connected !== undefined) await admin.disconnect().catch(() => undefined);
    },
  };
}
