/**
 * Issue 19: a record that kills the process outright (no try/catch sees an OOM) is quarantined, not
 * retried forever. The service runs as a child process with a small V8 heap, like a pod with a memory
 * limit; the record's JSON needs more heap to parse than that, so every process that decodes it dies
 * of a real "JavaScript heap out of memory". The test restarts it, as Kubernetes would, until the
 * record is dead-lettered as POISON_RECORD: that takes exactly source.poison.maxAttempts deaths (the
 * count lives in the committed offset's metadata, src/delivery/quarantine.ts), and then the records
 * after it are delivered and the process stays up.
 *
 * The topic and group are the test's own (prefix `quarantine`); the topic takes records up to 32 MiB.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { decimalBase64, makePayload, makeRecord, makeRow } from '../../support/records.ts';
import type { TopicReader } from '../../support/stack.ts';
import {
  type ChildService,
  committedOffsets,
  messagesFor,
  openDeadLetterReader,
  type SlackStandin,
  startChild,
  startSlackStandin,
  testConfig,
  waitUntil,
} from './harness.ts';

const POISON_ID = 815_001;
const AFTER_ID = 815_002;
const MAX_ATTEMPTS = 3;
/** The child's V8 old space; the service runs in far less, the poison record's parse needs ~200 MB. */
const HEAP_MB = 128;
/** `[],` five million times: 15 MB of JSON, parsed into five million arrays. */
const JUNK_ARRAYS = 5_000_000;

/** A Debezium-shaped update of POISON_ID whose payload carries a huge JSON document. */
function poisonValue(): Buffer {
  const { value } = makeRecord({
    payload: { ...makePayload({ after: makeRow({ lst_id: POISON_ID }) }), junk: '@@JUNK@@' },
  });
  const text = (value as Buffer).toString('utf8');
  return Buffer.from(text.replace('"@@JUNK@@"', `[${'[],'.repeat(JUNK_ARRAYS)}[]]`));
}

function priceChange(id: number, price: string) {
  return makeRecord({
    payload: makePayload({
      before: makeRow({ lst_id: id }),
      after: makeRow({ lst_id: id, prc_amt: decimalBase64(price, 2) }),
    }),
  });
}

