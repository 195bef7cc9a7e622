/**
 * `listing-notifier replay` against the real Kafka: a topic of its own with records at known
 * timestamps, a consumer group of its own committed at the topic's end. Replaying --to-datetime a time
 * between the two batches must move the committed offsets back to the first record of the second
 * batch; a group with a running member must be refused and left as it was.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Admin, type Consumer, Kafka, logLevel } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { run } from '../../src/cli/replay.ts';
import { captureIo } from '../unit/cli/support.ts';

const PARTITIONS = 2;
/** Record timestamps (CreateTime) set by the producer: batch A at T0, batch B a minute later. */
const T0 = Date.now() - 3_600_000;
const T1 = T0 + 60_000;
const BATCH_A = [3, 5]; // records per partition
const BATCH_B = [4, 2];

describe('listing-notifier replay', () => {
  const stack = inject('stack');
  const kafka = new Kafka({
    clientId: 'replay-test',
    brokers: stack.kafkaBrokers,
    logLevel: logLevel.NOTHING,
  });
  const topic = `replay-test-${randomUUID()}`;
  const groups: string[] = [];
  let admin: Admin;
  let dir: string;
  let consumer: Consumer | undefined;

  const newGroup = () => {
    const groupId = `replay-test-${randomUUID()}`;
    groups.push(groupId);
    return groupId;
  };
  const configFor = async (groupId: string) => {
    const file = join(dir, `${groupId}.yaml`);
    // Brokers in the file are a decoy: KAFKA_BROKERS must override them.
    await writeFile(
      file,
      `source:\n  brokers: ["127.0.0.1:1"]\n  topics: ["${topic}"]\n  groupId: ${groupId}\n  clientId: replay-test-cli\n`,
    );
    return file;
  };
  const env = () => ({ KAFKA_BROKERS: stack.kafkaBrokers.join(','), LOG_LEVEL: 'error' });
  const committed = async (groupId: string) => {
    const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return Object.fromEntries((entry?.partitions ?? []).map((p) => [p.partition, p.offset]));
  };
  const commitAtEnd = async (groupId: string) => {
    const ends = await admin.fetchTopicOffsets(topic);
    await admin.setOffsets({
      groupId,
      topic,
      partitions: ends.map(({ partition, high }) => ({ partition, offset: high })),
    });
  };
  const total = (counts: number[]) => counts.reduce((a, b) => a + b, 0);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ln-replay-it-'));
    admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });
    const producer = kafka.producer();
    await producer.connect();
    for (const [batch, timestamp] of [
      [BATCH_A, T0],
      [BATCH_B, T1],
    ] as const) {
      await producer.send({
        topic,
        acks: -1,
        messages: batch.flatMap((count, partition) =>
          Array.from({ length: count }, (_, i) => ({
            partition,
            value: `${timestamp}-${i}`,
            timestamp: String(timestamp + i),
          })),
        ),
      });
    }
    await producer.disconnect();
    const ends = await admin.fetchTopicOffsets(topic);
    expect(ends.map((p) => Number(p.high)).sort()).toEqual(
      BATCH_A.map((a, i) => a + (BATCH_B[i] ?? 0)).sort(),
    );
  });

  afterEach(async () => {
    await consumer?.disconnect();
    consumer = undefined;
  });

  afterAll(async () => {
    await admin?.deleteGroups(groups).catch(() => undefined);
    await admin?.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin?.disconnect();
    await rm(dir, { recursive: true, force: true });
  });

  it('moves the committed offsets back to the first record at or after --to-datetime', async () => {
    const groupId = newGroup();
    await commitAtEnd(groupId);
    const io = captureIo();
    const between = new Date(T0 + 30_000).toISOString();
    const code = await run(['--config', await configFor(groupId), '--to-datetime', between], io, env());
    expect(io.err).toEqual([]);
    expect(code).toBe(0);
    expect(await committed(groupId)).toEqual({ 0: String(BATCH_A[0]), 1: String(BATCH_A[1]) });
    expect(io.out).toContain(`${topic}[0]: 7 -> 3 (replays 4 records)`);
    expect(io.out).toContain(`${topic}[1]: 7 -> 5 (replays 2 records)`);
    expect(io.out).toContain(
      `2 of 2 partition(s) change: replays ${total(BATCH_B)} records, skips 0 records`,
    );
  });

  it('gives the end offset for a time after the last record, and the start for --to-earliest', async () => {
    const groupId = newGroup();
    await admin.setOffsets({
      groupId,
      topic,
      partitions: [0, 1].map((partition) => ({ partition, offset: '1' })),
    });
    const file = await configFor(groupId);
    const io = captureIo();
    expect(
      await run(['--config', file, '--to-datetime', new Date(T1 + 60_000).toISOString()], io, env()),
    ).toBe(0);
    expect(await committed(groupId)).toEqual({ 0: '7', 1: '7' });
    expect(io.out).toContain(`${topic}[0]: 1 -> 7 (skips 6 records)`);

    expect(await run(['--config', file, '--to-earliest', '--topic', topic], captureIo(), env())).toBe(0);
    expect(await committed(groupId)).toEqual({ 0: '0', 1: '0' });
  });

  it('changes nothing with --dry-run', async () => {
    const groupId = newGroup();
    await commitAtEnd(groupId);
    const before = await committed(groupId);
    const io = captureIo();
    expect(await run(['--config', await configFor(groupId), '--to-earliest', '--dry-run'], io, env())).toBe(
      0,
    );
    expect(io.out).toContain(`${topic}[0]: 7 -> 0 (replays 7 records)`);
    expect(io.out.at(-1)).toBe('dry run: nothing changed');
    expect(await committed(groupId)).toEqual(before);
  });

  it('refuses a group with a running member and leaves its offsets alone', async () => {
    const groupId = newGroup();
    await commitAtEnd(groupId);
    const before = await committed(groupId);
    const member = kafka.consumer({ groupId });
    consumer = member;
    await member.connect();
    const joined = new Promise<void>((resolve) => member.on(member.events.GROUP_JOIN, () => resolve()));
    await member.subscribe({ topic });
    await member.run({ autoCommit: false, eachMessage: async () => undefined });
    await joined; // bounded by the integration project's test timeout

    const io = captureIo();
    expect(await run(['--config', await configFor(groupId), '--to-earliest'], io, env())).toBe(1);
    expect(io.err.join('\n')).toContain(`stop the service first: 1 member in group ${groupId}`);
    expect(io.out).toEqual([]);
    expect(await committed(groupId)).toEqual(before);
  });

  it('exits 2 naming --topic when the topic does not exist', async () => {
    const groupId = newGroup();
    const io = captureIo();
    const missing = `replay-test-missing-${randomUUID()}`;
    expect(
      await run(['--config', await configFor(groupId), '--to-latest', '--topic', missing], io, env()),
    ).toBe(2);
    expect(io.err.join('\n')).toContain(`--topic: no topic "${missing}"`);
  });
});
