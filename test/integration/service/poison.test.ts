/**
 * A poison record lands in the dead-letter topic with its original bytes and headers naming the error
 * and its origin; its offset is committed (it never stalls the partition), and the records after it are
 * still delivered. A message Slack refuses for good is dead-lettered naming the channel.
 *
 * Every record here is made by the test, so the service reads a topic of the test's own: nothing of it
 * reaches monolith.public.listings, where the demo's or a developer's own group would meet it (issue 9,
 * finding 5), and nobody else's changes slow the service down. The records are Debezium envelopes as
 * JsonConverter writes them (test/support/records.ts), and the poison one is not JSON at all.
 */
import { Kafka, logLevel } from 'kafkajs';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { decimalBase64, makePayload, makeRecord, makeRow } from '../../support/records.ts';
import { keyListingId, openTopicReader, type TopicReader } from '../../support/stack.ts';
import {
  committedOffsets,
  type InProcessService,
  LISTINGS_TOPIC,
  messagesFor,
  type Scenario,
  type SlackStandin,
  startScenario,
  waitUntil,
} from './harness.ts';

const POISON_ID = 814_001;
/** A real row: its update in the database is the barrier for the shared-topic check. */
const BARRIER_ID = 814_002;
/** A listing that exists only in the hand-made envelopes. */
const MADE_ID = 814_003;

/** A hand-made update of MADE_ID's price, from 19.99 to `price`. */
function priceChange(price: string): { key: Buffer | null; value: Buffer | null } {
  const { key, value } = makeRecord({
    payload: makePayload({
      before: makeRow({ lst_id: MADE_ID }),
      after: makeRow({ lst_id: MADE_ID, prc_amt: decimalBase64(price, 2) }),
    }),
  });
  return { key, value };
}

describe('service: a poison record', () => {
  const stack = inject('stack');
  let scenario: Scenario | undefined;
  let db: pg.Client;
  let standin: SlackStandin;
  let running: InProcessService;
  let dlq: TopicReader;
  let groupId: string;
  let topic: string;
  /** The shared Debezium topic, read from before the test produces anything. */
  let shared: TopicReader | undefined;
  const kafka = new Kafka({
    clientId: 'ln-e2e-poison',
    brokers: stack.kafkaBrokers,
    logLevel: logLevel.NOTHING,
  });

  async function produce(
    messages: Array<{ key: Buffer | null; value: Buffer | null; headers?: Record<string, string> }>,
  ) {
    const producer = kafka.producer();
    await producer.connect();
    try {
      const [meta] = await producer.send({ topic, acks: -1, messages });
      if (meta === undefined) throw new Error('the broker acknowledged nothing');
      return meta;
    } finally {
      await producer.disconnect();
    }
  }

  beforeAll(async () => {
    scenario = await startScenario(stack, {
      name: 'poison',
      listings: [{ id: BARRIER_ID, price: '100.00' }],
      config: { pace: { perSecond: 1, burst: 3 } },
      ownTopic: true,
    });
    ({ db, standin, running, dlq, groupId, topic } = scenario);
    shared = await openTopicReader({
      brokers: stack.kafkaBrokers,
      topics: [LISTINGS_TOPIC],
      clientId: 'ln-e2e-poison-shared',
    });
  });

  afterAll(async () => {
    await shared?.close();
    await scenario?.close();
  });

  it('goes to the dead-letter topic with its headers, and the records after it are still delivered', async () => {
    // A key like Debezium's, a value that is not JSON at all; then, on the same partition, a
    // well-formed change: the partition must move past the poison to reach it.
    const key = Buffer.from(JSON.stringify({ schema: { type: 'struct' }, payload: { lst_id: POISON_ID } }));
    const value = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x7b, 0x22, 0x6e, 0x6f]);
    const meta = await produce([
      { key, value, headers: { origin: 'e2e' } },
      { ...priceChange('17.99'), headers: { origin: 'e2e' } },
    ]);
    const poisonOffset = meta.baseOffset ?? '';
    expect(poisonOffset).not.toBe('');

    await waitUntil('the change after the poison record delivered', async () =>
      messagesFor(standin, MADE_ID).some((m) => m.text.includes('17.99')) ? true : undefined,
    );

    const dead = await dlq.waitFor((r) => r.headers['dlq.original.offset']?.toString() === poisonOffset, {
      timeoutMs: 30_000,
    });
    expect(dead.topic).toBe(`${topic}.dlq`);
    expect(dead.value).toEqual(value);
    expect(dead.key).toEqual(key);
    const header = (name: string) => dead.headers[name]?.toString();
    expect(header('dlq.error.code')).toBe('DECODE_FAILED');
    expect(header('dlq.error.message')).toBeTruthy();
    expect(header('dlq.original.topic')).toBe(topic);
    expect(header('dlq.original.partition')).toBe(String(meta.partition));
    expect(header('dlq.original.timestamp')).toMatch(/^\d{13}$/);
    expect(Number.isNaN(Date.parse(header('dlq.failed.at') ?? ''))).toBe(false);
    expect(header('origin')).toBe('e2e');
    expect(header('dlq.channel')).toBeUndefined();

    // The poison record's offset was committed: the partition moved past it.
    await waitUntil('the commit past the poison record', async () => {
      const [p] = await committedOffsets(stack, groupId, topic);
      return p !== undefined && BigInt(p.offset) > BigInt(poisonOffset) ? true : undefined;
    });
    const line = running.logs().find((l) => l.msg === 'record finished' && l.offset === poisonOffset);
    expect(line).toMatchObject({ outcome: 'dead-letter', topic });
  });

  it('dead-letters a message Slack refuses for good, naming the channel, and still delivers the rest', async () => {
    // Every post to #sales-alerts fails with channel_not_found for a moment: permanent, so dead-lettered.
    standin.fail({ mode: 'error', error: 'channel_not_found', channel: 'sales-alerts', count: 1 });
    await produce([priceChange('60.00')]);
    const dead = await dlq.waitFor(
      (r) =>
        r.headers['dlq.channel']?.toString() === '#sales-alerts' &&
        r.headers['dlq.error.code']?.toString() === 'SLACK_PERMANENT',
      { timeoutMs: 30_000 },
    );
    expect(dead.headers['dlq.error.message']?.toString()).toContain('channel_not_found');
    await produce([priceChange('30.00')]);
    await waitUntil('the next change delivered', async () =>
      messagesFor(standin, MADE_ID).some((m) => m.text.includes('30.00')) ? true : undefined,
    );
  });

  it('finding 5 (issue 9): puts nothing of its own on the shared Debezium topic', async () => {
    // The shared reader opened before anything was produced. Once it has seen a change made in the
    // database after all of this test's records, anything the test had put there would be in it too.
    const reader = shared;
    if (reader === undefined) throw new Error('no reader of the shared topic');
    await db.query('UPDATE public.listings SET prc_amt = 75.00 WHERE lst_id = $1', [BARRIER_ID]);
    await reader.waitFor((r) => keyListingId(r) === String(BARRIER_ID), { timeoutMs: 60_000 });
    const ours = reader
      .received()
      .filter(
        (r) =>
          r.headers.origin?.toString() === 'e2e' ||
          [String(POISON_ID), String(MADE_ID)].includes(keyListingId(r) ?? ''),
      );
    expect(ours).toEqual([]);
  });
});
