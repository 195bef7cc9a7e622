/**
 * Issue 19, finding 4, "A dead-letter write that can never succeed stops a partition for good", on the
 * real Kafka, through src/main.ts's start:
 * - a bad record of 1,048,200 bytes, which its topic accepted, is too large for the dead-letter topic
 *   once the dlq.* headers are added: it is written slim (coordinates, error, the first bytes) at once,
 *   and the record after it is delivered and committed;
 * - a dead-letter topic that refuses writes (compacted: the broker refuses a record without a key with
 *   INVALID_RECORD; this broker has no authorizer, so an ACL refusal cannot be made here) makes /readyz
 *   say which topic and why and the metric name the cause, while nothing is committed past the record;
 *   once the topic takes writes again (its config fixed) the partition moves on by itself.
 */
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { decimalBase64, makePayload, makeRecord, makeRow } from '../../support/records.ts';
import {
  committedOffsets,
  createOwnTopic,
  type InProcessService,
  messagesFor,
  type OwnTopic,
  type Scenario,
  type SlackStandin,
  seedGroupAtEnd,
  startInProcess,
  startScenario,
  startSlackStandin,
  testConfig,
  uniqueGroupId,
  waitUntil,
} from './harness.ts';

const MADE_ID = 819_401;

function priceChange(price: string): { key: Buffer | null; value: Buffer | null } {
  const { key, value } = makeRecord({
    payload: makePayload({
      before: makeRow({ lst_id: MADE_ID }),
      after: makeRow({ lst_id: MADE_ID, prc_amt: decimalBase64(price, 2) }),
    }),
  });
  return { key, value };
}

const header = (record: { headers: Record<string, Buffer | string | undefined> }, name: string) => {
  const value = record.headers[name];
  return value === undefined ? undefined : Buffer.isBuffer(value) ? value : Buffer.from(value);
};

