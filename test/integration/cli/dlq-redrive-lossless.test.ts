/**
 * Issue 19 on the real Kafka, `dlq redrive` end to end (letters written by the service's own sink):
 * - finding 2, "Redrive drops letters for good": a letter written without its value (a digest Slack
 *   refused dead-letters each record with its coordinates and no value) is redriven from its original
 *   record, read back by its coordinates; when the source topic no longer holds it, the letter is left
 *   uncommitted and reported, never counted as dropped.
 * - finding 3, "Redrive sends Teams and webhook letters to Slack": a Teams and a webhook letter reach
 *   their stand-ins (the same destinations `run` uses), and nothing reaches Slack.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKafkaClient } from '../../../src/adapters/kafka-client.ts';
import { createKafkaDeadLetter } from '../../../src/adapters/kafka-dead-letter.ts';
import { systemClock } from '../../../src/adapters/system-clock.ts';
import { run } from '../../../src/cli/dlq.ts';
import { NotifierError } from '../../../src/domain/errors.ts';
import type { SourceRecord } from '../../../src/domain/record.ts';
import { type SlackStandin, startSlackStandin } from '../../../tools/slack-standin/server.ts';
import { startTeamsStandin, type TeamsStandin } from '../../../tools/teams-standin/server.ts';
import { startWebhookStandin, type WebhookStandin } from '../../../tools/webhook-standin/server.ts';
import { decimalBase64, makePayload, makeRecord, makeRow } from '../../support/records.ts';
import { captureIo } from '../../unit/cli/support.ts';

const SECRET = `whsec_${Buffer.from('redrive secret, thirty-two bytes').toString('base64')}`;
const TEAMS = 'teams:LN_REDRIVE_TEAMS_URL';
const HOOK = 'webhook:LN_REDRIVE_HOOK_URL:LN_REDRIVE_HOOK_SECRET';

describe('issue 19: dlq redrive loses nothing and delivers where run does', () => {
  const stack = inject('stack');
  const kafka = createKafkaClient({
    clientId: 'dlq-lossless-test',
    brokers: stack.kafkaBrokers,
    logLevel: 'error',
  });
  const id = randomUUID().slice(0, 8);
  const sourceTopic = `dlq-lossless-${id}`;
  const topics = [sourceTopic, `${sourceTopic}.dlq`];
  const groups: string[] = [];
  let admin: Admin;
  let producer: Producer;
  let slack: SlackStandin;
  let teams: TeamsStandin;
  let hook: WebhookStandin;
  let dir: string;
  let config: string;

  const env = () => ({
    KAFKA_BROKERS: stack.kafkaBrokers.join(','),
    SLACK_API_URL: slack.apiUrl,
    SLACK_BOT_TOKEN: slack.token,
    LN_REDRIVE_TEAMS_URL: teams.url,
    LN_REDRIVE_HOOK_URL: hook.url,
    LN_REDRIVE_HOOK_SECRET: SECRET,
    LOG_LEVEL: 'error',
  });
  const dlq = async (...args: string[]) => {
    const io = captureIo();
    const code = await run(args, io, { env: env(), signal: new AbortController().signal });
    return { code, ...io };
  };
  const group = () => {
    const g = `dlq-lossless-${randomUUID().slice(0, 8)}`;
    groups.push(g);
    return g;
  };
  const committed = async (groupId: string, topic: string) => {
    const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return entry?.partitions.find((p) => p.partition === 0)?.offset;
  };
  /** Produces records to a topic of their own; returns them with the offsets Kafka gave them. */
  const produce = async (topic: string, records: SourceRecord[]): Promise<SourceRecord[]> => {
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    const [meta] = await producer.send({
      topic,
      acks: -1,
      messages: records.map((r) => ({ key: r.key, value: r.value, headers: { trace: 'kept' } })),
    });
    const base = BigInt(meta?.baseOffset ?? '0');
    return records.map((r, i) => ({ ...r, topic, offset: String(base + BigInt(i)) }));
  };
  const refused = (channel: string) =>
    new NotifierError('SLACK_PERMANENT', 'the digest was refused: invalid_blocks', {
      details: { slackError: 'invalid_blocks', channel },
    });
  /** What record-work keeps of a record folded into a digest, and dead-letters when it is refused. */
  const coordinatesOnly = (r: SourceRecord): SourceRecord => ({ ...r, value: null, headers: {} });

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer();
    await producer.connect();
    slack = await startSlackStandin({ pace: { perSecond: 50, burst: 50 } });
    teams = await startTeamsStandin({ pace: { perSecond: 50, burst: 50 } });
    hook = await startWebhookStandin({ secret: SECRET, pace: { perSecond: 50, burst: 50 } });
    dir = await mkdtemp(join(tmpdir(), 'ln-dlq-lossless-'));
    config = join(dir, 'rules.yaml');
    await writeFile(
      config,
      JSON.stringify({
        source: { topics: [sourceTopic], groupId: `dlq-lossless-service-${id}`, clientId: 'dlq-lossless' },
        channels: {
          'sales-alerts': '#sales-alerts',
          'sales-teams': { type: 'teams', urlEnv: 'LN_REDRIVE_TEAMS_URL' },
          'sales-hook': {
            type: 'webhook',
            urlEnv: 'LN_REDRIVE_HOOK_URL',
            secretEnv: 'LN_REDRIVE_HOOK_SECRET',
          },
        },
        rules: [
          {
            name: 'price moved',
            match: { field: 'price' },
            channels: ['sales-alerts', 'sales-teams', 'sales-hook'],
          },
        ],
        delivery: {
          perChannel: { intervalMs: 1000, cap: 50 },
          burst: 50,
          retry: { minDelayMs: 10, maxDelayMs: 50 },
        },
      }),
    );
  });

  afterAll(async () => {
    await admin?.deleteGroups(groups).catch(() => undefined);
    await admin?.deleteTopics({ topics }).catch(() => undefined);
    await producer?.disconnect();
    await admin?.disconnect();
    await Promise.all([slack?.close(), teams?.close(), hook?.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('finding 2: a letter without its value is redriven from its original record, read back by its coordinates', async () => {
    const [first, second] = await produce(sourceTopic, [
      makeRecord({
        payload: makePayload({ after: makeRow({ lst_id: 1, prc_amt: decimalBase64('14.99', 2) }) }),
      }),
      makeRecord({
        payload: makePayload({
          before: makeRow({ lst_id: 2 }),
          after: makeRow({ lst_id: 2, prc_amt: decimalBase64('9.99', 2) }),
        }),
      }),
    ]);
    if (first === undefined || second === undefined) throw new Error('not produced');
    const sink = createKafkaDeadLetter({ kafka, topic: null, clock: systemClock });
    await sink.send(coordinatesOnly(first), refused('#sales-alerts'), { channel: '#sales-alerts' });
    await sink.send(coordinatesOnly(second), refused('#sales-alerts'), { channel: '#sales-alerts' });
    await sink.disconnect();

    const g = group();
    const result = await dlq('redrive', '-c', config, '--group', g, '--topic', `${sourceTopic}.dlq`);
    expect(result.out).toEqual([
      `redriven          ${sourceTopic}.dlq:0:0 -> #sales-alerts`,
      `redriven          ${sourceTopic}.dlq:0:1 -> #sales-alerts`,
    ]);
    expect(result.code).toBe(0);
    expect(result.err.at(-1)).toBe(`group ${g}: redriven 2`);
    expect(await committed(g, `${sourceTopic}.dlq`)).toBe('2');
    // The changes themselves arrived, read from the source topic: 19.99 -> 14.99 and 19.99 -> 9.99.
    const texts = slack.messages('sales-alerts').map((m) => m.text);
    expect(texts).toEqual([expect.stringContaining('14.99'), expect.stringContaining('9.99')]);
    expect(texts.every((t) => t.startsWith('Late delivery: '))).toBe(true);
  });

  it('finding 2: when the source topic no longer holds the record, the letter is left uncommitted and reported, not dropped', async () => {
    const gone = `${sourceTopic}-gone`;
    topics.push(gone, `${gone}.dlq`);
    const [old, kept] = await produce(gone, [
      makeRecord({ payload: makePayload({ after: makeRow({ prc_amt: decimalBase64('12.00', 2) }) }) }),
      makeRecord({ payload: makePayload({ after: makeRow({ prc_amt: decimalBase64('11.00', 2) }) }) }),
    ]);
    if (old === undefined || kept === undefined) throw new Error('not produced');
    const sink = createKafkaDeadLetter({ kafka, topic: null, clock: systemClock });
    await sink.send(coordinatesOnly(old), refused('#sales-alerts'), { channel: '#sales-alerts' });
    await sink.send(coordinatesOnly(kept), refused('#sales-alerts'), { channel: '#sales-alerts' });
    await sink.disconnect();
    // What retention does: the first record is removed from the source topic. (kafkajs finds the
    // partition's leader only once it has the topic's metadata: KafkaJSBrokerNotFound otherwise.)
    await admin.fetchTopicMetadata({ topics: [gone] });
    await admin.deleteTopicRecords({ topic: gone, partitions: [{ partition: 0, offset: kept.offset }] });
    slack.reset();

    const g = group();
    const result = await dlq('redrive', '-c', config, '--group', g, '--topic', `${gone}.dlq`);
    expect(result.out).toEqual([
      `left-unretained   ${gone}.dlq:0:0: original record no longer retained: ${gone}[0] starts at offset ${kept.offset} now (retention), the record was at ${old.offset}; this partition stops here`,
    ]);
    expect(result.code).toBe(1);
    expect(result.err.at(-1)).toBe(`group ${g}: left-unretained 1`);
    expect(result.err.join('\n')).not.toContain('dropped');
    expect(await committed(g, `${gone}.dlq`)).toBe('-1');
    expect(slack.messages()).toEqual([]);

    // Passing over it takes --skip-failing, said as such; the next letter is redriven from its original.
    const past = await dlq('redrive', '-c', config, '--group', g, '--topic', `${gone}.dlq`, '--skip-failing');
    expect(past.out.map((l) => l.split(/ +/)[0])).toEqual(['skipped-failing', 'redriven']);
    expect(past.out[0]).toContain('original record no longer retained');
    expect(slack.messages('sales-alerts').map((m) => m.text)).toEqual([expect.stringContaining('11.00')]);
  });

  it('finding 3: a Teams and a webhook letter are redriven to their stand-ins, not to Slack', async () => {
    const own = `${sourceTopic}-destinations`;
    topics.push(`${own}.dlq`);
    const record = makeRecord({
      topic: own,
      offset: '5',
      payload: makePayload({ after: makeRow({ lst_id: 31, prc_amt: decimalBase64('15.49', 2) }) }),
    });
    const sink = createKafkaDeadLetter({ kafka, topic: null, clock: systemClock });
    await sink.send(record, refused(TEAMS), { channel: TEAMS });
    await sink.send(record, refused(HOOK), { channel: HOOK });
    await sink.disconnect();
    slack.reset();

    const g = group();
    const result = await dlq('redrive', '-c', config, '--group', g, '--topic', `${own}.dlq`);
    expect(result.out).toEqual([
      `redriven          ${own}.dlq:0:0 -> ${TEAMS}`,
      `redriven          ${own}.dlq:0:1 -> ${HOOK}`,
    ]);
    expect(result.code).toBe(0);
    expect(teams.rejected()).toEqual([]);
    const cards = teams.cards();
    expect(cards).toHaveLength(1);
    expect(JSON.stringify(cards[0]?.card)).toContain('15.49');
    expect(JSON.stringify(cards[0]?.card)).toContain('Late delivery');
    expect(hook.rejected()).toEqual([]);
    const received = hook.received();
    expect(received).toHaveLength(1);
    // Signed and verified by the stand-in: the same listing.changed event `run` sends (the change as
    // data; the late mark is Slack's and Teams' text, not part of the event).
    expect(received[0]?.body).toMatchObject({ type: 'listing.changed' });
    expect(received[0]?.raw).toContain('15.49');
    expect(slack.messages()).toEqual([]);
  });
});
