/**
 * `listing-notifier explain` against the real Kafka, on a source topic of its own holding four records
 * at known offsets, and the service's consumer group (of its own) committed at offset 2:
 *   0  listing 1: price 19.99 -> 17.99         notify #sales-alerts ("price moved")
 *   1  listing 1: price 19.99 -> 19.98         dropped: insignificant (less than 1%)
 *   2  listing 1: description edited           dropped: unmatched (no rule routes descriptions)
 *   3  listing 2: price cut                    another listing
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKafkaClient } from '../../../src/adapters/kafka-client.ts';
import { run } from '../../../src/cli/explain.ts';
import { decimalBase64, makePayload, makeRecord, makeRow } from '../../support/records.ts';
import { captureIo } from '../../unit/cli/support.ts';

describe('listing-notifier explain', () => {
  const stack = inject('stack');
  const kafka = createKafkaClient({
    clientId: 'explain-cli-test',
    brokers: stack.kafkaBrokers,
    logLevel: 'error',
  });
  const id = randomUUID().slice(0, 8);
  const topic = `explain-cli-test-${id}`;
  const groupId = `explain-cli-test-service-${id}`;
  let admin: Admin;
  let dir: string;
  let config: string;

  const explain = async (...args: string[]) => {
    const io = captureIo();
    const code = await run(['--config', config, ...args], io, {
      env: { KAFKA_BROKERS: stack.kafkaBrokers.join(','), LOG_LEVEL: 'error' },
    });
    return { code, ...io };
  };

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    dir = await mkdtemp(join(tmpdir(), 'ln-explain-it-'));
    config = join(dir, 'rules.yaml');
    await writeFile(config, `source: { topics: ["${topic}"], groupId: ${groupId} }\n`);
    const values = [
      makeRecord(),
      makeRecord({ payload: makePayload({ after: makeRow({ prc_amt: decimalBase64('19.98', 2) }) }) }),
      makeRecord({
        payload: makePayload({ after: makeRow({ description: 'Breathable mesh, \u001b[2J now green.' }) }),
      }),
      makeRecord({
        payload: makePayload({
          before: makeRow({ lst_id: 2 }),
          after: makeRow({ lst_id: 2, prc_amt: decimalBase64('9.99', 2) }),
        }),
      }),
    ];
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      acks: -1,
      messages: values.map((r) => ({ key: r.key, value: r.value, partition: 0 })),
    });
    await producer.disconnect();
    await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '2' }] });
  });

  afterAll(async () => {
    await admin?.deleteGroups([groupId]).catch(() => undefined);
    await admin?.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin?.disconnect();
    await rm(dir, { recursive: true, force: true });
  });

  it('explains a notification: fields, the rule that matched and the ones that did not, the text', async () => {
    const { code, out, err } = await explain('--partition', '0', '--offset', '0');
    expect([code, err]).toEqual([0, []]);
    expect(out[0]).toMatch(new RegExp(`^record ${topic}\\[0\\]@0  Kafka time \\S+Z  listing 1$`));
    expect(out).toContain(
      '  decode: op update, committed in the database 2026-11-28T13:45:07.123Z, before image complete',
    );
    expect(out).toContain('    price (prc_amt): 19.99 -> 17.99  CHANGED');
    expect(out).toContain('  significance: significant: price decreased');
    expect(out).toContain('      matched  rule "price moved" -> sales-alerts');
    expect(out).toContain(
      '      no       rule "stock low or recovered": field is price, the rule wants stock',
    );
    expect(out).toContainEqual(
      expect.stringMatching(/^ {4}#sales-alerts \(price moved\): Ergonomic Office Chair/),
    );
    expect(out).toContain('  outcome: notify: price decreased -> sales-alerts');
    expect(out.at(-1)).toBe(
      `  service: group ${groupId} committed offset 2 on partition 0: it has processed this record`,
    );
  });

  it('says why a change did not notify: not significant, or no rule for it', async () => {
    const small = await explain('--partition', '0', '--offset', '1');
    expect(small.out).toContainEqual(
      expect.stringMatching(
        /^ {2}significance: not significant: insignificant: Price moved by 0.01 .*less than 1%/,
      ),
    );
    const unmatched = await explain('--partition', '0', '--offset', '2', '--json');
    const ex = JSON.parse(unmatched.out[0] ?? '');
    expect(ex.outcome).toMatchObject({
      kind: 'dropped',
      reason: 'unmatched: no rule matched description changed',
    });
    expect(ex.signals[0].rules.every((r: { mismatch: string | null }) => r.mismatch !== null)).toBe(true);
    expect(ex.service).toMatchObject({ groupId, committed: '2', processed: false });
    // The escape character from the database is escaped in the JSON, not passed through raw.
    expect(unmatched.out[0]).not.toContain('\u001b');
    const text = await explain('--partition', '0', '--offset', '2');
    expect(text.out).toContain('      => no rule matched; unmatched.action is drop: dropped');
    expect(text.out.at(-1)).toContain('it has NOT processed this record yet');
    expect(text.out.join('\n')).not.toContain('\u001b');
  });

  it("finds a listing's records in a time range", async () => {
    const { code, out } = await explain('--listing', '1', '--since', '1h', '--json');
    expect(code).toBe(0);
    expect(out.map((l) => JSON.parse(l).record.offset)).toEqual(['0', '1', '2']);
    const two = await explain('--listing', '2', '--since', '1h');
    expect(two.out[0]).toMatch(/@3 .* listing 2$/);
    const none = await explain('--listing', '3', '--since', '1h');
    expect(none.code).toBe(2);
    expect(none.err[0]).toMatch(
      /^listing-notifier explain: no record of listing "3" among 4 record\(s\) between /,
    );
  });

  it('exits 2 for an offset with no record or a bad flag', async () => {
    const past = await explain('--partition', '0', '--offset', '9');
    expect([past.code, past.err]).toEqual([
      2,
      [`listing-notifier explain: ${topic}[0] holds offsets 0..3; no record at 9`],
    ]);
    expect((await explain('--offset', '1')).code).toBe(2);
    expect((await explain('--listing', '1', '--partition', '0')).code).toBe(2);
  });
});