describe('issue 19, finding 4: a dead letter always finds a way out', () => {
  const stack = inject('stack');
  const kafka = new Kafka({
    clientId: 'ln-e2e-way-out',
    brokers: stack.kafkaBrokers,
    logLevel: logLevel.NOTHING,
  });
  const producer = kafka.producer();
  const admin = kafka.admin();

  const produce = async (topic: string, messages: Array<{ key: Buffer | null; value: Buffer | null }>) => {
    const [meta] = await producer.send({ topic, acks: -1, messages });
    if (meta === undefined) throw new Error('the broker acknowledged nothing');
    return BigInt(meta.baseOffset ?? '0');
  };

  beforeAll(async () => {
    await Promise.all([producer.connect(), admin.connect()]);
  });
  afterAll(async () => {
    await Promise.all([producer.disconnect(), admin.disconnect()]);
  });

  describe('a record too large for the dead-letter topic', () => {
    let scenario: Scenario;
    beforeAll(async () => {
      scenario = await startScenario(stack, {
        name: 'way-out-large',
        listings: [],
        config: {
          pace: { perSecond: 5, burst: 5 },
          retry: { minDelayMs: 200, maxDelayMs: 2000, factor: 2, jitter: 0 },
        },
        ownTopic: true,
      });
    });
    afterAll(async () => {
      await scenario?.close();
    });

    it('finding 4: a record of 1,048,200 bytes gets a slim letter at once, and later records flow', async () => {
      const { topic, standin, running, dlq, groupId } = scenario;
      // Not JSON: DECODE_FAILED. The topic takes it (the broker's message.max.bytes is 1,048,588).
      const big = Buffer.alloc(1_048_200, 'x');
      big.write('{"not": json at all', 0);
      const startedAt = Date.now();
      // Two sends: both in one batch would pass the broker's limit for the batch.
      const base = await produce(topic, [{ key: Buffer.from('big-1'), value: big }]);
      await produce(topic, [priceChange('13.37')]);

      const letter = await dlq.waitFor((r) => header(r, 'dlq.original.offset')?.toString() === String(base));
      expect(letter.value).toBeNull();
      expect(letter.key?.toString()).toBe('big-1');
      expect(header(letter, 'dlq.error.code')?.toString()).toBe('DECODE_FAILED');
      expect(header(letter, 'dlq.original.topic')?.toString()).toBe(topic);
      expect(header(letter, 'dlq.value.bytes')?.toString()).toBe('1048200');
      expect(header(letter, 'dlq.value.omitted')?.toString()).toMatch(
        /^too large for the dead-letter topic \(1048200 bytes, max\.message\.bytes 1048588\): read it from dlq\.original\.\*$/,
      );
      expect(header(letter, 'dlq.value.head')).toEqual(big.subarray(0, 1024));

      // The record after it is delivered and both are committed: the partition moved on.
      await waitUntil('the price change after the big record', async () =>
        messagesFor(standin, MADE_ID).length > 0 ? true : undefined,
      );
      await waitUntil('the commit past both records', async () => {
        const [committed] = await committedOffsets(stack, groupId, topic);
        return committed !== undefined && BigInt(committed.offset) >= base + 2n ? true : undefined;
      });
      const tookMs = Date.now() - startedAt;
      // One attempt at full size, one slim write: no retry round, no stall (the stall detector says 60 s).
      expect(tookMs).toBeLessThan(20_000);
      const retries = running.logs().filter((l) => l.msg === 'dead-letter write failed; retrying');
      expect(retries).toEqual([]);
      expect(running.logs().filter((l) => String(l.msg).includes('written slim'))).toHaveLength(1);
      expect(running.service.readiness()).toMatchObject({ ready: true });
      const metrics = await (await fetch(`${running.service.httpUrl}/metrics`)).text();
      expect(metrics).toContain(
        'listing_notifier_dead_letter_writes_total{result="slim",cause="MESSAGE_TOO_LARGE"} 1',
      );
    });
  });

  describe('a dead-letter topic that refuses writes', () => {
    let own: OwnTopic;
    let standin: SlackStandin;
    let running: InProcessService | undefined;
    let groupId: string;
    let dlqTopic: string;

    beforeAll(async () => {
      own = await createOwnTopic(stack, 'way-out-refused');
      dlqTopic = `${own.topic}.dlq`;
      // Compacted: the broker refuses a record without a key (INVALID_RECORD) on every attempt.
      await admin.createTopics({
        waitForLeaders: true,
        topics: [
          {
            topic: dlqTopic,
            numPartitions: 1,
            configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
          },
        ],
      });
      standin = await startSlackStandin({ pace: { perSecond: 5, burst: 5 } });
      groupId = uniqueGroupId('way-out-refused');
      await seedGroupAtEnd(stack, groupId, own.topic);
      running = await startInProcess(
        testConfig(stack, standin, {
          groupId,
          topics: [own.topic],
          pace: { perSecond: 5, burst: 5 },
          retry: { minDelayMs: 200, maxDelayMs: 1000, factor: 2, jitter: 0 },
        }),
        standin,
      );
      await waitUntil('the service to join its group', async () =>
        running?.service.readiness().ready ? true : undefined,
      );
    });
    afterAll(async () => {
      await running?.stop();
      await standin?.close();
      await own?.remove();
    });

    it('finding 4: /readyz and the metric name the cause, nothing is committed past the record, and it moves on once the topic takes writes', async () => {
      const service = running?.service;
      if (service === undefined) throw new Error('not started');
      const [before] = await committedOffsets(stack, groupId, own.topic);
      const base = await produce(own.topic, [
        { key: null, value: Buffer.from('not json') },
        priceChange('12.34'),
      ]);
      expect(before?.offset).toBe(String(base));

      const ready = await waitUntil('/readyz to name the refusing dead-letter topic', async () => {
        const res = await fetch(`${service.httpUrl}/readyz`);
        const body = (await res.json()) as { ready: boolean; reason: string; deadLetter?: unknown[] };
        return res.status === 503 && body.reason.includes('refuses writes') ? body : undefined;
      });
      expect(ready.reason).toMatch(
        new RegExp(
          `^dead-letter topic ${dlqTopic} refuses writes \\(INVALID_RECORD\\) for \\d+ s, \\d+ attempts: ${own.topic}\\[0\\] is held uncommitted at offset ${base}; last error: could not write to ${dlqTopic}: INVALID_RECORD: `,
        ),
      );
      expect(ready.deadLetter).toEqual([
        expect.objectContaining({
          topic: dlqTopic,
          cause: 'INVALID_RECORD',
          record: { topic: own.topic, partition: 0, offset: String(base) },
        }),
      ]);
      const metrics = await (await fetch(`${service.httpUrl}/metrics`)).text();
      expect(metrics).toContain(
        `listing_notifier_dead_letter_blocked{topic="${dlqTopic}",cause="INVALID_RECORD"} 1`,
      );
      expect(metrics).toMatch(
        /listing_notifier_dead_letter_writes_total\{result="failed",cause="INVALID_RECORD"\} [5-9]/,
      );

      // The record after it is delivered, yet nothing is committed past the refused one.
      await waitUntil('the price change after the refused record', async () =>
        messagesFor(standin, MADE_ID).length > 0 ? true : undefined,
      );
      const [held] = await committedOffsets(stack, groupId, own.topic);
      expect(held?.offset).toBe(String(base));
      expect(service.status().inFlight).toBe(1);

      // Fixed out of band: the letter is written at the next retry, the block clears, the commit moves.
      await admin.alterConfigs({
        validateOnly: false,
        resources: [
          { type: 2, name: dlqTopic, configEntries: [{ name: 'cleanup.policy', value: 'delete' }] },
        ],
      });
      await waitUntil('the commit past both records', async () => {
        const [committed] = await committedOffsets(stack, groupId, own.topic);
        return committed !== undefined && BigInt(committed.offset) >= base + 2n ? true : undefined;
      });
      expect(service.readiness()).toMatchObject({ ready: true, reason: 'ok' });
      expect(await (await fetch(`${service.httpUrl}/metrics`)).text()).toContain(
        `listing_notifier_dead_letter_blocked{topic="${dlqTopic}",cause="INVALID_RECORD"} 0`,
      );
      // The letter itself is there now (written once the topic took it).
      const [mark] = await admin.fetchTopicOffsets(dlqTopic);
      expect(mark?.high).toBe('1');
    });
  });
});
