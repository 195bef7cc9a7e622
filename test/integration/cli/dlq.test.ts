/**
 * `listing-notifier dlq list|show|redrive` against the real Kafka, on a dead-letter topic of its own
 * written by the service's own dead-letter sink (real headers, original bytes), delivering to the Slack
 * stand-in. Four letters, in order:
 *   A  a price cut whose message to #sales-alerts failed (SLACK_PERMANENT, dlq.channel #sales-alerts)
 *   B  a price move today's rules find insignificant (19.99 -> 19.98)
 *   C  bytes that do not decode (DECODE_FAILED): still fails today
 *   D  a stock drop to 2 whose message to #inventory-warnings failed
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKafkaClient } from '../../../src/adapters/kafka-client.ts';
import { createKafkaDeadLetter, deadLetterHeaders } from '../../../src/adapters/kafka-dead-letter.ts';
import { systemClock } from '../../../src/adapters/system-clock.ts';
import { run } from '../../../src/cli/dlq.ts';
import { NotifierError } from '../../../src/domain/errors.ts';
import { type SlackStandin, startSlackStandin } from '../../../tools/slack-standin/server.ts';
import { decimalBase64, makePayload, makeRecord, makeRow } from '../../support/records.ts';
import { waitUntil } from '../../support/stack.ts';
import { captureIo } from '../../unit/cli/support.ts';

describe('listing-notifier dlq', () => {
  const stack = inject('stack');
  // Through the project's client: kafkajs's idle-loop fix applies (no TimeoutNegativeWarning).
  const kafka = createKafkaClient({
    clientId: 'dlq-cli-test',
    brokers: stack.kafkaBrokers,
    logLevel: 'error',
  });
  const id = randomUUID().slice(0, 8);
  const sourceTopic = `dlq-cli-test-${id}`;
  const dlqTopic = `${sourceTopic}.dlq`;
  const groups: string[] = [];
  const extraTopics: string[] = [];
  let admin: Admin;
  let standin: SlackStandin;
  let dir: string;
  let config: string;

  const env = () => ({
    KAFKA_BROKERS: stack.kafkaBrokers.join(','),
    SLACK_API_URL: standin.apiUrl,
    SLACK_BOT_TOKEN: standin.token,
    LOG_LEVEL: 'error',
  });
  const dlq = async (...args: string[]) => {
    const io = captureIo();
    const code = await run(args, io, { env: env(), signal: new AbortController().signal });
    return { code, ...io };
  };
  const group = () => {
    const g = `dlq-cli-test-${randomUUID().slice(0, 8)}`;
    groups.push(g);
    return g;
  };
  const committed = async (groupId: string) => {
    const [entry] = await admin.fetchOffsets({ groupId, topics: [dlqTopic] });
    return entry?.partitions.find((p) => p.partition === 0)?.offset;
  };

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
    standin = await startSlackStandin({ pace: { perSecond: 50, burst: 50 } });
    dir = await mkdtemp(join(tmpdir(), 'ln-dlq-it-'));
    config = join(dir, 'rules.yaml');
    await writeFile(
      config,
      [
        `source: { topics: ["${sourceTopic}"], groupId: dlq-cli-test-service, clientId: dlq-cli-test }`,
        'delivery: { perChannel: { intervalMs: 1000, cap: 50 }, burst: 50, retry: { minDelayMs: 10, maxDelayMs: 50 } }',
        '',
      ].join('\n'),
    );
    // The service's own sink writes the letters: the headers are exactly what production writes.
    const sink = createKafkaDeadLetter({ kafka, topic: null, clock: systemClock });
    const record = (offset: number, payload: Record<string, unknown> | null, value?: Buffer) =>
      makeRecord({ topic: sourceTopic, offset: String(offset), payload, ...(value ? { value } : {}) });
    const slackFailed = (channel: string) =>
      new NotifierError('SLACK_PERMANENT', `Slack refused: channel_not_found`, {
        details: { slackError: 'channel_not_found', channel },
      });
    await sink.send(record(10, makePayload()), slackFailed('#sales-alerts'), { channel: '#sales-alerts' });
    await sink.send(
      record(11, makePayload({ after: makeRow({ prc_amt: decimalBase64('19.98', 2) }) })),
      new NotifierError('RENDER_FAILED', 'message exceeds Slack limits'),
    );
    await sink.send(
      record(12, null, Buffer.from('\u001b[2Jnot json')),
      new NotifierError('DECODE_FAILED', 'value is not JSON: \u001b[31mUnexpected token'),
    );
    await sink.send(
      record(13, makePayload({ after: makeRow({ prod_stk_qty: 2 }) })),
      slackFailed('#inventory-warnings'),
      { channel: '#inventory-warnings' },
    );
    await sink.disconnect();
  });

  afterAll(async () => {
    await admin?.deleteGroups(groups).catch(() => undefined);
    await admin?.deleteTopics({ topics: [dlqTopic, ...extraTopics] }).catch(() => undefined);
    await admin?.disconnect();
    await standin?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('lists the dead letters, filtered by code, channel (key or name) and time', async () => {
    const all = await dlq('list', '--config', config);
    expect(all.code).toBe(0);
    expect(all.out).toHaveLength(4);
    expect(all.out[0]).toMatch(
      new RegExp(`^${dlqTopic}:0:0  \\S+Z  SLACK_PERMANENT  #sales-alerts  ${sourceTopic}\\[0\\]@10  `),
    );
    // The control characters in the error message are shown, not obeyed.
    expect(all.out[2]).toContain('DECODE_FAILED');
    expect(all.out[2]).toContain('\\u001b[31m');
    expect(all.out.join('\n')).not.toContain('\u001b');
    expect(all.err).toEqual(['4 dead letter(s); shown 4']);

    expect((await dlq('list', '-c', config, '--code', 'DECODE_FAILED')).out).toEqual([
      expect.stringContaining(':0:2  '),
    ]);
    expect((await dlq('list', '-c', config, '--channel', 'inventory-warnings')).out).toEqual([
      expect.stringContaining(':0:3  '),
    ]);
    expect(
      (await dlq('list', '-c', config, '--channel', '#sales-alerts', '--code', 'SLACK_PERMANENT')).out,
    ).toHaveLength(1);
    expect((await dlq('list', '-c', config, '--since', '1h')).out).toHaveLength(4);
    expect((await dlq('list', '-c', config, '--until', '1h')).out).toHaveLength(0);

    const json = await dlq('list', '-c', config, '--json', '--limit', '2');
    expect(json.out.map((l) => JSON.parse(l).id)).toEqual([`${dlqTopic}:0:2`, `${dlqTopic}:0:3`]);
    expect(JSON.parse(json.out[1] ?? '')).toMatchObject({
      code: 'SLACK_PERMANENT',
      channel: '#inventory-warnings',
      original: { topic: sourceTopic, partition: 0, offset: '13' },
    });
  });

  it('shows a dead letter whole, and exits 2 for an ID with no record', async () => {
    const shown = await dlq('show', '--config', config, `${dlqTopic}:0:2`);
    expect(shown.code).toBe(0);
    expect(shown.out[0]).toBe(`dead letter ${dlqTopic}:0:2`);
    expect(shown.out).toContain('  dlq.error.code: DECODE_FAILED');
    expect(shown.out).toContain(`  dlq.original.offset: 12`);
    expect(shown.out).toContain('value:');
    expect(shown.out).toContain('  \\u001b[2Jnot json');

    const json = await dlq('show', '--config', config, '--json', `${dlqTopic}:0:0`);
    const letter = JSON.parse(json.out[0] ?? '');
    expect(letter.headers['dlq.channel']).toBe('#sales-alerts');
    expect(JSON.parse(letter.value.utf8).payload.op).toBe('u');

    const missing = await dlq('show', '--config', config, `${dlqTopic}:0:99`);
    expect(missing.code).toBe(2);
    expect(missing.err).toEqual([
      `${dlqTopic}:0:99: no such record (wrong topic, partition or offset, or removed by retention)`,
    ]);
  });

  it('a dry run says what would happen and changes nothing; a filter stops the walk unless told to skip', async () => {
    const g = group();
    const dry = await dlq('redrive', '-c', config, '--group', g, '--dry-run');
    expect(dry.out).toEqual([
      `would-redrive     ${dlqTopic}:0:0 -> #sales-alerts`,
      expect.stringMatching(new RegExp(`^dropped +${dlqTopic}:0:1: insignificant: Price moved by 0.01`)),
      expect.stringMatching(new RegExp(`^left-failing +${dlqTopic}:0:2: still fails: DECODE_FAILED: `)),
    ]);
    expect(dry.code).toBe(1);
    expect(await committed(g)).toBe('-1');
    expect(standin.messages()).toEqual([]);

    const filtered = await dlq(
      'redrive',
      '-c',
      config,
      '--group',
      g,
      '--dry-run',
      '--code',
      'SLACK_PERMANENT',
    );
    expect(filtered.out.map((l) => l.split(/ +/).slice(0, 2).join(' '))).toEqual([
      `would-redrive ${dlqTopic}:0:0`,
      `left-unmatched ${dlqTopic}:0:1:`,
    ]);
    const skipping = await dlq(
      'redrive',
      '-c',
      config,
      '--group',
      g,
      '--dry-run',
      '--code',
      'SLACK_PERMANENT',
      '--skip-unmatched',
    );
    expect(skipping.out.map((l) => l.split(/ +/)[0])).toEqual([
      'would-redrive',
      'skipped-unmatched',
      'skipped-unmatched',
      'would-redrive',
    ]);
    expect(skipping.code).toBe(0);
  });

  it("redrives through today's rules, marked late, and never twice", async () => {
    const g = group();
    const first = await dlq('redrive', '-c', config, '--group', g);
    expect(first.out.map((l) => l.split(/ +/)[0])).toEqual(['redriven', 'dropped', 'left-failing']);
    expect(first.code).toBe(1);
    expect(await committed(g)).toBe('2');
    const sales = standin.messages('sales-alerts');
    expect(sales).toHaveLength(1);
    expect(sales[0]?.text).toMatch(/^Late delivery: /);
    expect(JSON.stringify(sales[0]?.blocks)).toMatch(
      /Late delivery \(redriven \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\): changed at 2026-11-28 13:45:07 UTC/,
    );

    // Again: the decode failure still stops the walk; the price cut is not sent a second time.
    const again = await dlq('redrive', '-c', config, '--group', g);
    expect(again.out.map((l) => l.split(/ +/)[0])).toEqual(['left-failing']);
    expect(standin.messages('sales-alerts')).toHaveLength(1);

    const past = await dlq('redrive', '-c', config, '--group', g, '--skip-failing', '--json');
    expect(past.out.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({ id: `${dlqTopic}:0:2`, action: 'skipped-failing' }),
      { id: `${dlqTopic}:0:3`, action: 'redriven', channels: ['#inventory-warnings'] },
    ]);
    expect(past.code).toBe(0);
    expect(await committed(g)).toBe('4');
    expect(standin.messages('inventory-warnings')).toHaveLength(1);
    expect(standin.messages()).toHaveLength(2);

    const done = await dlq('redrive', '-c', config, '--group', g);
    expect([done.code, done.out, done.err]).toEqual([0, [], [`group ${g}: nothing to redrive`]]);
  });

  it('leaves a letter Slack refuses again, and one interrupted mid-delivery, uncommitted', async () => {
    const g = group();
    standin.reset();
    standin.fail({ mode: 'error', error: 'channel_not_found', channel: 'sales-alerts', count: 1 });
    const refused = await dlq('redrive', '-c', config, '--group', g, '--code', 'SLACK_PERMANENT');
    expect(refused.out).toEqual([
      expect.stringMatching(
        new RegExp(
          `^left-failing +${dlqTopic}:0:0 -> #sales-alerts: delivery failed again: #sales-alerts: SLACK_PERMANENT: `,
        ),
      ),
    ]);
    expect([refused.code, await committed(g)]).toEqual([1, '-1']);

    // chat.postMessage answers service_unavailable for a minute (auth.test still works): the
    // scheduler retries until Ctrl-C (here an AbortSignal).
    standin.fail({ mode: 'error', error: 'service_unavailable', forMs: 60_000 });
    const callsBefore = standin.stats().calls;
    const controller = new AbortController();
    const io = captureIo();
    const running = run(['redrive', '-c', config, '--group', g], io, {
      env: env(),
      signal: controller.signal,
    });
    await waitUntil('a first postMessage answered service_unavailable', async () =>
      // auth.test, then at least one postMessage answered service_unavailable
      standin.stats().calls > callsBefore + 1 ? true : undefined,
    );
    controller.abort(new Error('interrupted (SIGINT)'));
    expect(await running).toBe(1);
    expect(io.out).toEqual([`interrupted       ${dlqTopic}:0:0: not committed`]);
    expect(io.err.at(-1)).toBe(
      `group ${g}: interrupted 1 (interrupted: the rest is left for the next redrive)`,
    );
    expect(await committed(g)).toBe('-1');
    standin.clearFailures();
    expect(standin.messages()).toEqual([]);
  });

  it('reroutes a letter for a channel replaced in the config (the channel_not_found fix)', async () => {
    // A letter for #sales-alert, a typo since fixed in the config to #sales-alerts.
    const topic = `${sourceTopic}.rerouted.dlq`;
    extraTopics.push(topic);
    const sink = createKafkaDeadLetter({ kafka, topic, clock: systemClock });
    await sink.send(
      makeRecord({ topic: sourceTopic, offset: '20', payload: makePayload() }),
      new NotifierError('SLACK_PERMANENT', 'channel_not_found'),
      { channel: '#sales-alert' },
    );
    await sink.disconnect();
    const g = group();
    standin.reset();
    const plain = await dlq('redrive', '-c', config, '--topic', topic, '--group', g);
    expect(plain.code).toBe(1);
    expect(plain.out[0]).toContain(
      "still fails: today's rules send it to #sales-alerts, not to #sales-alert (the channel that failed)",
    );
    const rerouted = await dlq(
      'redrive',
      '-c',
      config,
      '--topic',
      topic,
      '--group',
      g,
      '--reroute',
      '#sales-alert=sales-alerts',
    );
    expect(rerouted.out).toEqual([`redriven          ${topic}:0:0 -> #sales-alerts`]);
    expect(standin.messages('sales-alerts')).toHaveLength(1);
    expect(await admin.fetchOffsets({ groupId: g, topics: [topic] })).toEqual([
      { topic, partitions: [{ partition: 0, offset: '1', metadata: null }] },
    ]);
  });

  it('reads and redrives every partition of a dead-letter topic, empty ones too', async () => {
    const topic = `${sourceTopic}.parts.dlq`;
    extraTopics.push(topic);
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    const producer = kafka.producer();
    await producer.connect();
    const failed = new NotifierError('RENDER_FAILED', 'message exceeds Slack limits');
    await producer.send({
      topic,
      acks: -1,
      messages: [0, 2, 2].map((partition, i) => {
        const record = makeRecord({ topic: sourceTopic, offset: String(30 + i), payload: makePayload() });
        return {
          partition,
          key: record.key,
          value: record.value,
          headers: deadLetterHeaders(record, failed, Date.now()),
        };
      }),
    });
    await producer.disconnect();
    const listed = await dlq('list', '-c', config, '--topic', topic);
    expect(listed.out.map((l) => l.split('  ')[0]).sort()).toEqual([
      `${topic}:0:0`,
      `${topic}:2:0`,
      `${topic}:2:1`,
    ]);

    const g = group();
    standin.reset();
    const redriven = await dlq('redrive', '-c', config, '--topic', topic, '--group', g);
    expect(redriven.code).toBe(0);
    expect(redriven.out.filter((l) => l.startsWith('redriven '))).toHaveLength(3);
    expect(standin.messages('sales-alerts')).toHaveLength(3);
    const [entry] = await admin.fetchOffsets({ groupId: g, topics: [topic] });
    expect(Object.fromEntries((entry?.partitions ?? []).map((p) => [p.partition, p.offset]))).toEqual({
      0: '1',
      1: '-1',
      2: '2',
    });
  });

  it('exits 2 on a bad flag or config, and names a missing dead-letter topic', async () => {
    expect((await dlq('redrive', '-c', config, '--limit', '3')).code).toBe(2);
    expect((await dlq('list', '-c', join(dir, 'missing.yaml'))).code).toBe(2);
    const none = await dlq('list', '-c', config, '--topic', `${dlqTopic}-none`);
    expect(none.code).toBe(0);
    expect(none.err[0]).toBe(`${dlqTopic}-none: no such topic (no record has been dead-lettered there yet)`);
  });
});
