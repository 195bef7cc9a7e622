/**
 * A poison record produced to the Debezium topic lands in the dead-letter topic with its original
 * bytes and headers naming the error and its origin; its offset is committed (it never stalls the
 * partition), and later records are still delivered.
 */
import { Kafka, logLevel } from 'kafkajs';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { TopicReader } from '../../support/stack.ts';
import {
  committedOffsets,
  DLQ_TOPIC,
  type InProcessService,
  LISTINGS_TOPIC,
  messagesFor,
  type Scenario,
  type SlackStandin,
  startScenario,
  waitUntil,
} from './harness.ts';

const POISON_ID = 814_001;
const LATER_ID = 814_002;

describe('service: a poison record', () => {
  const stack = inject('stack');
  let scenario: Scenario | undefined;
  let db: pg.Client;
  let standin: SlackStandin;
  let running: InProcessService;
  let dlq: TopicReader;
  let groupId: string;

  beforeAll(async () => {
    scenario = await startScenario(stack, {
      name: 'poison',
      listings: [{ id: LATER_ID, price: '100.00' }],
      config: { pace: { perSecond: 1, burst: 3 } },
    });
    ({ db, standin, running, dlq, groupId } = scenario);
  });

  afterAll(() => scenario?.close());

  it('goes to the dead-letter topic with its headers, and later records are still delivered', async () => {
    // A key like Debezium's (so other readers of the topic can tell it is not theirs), a value that
    // is not JSON at all.
    const key = Buffer.from(JSON.stringify({ schema: { type: 'struct' }, payload: { lst_id: POISON_ID } }));
    const value = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x7b, 0x22, 0x6e, 0x6f]);
    const producer = new Kafka({
      clientId: 'ln-e2e-poison',
      brokers: stack.kafkaBrokers,
      logLevel: logLevel.NOTHING,
    }).producer();
    await producer.connect();
    const [meta] = await producer.send({
      topic: LISTINGS_TOPIC,
      messages: [{ key, value, headers: { origin: 'e2e' } }],
    });
    await producer.disconnect();
    const poisonOffset = meta?.baseOffset ?? '';
    expect(poisonOffset).not.toBe('');

    await db.query('UPDATE public.listings SET prc_amt = 75.00 WHERE lst_id = $1', [LATER_ID]);
    await waitUntil('the later update delivered', async () =>
      messagesFor(standin, LATER_ID).length > 0 ? true : undefined,
    );

    const dead = await dlq.waitFor((r) => r.headers['dlq.original.offset']?.toString() === poisonOffset, {
      timeoutMs: 30_000,
    });
    expect(dead.topic).toBe(DLQ_TOPIC);
    expect(dead.value).toEqual(value);
    expect(dead.key).toEqual(key);
    const header = (name: string) => dead.headers[name]?.toString();
    expect(header('dlq.error.code')).toBe('DECODE_FAILED');
    expect(header('dlq.error.message')).toBeTruthy();
    expect(header('dlq.original.topic')).toBe(LISTINGS_TOPIC);
    expect(header('dlq.original.partition')).toBe(String(meta?.partition));
    expect(header('dlq.original.timestamp')).toMatch(/^\d{13}$/);
    expect(Number.isNaN(Date.parse(header('dlq.failed.at') ?? ''))).toBe(false);
    expect(header('origin')).toBe('e2e');
    expect(header('dlq.channel')).toBeUndefined();

    // The poison record's offset was committed: the partition moved past it.
    await waitUntil('the commit past the poison record', async () => {
      const [p] = await committedOffsets(stack, groupId);
      return p !== undefined && BigInt(p.offset) > BigInt(poisonOffset) ? true : undefined;
    });
    const line = running.logs().find((l) => l.msg === 'record finished' && l.offset === poisonOffset);
    expect(line).toMatchObject({ outcome: 'dead-letter', topic: LISTINGS_TOPIC });
  });

  it('dead-letters a message Slack refuses for good, naming the channel, and still delivers the rest', async () => {
    // Every post to #sales-alerts fails with channel_not_found for a moment: permanent, so dead-lettered.
    standin.fail({ mode: 'error', error: 'channel_not_found', channel: 'sales-alerts', count: 1 });
    await db.query('UPDATE public.listings SET prc_amt = 60.00 WHERE lst_id = $1', [LATER_ID]);
    const dead = await dlq.waitFor(
      (r) =>
        r.headers['dlq.channel']?.toString() === '#sales-alerts' &&
        r.headers['dlq.error.code']?.toString() === 'SLACK_PERMANENT',
      { timeoutMs: 30_000 },
    );
    expect(dead.headers['dlq.error.message']?.toString()).toContain('channel_not_found');
    await db.query('UPDATE public.listings SET prc_amt = 30.00 WHERE lst_id = $1', [LATER_ID]);
    await waitUntil('the next update delivered', async () =>
      messagesFor(standin, LATER_ID).some((m) => m.text.includes('30.00')) ? true : undefined,
    );
  });
});