describe('service: a record that kills the process (issue 19, quarantine)', () => {
  const stack = inject('stack');
  const suffix = randomUUID().slice(0, 8);
  const topic = `quarantine-${suffix}`;
  const groupId = `quarantine-${suffix}`;
  const kafka = new Kafka({
    clientId: 'quarantine-test',
    brokers: stack.kafkaBrokers,
    logLevel: logLevel.NOTHING,
  });
  const children: ChildService[] = [];
  let standin: SlackStandin | undefined;
  let dlq: TopicReader | undefined;

  beforeAll(async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({
        topics: [
          {
            topic,
            numPartitions: 1,
            configEntries: [{ name: 'max.message.bytes', value: String(32 << 20) }],
          },
        ],
        waitForLeaders: true,
      });
    } finally {
      await admin.disconnect();
    }
    standin = await startSlackStandin();
    dlq = await openDeadLetterReader(stack, `${topic}.dlq`);
  });

  afterAll(async () => {
    for (const child of children) await child.cleanup();
    await dlq?.close();
    await standin?.close();
    const admin = kafka.admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const mine = [topic, `${topic}.dlq`].filter((t) => existing.has(t));
      if (mine.length > 0) await admin.deleteTopics({ topics: mine });
      await admin.deleteGroups([groupId]).catch(() => {});
    } finally {
      await admin.disconnect();
    }
  });

  it('is dead-lettered as POISON_RECORD after maxAttempts deaths; the records after it are delivered and the process stays up', async () => {
    if (standin === undefined || dlq === undefined) throw new Error('setup failed');
    const base = testConfig(stack, standin, { groupId, pace: { perSecond: 5, burst: 5 }, topics: [topic] });
    const config = {
      ...base,
      source: { ...base.source, poison: { maxAttempts: MAX_ATTEMPTS, probeRecords: 10 } },
    };

    // The group starts at offset 0 of the empty topic; the poison record is its first, two changes follow.
    const admin = kafka.admin();
    await admin.connect();
    await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '0' }] });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    const after = [priceChange(AFTER_ID, '21.50'), priceChange(AFTER_ID, '22.50')];
    const [meta] = await producer.send({
      topic,
      acks: -1,
      messages: [
        {
          key: makeRecord({ payload: makePayload({ after: makeRow({ lst_id: POISON_ID }) }) }).key,
          value: poisonValue(),
        },
        ...after.map((r) => ({ key: r.key, value: r.value })),
      ],
    });
    await producer.disconnect();
    const poisonOffset = meta?.baseOffset ?? '';
    expect(poisonOffset).toBe('0');

    // Restart the service after every death, as a Deployment would, until one stays up.
    const quarantined = dlq.waitFor((r) => r.headers['dlq.error.code']?.toString() === 'POISON_RECORD', {
      timeoutMs: 400_000,
    });
    quarantined.catch(() => {}); // awaited below; a run that dies first must not leave it unhandled
    let deaths = 0;
    let survivor: ChildService | undefined;
    for (let run = 1; run <= MAX_ATTEMPTS + 2 && survivor === undefined; run += 1) {
      const child = await startChild(config, standin, {
        env: { NODE_OPTIONS: `--max-old-space-size=${HEAP_MB}` },
      });
      children.push(child);
      const outcome = await Promise.race([
        child.exited.then((code) => ({ died: code })),
        quarantined.then(() => ({ died: undefined })),
      ]);
      if (outcome.died === undefined) {
        survivor = child;
      } else {
        deaths += 1;
        // A real OOM (V8's heap limit), not some other exit.
        expect(child.output.join('\n')).toMatch(/JavaScript heap out of memory/);
      }
    }
    expect(deaths).toBe(MAX_ATTEMPTS);
    if (survivor === undefined) throw new Error('the service never stayed up');
    // What each run found at offset 0: nothing, one death, two (careful mode), the record that kills.
    const said = (child: ChildService, text: string) => child.output.some((line) => line.includes(text));
    const found = children.map((child) => ({
      died: said(child, 'died here before without committing progress'),
      careful: said(child, 'handing records out one at a time (careful mode)'),
      poison: said(child, 'it will be dead-lettered as POISON_RECORD'),
    }));
    expect(found).toEqual([
      { died: false, careful: false, poison: false },
      { died: true, careful: false, poison: false },
      { died: false, careful: true, poison: false },
      { died: false, careful: false, poison: true },
    ]);

    const letter = await quarantined;
    const header = (name: string) => letter.headers[name]?.toString();
    expect(header('dlq.original.topic')).toBe(topic);
    expect(header('dlq.original.offset')).toBe(poisonOffset);
    expect(header('dlq.error.message')).toMatch(
      /^the process died 3 times while processing this record \(the last time while it was processed alone, in an attempt begun at \d{4}-\d\d-\d\dT[\d:.]+Z\); it was dead-lettered without being decoded$/,
    );

    // The records after it are delivered, the partition is committed past them, and the process is up.
    await waitUntil('both changes after the poison record delivered', async () =>
      messagesFor(standin as SlackStandin, AFTER_ID).some((m) => m.text.includes('22.50')) ? true : undefined,
    );
    expect(messagesFor(standin, AFTER_ID).some((m) => m.text.includes('21.50'))).toBe(true);
    const committed = await waitUntil('the commit past every record', async () => {
      const [p] = await committedOffsets(stack, groupId, topic);
      return p !== undefined && p.offset === '3' ? p : undefined;
    });
    // Past the poison record the commits carry no metadata again: the common path costs nothing.
    expect((committed as { metadata?: string | null }).metadata ?? null).toBeNull();
    expect(survivor.child.exitCode).toBeNull();
    const url = await survivor.ready;
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
  }, 420_000);
});
