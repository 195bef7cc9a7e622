/**
 * Reads single records back by their coordinates (topic, partition, offset), for `dlq redrive`: a dead
 * letter written without its value (a record folded into a digest Slack refused, or a slim letter for a
 * record too large for the dead-letter topic) is redriven from its original record while the source
 * topic still holds it (issue 19, finding 2).
 *
 * kafkajs has no assign(), so each topic gets one consumer in a throw-away group (never committing,
 * deleted on close), kept for the whole redrive: joining a group costs a round of the group protocol
 * (group.initial.rebalance.delay.ms, 3 s by default on a new group), too much per letter when a
 * digest dead-lettered thousands of records. Every partition stays paused except the one being read:
 * a fetch seeks it to the offset, resumes it, takes the first record at or after the offset, and
 * pauses it again. https://kafka.js.org/docs/consuming#a-name-pause-resume-a-pause-resume
 */
import { randomUUID } from 'node:crypto';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import type { SourceRecord } from '../domain/record.ts';
import { type FetchedRecord, type Logger, noopLogger } from '../ports/index.ts';
import { toSourceRecord } from './kafka-source.ts';

export interface RecordFetcher {
  fetch(topic: string, partition: number, offset: string): Promise<FetchedRecord>;
  close(): Promise<void>;
}

interface Waiter {
  partition: number;
  offset: bigint;
  resolve(found: FetchedRecord): void;
}

interface TopicConsumer {
  consumer: Consumer;
  groupId: string;
  waiting: Waiter | undefined;
}

const copy = (b: Buffer | null): Buffer | null => (b === null ? null : Buffer.from(b));

export function createRecordFetcher(opts: {
  kafka: Kafka;
  admin: Admin;
  ready: () => Promise<void>;
  clientId: string;
  logger?: Logger;
  /** Longest wait for a record the watermarks say is there; default 30 000 ms. */
  timeoutMs?: number;
}): RecordFetcher {
  const logger = opts.logger ?? noopLogger;
  const consumers = new Map<string, Promise<TopicConsumer>>();
  // One fetch at a time per topic: the consumer has one partition unpaused at a time.
  const queues = new Map<string, Promise<unknown>>();

  const open = async (topic: string): Promise<TopicConsumer> => {
    const groupId = `${opts.clientId}-fetch-${randomUUID()}`;
    const consumer = opts.kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 250 });
    const state: TopicConsumer = { consumer, groupId, waiting: undefined };
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        const waiter = state.waiting;
        if (waiter === undefined || waiter.partition !== partition) return;
        if (BigInt(message.offset) < waiter.offset) return;
        state.waiting = undefined;
        consumer.pause([{ topic, partitions: [partition] }]);
        if (BigInt(message.offset) > waiter.offset) {
          waiter.resolve({
            kind: 'gone',
            reason: `original record no longer retained: ${topic}[${partition}] holds no record at offset ${waiter.offset} any more (compacted or deleted; the next is ${message.offset})`,
          });
          return;
        }
        const record = toSourceRecord(topic, partition, message);
        const headers: SourceRecord['headers'] = {};
        for (const [name, value] of Object.entries(record.headers))
          headers[name] = Buffer.isBuffer(value) ? Buffer.from(value) : value;
        // A copy: the message is a view of the whole fetch response.
        waiter.resolve({
          kind: 'found',
          record: { ...record, key: copy(record.key), value: copy(record.value), headers },
        });
      },
    });
    consumer.pause([{ topic }]);
    return state;
  };

  const read = async (topic: string, partition: number, offset: string): Promise<FetchedRecord> => {
    await opts.ready();
    if (!(await opts.admin.listTopics()).includes(topic))
      return { kind: 'gone', reason: `original record no longer retained: topic ${topic} does not exist` };
    const marks = await opts.admin.fetchTopicOffsets(topic);
    const mark = marks.find((m) => m.partition === partition);
    const wanted = BigInt(offset);
    if (mark === undefined)
      return {
        kind: 'gone',
        reason: `original record no longer retained: ${topic} has no partition ${partition}`,
      };
    if (wanted < BigInt(mark.low))
      return {
        kind: 'gone',
        reason: `original record no longer retained: ${topic}[${partition}] starts at offset ${mark.low} now (retention), the record was at ${offset}`,
      };
    if (wanted >= BigInt(mark.high))
      return {
        kind: 'gone',
        reason: `original record no longer retained: ${topic}[${partition}] ends before offset ${offset} (high watermark ${mark.high}; was the topic recreated?)`,
      };
    let opening = consumers.get(topic);
    if (opening === undefined) {
      opening = open(topic);
      consumers.set(topic, opening);
      opening.catch(() => consumers.delete(topic));
    }
    const state = await opening;
    const timeoutMs = opts.timeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const found = new Promise<FetchedRecord>((resolve, reject) => {
      state.waiting = { partition, offset: wanted, resolve };
      timer = setTimeout(() => {
        state.waiting = undefined;
        state.consumer.pause([{ topic, partitions: [partition] }]);
        reject(new Error(`no record from ${topic}[${partition}] at offset ${offset} within ${timeoutMs} ms`));
      }, timeoutMs);
    });
    state.consumer.seek({ topic, partition, offset });
    state.consumer.resume([{ topic, partitions: [partition] }]);
    try {
      return await found;
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    fetch(topic, partition, offset) {
      const previous = queues.get(topic) ?? Promise.resolve();
      const next = previous.then(
        () => read(topic, partition, offset),
        () => read(topic, partition, offset),
      );
      queues.set(
        topic,
        next.catch(() => undefined),
      );
      return next;
    },
    async close() {
      const opened = await Promise.allSettled(consumers.values());
      consumers.clear();
      const groups: string[] = [];
      for (const o of opened) {
        if (o.status !== 'fulfilled') continue;
        groups.push(o.value.groupId);
        await o.value.consumer.disconnect().catch((error: unknown) => {
          logger.warn({ error: String(error) }, 'leaving a fetching group failed');
        });
      }
      if (groups.length > 0) await opts.admin.deleteGroups(groups).catch(() => undefined);
    },
  };
}
