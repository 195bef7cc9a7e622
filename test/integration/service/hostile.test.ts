/**
 * Issue 19: no record stops the service. The real service (in-process, src/main.ts's start) reads a
 * topic of the test's own, where the test produces Debezium envelopes as JsonConverter writes them:
 *
 * - finding 1: a jsonb column nested 10,000 deep whose only change is deep inside it (the noise fast
 *   path's case) used to throw RangeError outside any try and stop the service, its partition's commit
 *   left before the record, so a restart met it again. The listings table has no jsonb column, so the
 *   envelopes are made here, with an `attrs` column of io.debezium.data.Json (what Debezium's
 *   PostgreSQL connector sends for jsonb).
 * - a property: batches of generated hostile envelopes (test/support/hostile.ts: every Connect type,
 *   json columns, deep nesting, huge arrays, mutated schemas, both paths) each end finished (dropped,
 *   delivered) or dead-lettered, and a good change produced after them is delivered.
 *
 * Nothing here reaches monolith.public.listings (harness.ts, ownTopic).
 */
import fc from 'fast-check';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { hostileRecord } from '../../support/hostile.ts';
import {
  decimalBase64,
  envelopeSchema,
  listingRowSchema,
  makePayload,
  makeRecord,
  makeRow,
} from '../../support/records.ts';
import type { TopicReader } from '../../support/stack.ts';
import {
  committedOffsets,
  type InProcessService,
  messagesFor,
  type Scenario,
  type SlackStandin,
  startScenario,
  waitUntil,
} from './harness.ts';

/** A listing that exists only in the hand-made envelopes: its price changes are the good records. */
const MADE_ID = 815_101;
/** The listing the hostile records are about. */
const HOSTILE_ID = 815_102;

type Message = { key: Buffer | null; value: Buffer | null };

/** A hand-made update of MADE_ID's price, from 19.99 to `price`. */
function priceChange(price: string): Message {
  const { key, value } = makeRecord({
    payload: makePayload({
      before: makeRow({ lst_id: MADE_ID }),
      after: makeRow({ lst_id: MADE_ID, prc_amt: decimalBase64(price, 2) }),
    }),
  });
  return { key, value };
}

/** An update whose only change is deep inside a jsonb column nested `depth` deep; with `price`, the price too. */
function deepJsonbChange(depth: number, price?: string): Message {
  const row = listingRowSchema('monolith.public.listings.Value', true);
  row.fields?.push({
    field: 'attrs',
    type: 'string',
    optional: true,
    name: 'io.debezium.data.Json',
    version: 1,
  });
  const nested = (leaf: string) => `${'['.repeat(depth)}${leaf}${']'.repeat(depth)}`;
  const { key, value } = makeRecord({
    schema: envelopeSchema(row),
    payload: makePayload({
      before: makeRow({ lst_id: HOSTILE_ID, attrs: nested('1') }),
      after: makeRow({
        lst_id: HOSTILE_ID,
        attrs: nested('2'),
        ...(price === undefined ? {} : { prc_amt: decimalBase64(price, 2) }),
      }),
    }),
  });
  return { key, value };
}

