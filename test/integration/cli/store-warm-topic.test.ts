/**
 * `listing-notifier store warm --from-topic` against the real Kafka and Redis: a snapshot topic of
 * this test's own (two partitions) holding captured Debezium envelopes (test/fixtures/debezium) and a
 * garbage record, read into a Redis key prefix of its own.
 *
 * Partition 0, listing 900001 as Debezium wrote it:
 *   snapshot read (op r, LSN 30038664), update at REPLICA IDENTITY DEFAULT (30039992, price 1099),
 *   an older update replayed (29928664, price 199.99), delete (30041408) and its tombstone.
 * Partition 1: the snapshot read of 900002 (30038664), which the store already holds newer, and a
 *   record that is not JSON.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Admin, Message } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKafkaClient } from '../../../src/adapters/kafka-client.ts';
import { run } from '../../../src/cli/store-warm.ts';
import type { SourceRecord } from '../../../src/domain/record.ts';
import { entryText, parseEntry } from '../../../src/pipeline/before-image.ts';
import { loadFixture } from '../../support/records.ts';
import { captureIo } from '../../unit/cli/support.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const message = (record: SourceRecord | undefined, partition: number): Message & { partition: number } => {
  if (record === undefined) throw new Error('missing fixture record');
  const headers: Record<string, Buffer | string> = {};
  for (const [name, value] of Object.entries(record.headers)) if (value !== undefined) headers[name] = value;
  return { key: record.key, value: record.value, headers, partition };
};
const fixture = (name: string, index = 0): SourceRecord | undefined => loadFixture(name).records[index];

describe('listing-notifier store warm --from-topic', () => {
  const stack = inject('stack');
  const kafka = createKafkaClient({
    clientId: 'warmtopic-test',
    brokers: stack.kafkaBrokers,
    logLevel: 'error',
  });
  const id = randomUUID().slice(0, 8);
  const topic = `warmtopic-${id}`;
  const keyPrefix = `warmtopic-${id}`;
  const clientId = `warmtopic-${id}`;
  let admin: Admin;
  let redis: Redis;
  let dir: string;

  const rulesFile = async (name: string, storeUrl: string): Promise<string> => {
    const file = join(dir, name);
    await writeFile(
      file,
      [
        `source: { topics: ["${topic}"], groupId: ${clientId}-service, clientId: ${clientId} }`,
        `store: { url: "${storeUrl}", keyPrefix: ${keyPrefix} }`,
        '',
      ].join('\n'),
    );
    return file;
  };
  const warm = async (...args: string[]) => {
    const io = captureIo();
    const code = await run(['warm', ...args], io, {
      env: { KAFKA_BROKERS: stack.kafkaBrokers.join(','), LOG_LEVEL: 'error' },
      signal: new AbortController().signal,
    });
    return { code, ...io };
  };
  const stored = async (listing: string) =>
    parseEntry((await redis.get(`${keyPrefix}:last:${listing}`)) ?? '');

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
    redis = new Redis(REDIS_URL);
    dir = await mkdtemp(join(tmpdir(), 'warmtopic-'));
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    const producer = kafka.producer();
    await producer.connect();
    try {
      await producer.send({
        topic,
        messages: [
          message(fixture('snapshot-read', 0), 0),
          message(fixture('replica-identity-default'), 0),
          message(fixture('update-price'), 0),
          message(fixture('delete', 0), 0),
          message(fixture('delete', 1), 0),
          message(fixture('snapshot-read', 1), 1),
          { key: Buffer.from('{"lst_id":900002}'), value: Buffer.from('not json at all {'), partition: 1 },
        ],
      });
    } finally {
      await producer.disconnect();
    }
    // What the service learned of 900002 from a change after the snapshot: warm must not undo it.
    await redis.set(
      `${keyPrefix}:last:900002`,
      entryText({
        position: 'pg:00000000000099999999',
        values: { prc_amt: { type: 'decimal', value: '5' } },
      }),
    );
  }, 60_000);

  afterAll(async () => {
    await admin?.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin?.disconnect();
    if (redis !== undefined) {
      const keys = await redis.keys(`${keyPrefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('stores the newest values at their own positions, keeps newer ones, and counts what it skipped', async () => {
    const config = await rulesFile('rules.yaml', REDIS_URL);
    const first = await warm('--config', config, '--from-topic', topic, '--batch', '2', '--progress', '3');
    expect(first.code, first.err.join('\n')).toBe(0);

    // 900001: the update at DEFAULT (newest of its creates/updates); the older replayed update did
    // not overwrite it, and the delete removed nothing.
    const listing1 = await stored('900001');
    expect(listing1?.position).toBe('pg:00000000000030039992');
    expect(listing1?.values).toMatchObject({
      prc_amt: { type: 'decimal', value: '1099' },
      crncy_cd: 'EUR',
      LST_STAT_CD: 'S',
      prod_stk_qty: 0,
    });
    // 900002: the store's newer entry stands; the snapshot read is older.
    expect(await stored('900002')).toEqual({
      position: 'pg:00000000000099999999',
      values: { prc_amt: { type: 'decimal', value: '5' } },
    });

    const [summary, ...more] = first.out;
    expect(more).toEqual([]);
    expect(summary).toMatch(
      new RegExp(`^store warm: 7 record\\(s\\) read from ${topic}, 2 stored, 5 skipped \\(`),
    );
    for (const part of ['delete 1', 'tombstone 1', 'undecodable 1', 'not newer than the store 2'])
      expect(summary).toContain(part);
    // Progress every 3 records, on stderr.
    expect(first.err.filter((l) => /^store warm: \d+ of at most 7 record\(s\) read/.test(l))).toHaveLength(2);

    // It read through a throw-away group that committed nothing and is gone.
    const { groups } = await admin.listGroups();
    expect(groups.filter((g) => g.groupId.startsWith(clientId))).toEqual([]);

    // Again: everything is already known, nothing changes.
    const again = await warm('--config', config, '--from-topic', topic, '--progress', '0');
    expect(again.code, again.err.join('\n')).toBe(0);
    expect(again.out[0]).toMatch(/, 0 stored, 7 skipped \(.*not newer than the store 4/);
    expect(again.err).toEqual([]);
    expect((await stored('900001'))?.position).toBe('pg:00000000000030039992');
  }, 60_000);

  it('names a missing topic (exit 2) and a store it cannot reach (exit 1) in one line', async () => {
    const config = await rulesFile('rules.yaml', REDIS_URL);
    const missing = await warm('--config', config, '--from-topic', `${topic}-missing`);
    expect(missing.code).toBe(2);
    expect(missing.err).toEqual([`--from-topic: no topic ${topic}-missing`]);

    const away = await rulesFile('away.yaml', 'redis://127.0.0.1:1');
    const unreachable = await warm('--config', away, '--from-topic', topic);
    expect(unreachable.code).toBe(1);
    expect(unreachable.err).toEqual([
      expect.stringMatching(/^listing-notifier store warm: store error: .*Redis/),
    ]);
    expect(unreachable.out).toEqual([]);
  }, 60_000);
});
