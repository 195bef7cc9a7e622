/**
 * Starting before the topic exists (a Deployment rolled out before Debezium's first event): the
 * service starts, says it waits (log line, /readyz 503 with the reason, /healthz 200), and consumes
 * once the topic is created, from its first record. The topic is this test's own; the record in it is
 * a real Debezium update captured from the stack (test/fixtures/debezium/update-price).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseConfig } from '../../../src/config/index.ts';
import {
  type InProcessService,
  messagesFor,
  type SlackStandin,
  startInProcess,
  startSlackStandin,
  testConfig,
  uniqueGroupId,
  waitUntil,
} from './harness.ts';

const fixture = (name: string): string =>
  readFileSync(new URL(`../../fixtures/debezium/update-price/${name}`, import.meta.url), 'utf8');
const LISTING_ID = 900_001; // the fixture's lst_id

describe('service: a topic that does not exist yet', () => {
  const stack = inject('stack');
  const topic = `ln-e2e-late-${randomUUID().slice(0, 8)}`;
  const admin = new Kafka({
    clientId: 'ln-e2e-late',
    brokers: stack.kafkaBrokers,
    logLevel: logLevel.NOTHING,
  }).admin();
  let standin: SlackStandin;
  let running: InProcessService | undefined;

  beforeAll(async () => {
    await admin.connect();
    standin = await startSlackStandin();
  });

  afterAll(async () => {
    await running?.stop();
    await standin?.close();
    const existing = await admin.listTopics();
    const ours = [topic, `${topic}.dlq`].filter((t) => existing.includes(t));
    if (ours.length > 0) await admin.deleteTopics({ topics: ours });
    await admin.disconnect();
  });

  it('waits for its topic (log, /readyz 503 with the reason, /healthz 200), then delivers its first record', async () => {
    expect(await admin.listTopics()).not.toContain(topic);
    const base = testConfig(stack, standin, {
      groupId: uniqueGroupId('late'),
      pace: { perSecond: 5, burst: 5 },
    });
    const config = parseConfig(
      JSON.stringify({ ...base, source: { ...base.source, topics: [topic] } }),
      'late-topic-config.json',
    );
    // A new group with no committed offset, started the default way (latest): the first record must
    // still be read, because the topic appeared after the service started.
    running = await startInProcess(config, standin);
    const { httpUrl } = running.service;

    const waiting = running.logs().find((l) => String(l.msg).startsWith('waiting for topic(s) to exist'));
    expect(waiting).toMatchObject({ level: 'warn', topics: [topic] });
    const readyz = await fetch(`${httpUrl}/readyz`);
    expect(readyz.status).toBe(503);
    expect(((await readyz.json()) as { reason: string }).reason).toMatch(
      new RegExp(`^waiting for topic\\(s\\) to exist: ${topic} \\(for \\d+ s\\)$`),
    );
    expect((await fetch(`${httpUrl}/healthz`)).status).toBe(200);

    await admin.createTopics({ topics: [{ topic }], waitForLeaders: true });
    const producer = new Kafka({
      clientId: 'ln-e2e-late',
      brokers: stack.kafkaBrokers,
      logLevel: logLevel.NOTHING,
    }).producer();
    await producer.connect();
    try {
      await producer.send({
        topic,
        messages: [{ key: fixture('01.key.json'), value: fixture('01.value.json') }],
      });
    } finally {
      await producer.disconnect();
    }

    await waitUntil('the service to join once the topic exists', async () =>
      (await fetch(`${httpUrl}/readyz`)).ok ? true : undefined,
    );
    const [message] = await waitUntil('the first record in Slack', async () => {
      const found = messagesFor(standin, LISTING_ID);
      return found.length > 0 ? found : undefined;
    });
    expect(message?.channelName).toBe('sales-alerts');
    expect(running.logs().some((l) => l.msg === 'topic(s) exist now: consuming')).toBe(true);
  });
});