describe('service: hostile records (issue 19)', () => {
  const stack = inject('stack');
  let scenario: Scenario | undefined;
  let standin: SlackStandin;
  let running: InProcessService;
  let dlq: TopicReader;
  let groupId: string;
  let topic: string;
  let exited: number | undefined;
  const kafka = new Kafka({
    clientId: 'ln-e2e-hostile',
    brokers: stack.kafkaBrokers,
    logLevel: logLevel.NOTHING,
  });
  const producer = kafka.producer();

  /** Produces one record per request (a few are near Kafka's 1 MB batch limit); returns their offsets. */
  async function produce(messages: Message[]): Promise<string[]> {
    const offsets: string[] = [];
    for (const message of messages) {
      const [meta] = await producer.send({ topic, acks: -1, messages: [message] });
      if (meta?.baseOffset === undefined) throw new Error('the broker acknowledged nothing');
      offsets.push(meta.baseOffset);
    }
    return offsets;
  }

  /** The "record finished" log lines of our topic, by offset. */
  const finishedLines = (): Map<string, Record<string, unknown>> =>
    new Map(
      running
        .logs()
        .filter((l) => l.msg === 'record finished' && l.topic === topic)
        .map((l) => [String(l.offset), l]),
    );

  /** Every offset finished, each dead-lettered one found in the dead-letter topic, the commit past the last. */
  async function expectAllSettled(offsets: string[], describeOffset: (offset: string) => string) {
    const lines = await waitUntil(
      'every produced record finished',
      async () => {
        const finished = finishedLines();
        return offsets.every((o) => finished.has(o)) ? finished : undefined;
      },
      { timeoutMs: 90_000 },
    );
    for (const offset of offsets) {
      const line = lines.get(offset) ?? {};
      expect(['dropped', 'notify', 'dead-letter'], describeOffset(offset)).toContain(line.outcome);
      const deadLettered = line.outcome === 'dead-letter' || Array.isArray(line.deadLettered);
      if (!deadLettered) continue;
      const letter = await dlq.waitFor((r) => r.headers['dlq.original.offset']?.toString() === offset, {
        timeoutMs: 30_000,
      });
      expect(letter.headers['dlq.error.code']?.toString(), describeOffset(offset)).toMatch(/^[A-Z_]+$/);
    }
    const last = BigInt(offsets.at(-1) ?? '0');
    await waitUntil('the commit past the last record', async () => {
      const [p] = await committedOffsets(stack, groupId, topic);
      return p !== undefined && BigInt(p.offset) > last ? true : undefined;
    });
    const stops = running.logs().filter((l) => /stop error|stopping:|delivery stopped/.test(String(l.msg)));
    expect(stops).toEqual([]);
    expect(exited).toBeUndefined();
    expect(running.service.readiness().ready).toBe(true);
  }

  beforeAll(async () => {
    scenario = await startScenario(stack, {
      name: 'hostile',
      listings: [],
      // The stand-in has no limit; keep ours out of the way so a batch settles in seconds.
      config: { pace: { perSecond: 50, burst: 50 } },
      ownTopic: true,
    });
    ({ standin, running, dlq, groupId, topic } = scenario);
    void running.service.done.then((code) => {
      exited = code;
    });
    await producer.connect();
  });

  afterAll(async () => {
    await producer.disconnect();
    await scenario?.close();
  });

  it('finding 1: a jsonb value nested 10,000 deep (fast and full path) neither stops nor stalls the service', async () => {
    const offsets = await produce([
      priceChange('21.00'),
      deepJsonbChange(10_000),
      deepJsonbChange(10_000, '42.00'),
      priceChange('23.00'),
    ]);
    await waitUntil('the change after the deep records delivered', async () =>
      messagesFor(standin, MADE_ID).some((m) => m.text.includes('23.00')) ? true : undefined,
    );
    await expectAllSettled(offsets, (o) => `offset ${o}`);
    const lines = finishedLines();
    // The fast path's record: an unwatched column changed, nothing to say.
    expect(lines.get(offsets[1] as string)).toMatchObject({
      outcome: 'dropped',
      reason: 'insignificant: only unwatched columns changed (attrs)',
    });
    // The full path's: the price change beside it is told.
    expect(lines.get(offsets[2] as string)).toMatchObject({ outcome: 'notify', channels: ['#sales-alerts'] });
    expect(messagesFor(standin, HOSTILE_ID).some((m) => m.text.includes('42.00'))).toBe(true);
    expect(messagesFor(standin, MADE_ID).some((m) => m.text.includes('21.00'))).toBe(true);
  });

  it('property: generated hostile envelopes each end finished or dead-lettered, and the service keeps consuming', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(hostileRecord(HOSTILE_ID), { minLength: 15, maxLength: 30 }),
        async (records) => {
          run += 1;
          const good = `${60 + run}.00`;
          const offsets = await produce([
            ...records.map(({ key, value }) => ({ key, value })),
            priceChange(good),
          ]);
          const kindOf = new Map(offsets.map((o, i) => [o, records[i]?.kind ?? 'the good record']));
          await waitUntil(
            `the good change after ${records.length} hostile records delivered`,
            async () => (messagesFor(standin, MADE_ID).some((m) => m.text.includes(good)) ? true : undefined),
            { timeoutMs: 90_000 },
          );
          await expectAllSettled(offsets, (o) => `offset ${o}: ${kindOf.get(o)}`);
        },
      ),
      // Each run is a batch through the real service (a few seconds); no shrinking against it.
      { numRuns: 3, endOnFailure: true },
    );
  });
});
