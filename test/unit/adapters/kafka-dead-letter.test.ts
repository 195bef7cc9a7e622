import { describe, expect, it } from 'vitest';
import {
  createKafkaDeadLetter,
  deadLetterHeaders,
  producerCause,
  slimHeadBytes,
  slimLetter,
} from '../../../src/adapters/kafka-dead-letter.ts';
import { NotifierError } from '../../../src/domain/errors.ts';
import type { SourceRecord } from '../../../src/domain/record.ts';

const makeRecord = (overrides: Partial<SourceRecord> = {}): SourceRecord => ({
  topic: 'monolith.public.listings',
  partition: 2,
  offset: '1234',
  key: Buffer.from('{"id":7}'),
  value: Buffer.from('garbage'),
  headers: {},
  timestamp: '1767225600000',
  ...overrides,
});

describe('dead-letter headers', () => {
  it('name the error and the original position and time', () => {
    const headers = deadLetterHeaders(
      makeRecord(),
      new NotifierError('DECODE_FAILED', 'value is not JSON'),
      Date.UTC(2026, 0, 1, 12, 0, 0),
    );
    expect(headers).toEqual({
      'dlq.error.code': 'DECODE_FAILED',
      'dlq.error.message': 'value is not JSON',
      'dlq.original.topic': 'monolith.public.listings',
      'dlq.original.partition': '2',
      'dlq.original.offset': '1234',
      'dlq.original.timestamp': '1767225600000',
      'dlq.failed.at': '2026-01-01T12:00:00.000Z',
    });
  });

  it('name the channel of a message that failed for one channel, and keep the original headers', () => {
    const headers = deadLetterHeaders(
      makeRecord({ headers: { '__debezium.newkey': '{"id":8}' } }),
      new NotifierError('SLACK_PERMANENT', 'Slack rejected the message: channel_not_found'),
      0,
      '#gone',
    );
    expect(headers['dlq.channel']).toBe('#gone');
    expect(headers['__debezium.newkey']).toBe('{"id":8}');
  });

  it('bound an enormous error message', () => {
    const headers = deadLetterHeaders(
      makeRecord(),
      new NotifierError('RENDER_FAILED', 'x'.repeat(50_000)),
      0,
    );
    expect(String(headers['dlq.error.message']).length).toBe(2000);
  });
});

describe('slim letter (a letter too large for the dead-letter topic)', () => {
  const big = makeRecord({
    value: Buffer.concat([Buffer.from('{"payload":'), Buffer.alloc(1_048_200, 0x61)]),
    headers: { '__debezium.newkey': '{"id":8}', trace: 'x' },
  });
  const error = new NotifierError('DECODE_FAILED', 'value is not JSON');

  it('keeps the coordinates, the error and the first bytes, and says what was left out', () => {
    const letter = slimLetter(big, error, Date.UTC(2026, 0, 1), '#sales', 1_048_588);
    expect(letter.value).toBeNull();
    expect(letter.key).toEqual(big.key);
    expect(letter.headers).toMatchObject({
      'dlq.error.code': 'DECODE_FAILED',
      'dlq.error.message': 'value is not JSON',
      'dlq.original.topic': 'monolith.public.listings',
      'dlq.original.partition': '2',
      'dlq.original.offset': '1234',
      'dlq.channel': '#sales',
      'dlq.value.omitted':
        'too large for the dead-letter topic (1048211 bytes, max.message.bytes 1048588): read it from dlq.original.*',
      'dlq.value.bytes': '1048211',
      'dlq.headers.omitted': '__debezium.newkey,trace',
    });
    // The original headers are left out (they count against the limit too); the head is the value's start.
    expect(letter.headers['__debezium.newkey']).toBeUndefined();
    expect(letter.headers['dlq.value.head']).toEqual(big.value?.subarray(0, slimHeadBytes));
    expect((letter.headers['dlq.value.head'] as Buffer).length).toBe(1024);
    const bytes = Object.values(letter.headers).reduce((n, v) => n + Buffer.byteLength(v as never), 0);
    expect(bytes).toBeLessThan(4096);
  });

  it('leaves out an oversized key too, and says so; without a known limit it says only the size', () => {
    const letter = slimLetter({ ...big, key: Buffer.alloc(5000, 1) }, error, 0, undefined, undefined);
    expect(letter.key).toBeNull();
    expect(letter.headers['dlq.key.omitted']).toBe('5000 bytes');
    expect(letter.headers['dlq.value.omitted']).toBe(
      'too large for the dead-letter topic (1048211 bytes): read it from dlq.original.*',
    );
    expect(letter.headers['dlq.channel']).toBeUndefined();
  });
});

describe('producerCause (the broker reason as a bounded label)', () => {
  const protocol = (type: string) => Object.assign(new Error('x'), { name: 'KafkaJSProtocolError', type });

  it("is kafkajs's protocol error type", () => {
    expect(producerCause(protocol('TOPIC_AUTHORIZATION_FAILED'))).toBe('TOPIC_AUTHORIZATION_FAILED');
    expect(producerCause(protocol('MESSAGE_TOO_LARGE'))).toBe('MESSAGE_TOO_LARGE');
  });

  it("looks through kafkajs's wrappers: retries exceeded, a cause, an aggregate", () => {
    const retries = Object.assign(new Error('retries'), {
      name: 'KafkaJSNumberOfRetriesExceeded',
      originalError: protocol('NOT_LEADER_OR_FOLLOWER'),
    });
    expect(producerCause(retries)).toBe('NOT_LEADER_OR_FOLLOWER');
    expect(producerCause(new Error('wrapped', { cause: protocol('INVALID_RECORD') }))).toBe('INVALID_RECORD');
    expect(producerCause(Object.assign(new Error('all'), { errors: [protocol('INVALID_TIMESTAMP')] }))).toBe(
      'INVALID_TIMESTAMP',
    );
  });

  it('names network and timeout failures by their class, else unknown', () => {
    const named = (name: string) => Object.assign(new Error('x'), { name });
    expect(producerCause(named('KafkaJSConnectionError'))).toBe('network');
    expect(producerCause(named('KafkaJSConnectionClosedError'))).toBe('network');
    expect(producerCause(named('KafkaJSRequestTimeoutError'))).toBe('timeout');
    expect(producerCause(named('KafkaJSTimeout'))).toBe('timeout');
    expect(producerCause(new Error('socket hang up'))).toBe('unknown');
    expect(producerCause('a string')).toBe('unknown');
    expect(producerCause(null)).toBe('unknown');
  });

  it('never takes free text for a label: a type that is not an error name, or nesting past the bound', () => {
    expect(producerCause(Object.assign(new Error('x'), { type: 'drop table listings; --' }))).toBe('unknown');
    let deep: unknown = protocol('INVALID_RECORD');
    for (let i = 0; i < 6; i += 1) deep = { cause: deep };
    expect(producerCause(deep)).toBe('unknown');
  });
});

describe('kafka dead-letter sink, on a scripted producer', () => {
  /** A kafkajs stand-in whose topic refuses messages over `limit.bytes` while `limit.bytes` is set. */
  function scriptedKafka(limit: { bytes: number | undefined }) {
    const written: Array<{ value: Buffer | null; headers: Record<string, unknown> }> = [];
    const tooLarge = () =>
      Object.assign(new Error('too large'), { name: 'KafkaJSProtocolError', type: 'MESSAGE_TOO_LARGE' });
    const kafka = {
      producer: () => ({
        connect: async () => {},
        disconnect: async () => {},
        send: async ({
          messages,
        }: {
          messages: Array<{ value: Buffer | null; headers: Record<string, unknown> }>;
        }) => {
          const [m] = messages;
          if (m === undefined) return [];
          const size = (m.value?.length ?? 0) + JSON.stringify(m.headers).length;
          if (limit.bytes !== undefined && size > limit.bytes) throw tooLarge();
          written.push(m);
          return [];
        },
      }),
      admin: () => ({
        connect: async () => {},
        disconnect: async () => {},
        listTopics: async () => ['monolith.public.listings.dlq'],
        describeConfigs: async () => ({
          resources: [{ configEntries: [{ configValue: String(limit.bytes ?? 1_048_588) }] }],
        }),
      }),
    };
    return { kafka: kafka as never, written };
  }

  it('a topic that refused even the slim letter takes whole letters again once its limit is raised', async () => {
    const limit: { bytes: number | undefined } = { bytes: 16 };
    const { kafka, written } = scriptedKafka(limit);
    const sink = createKafkaDeadLetter({
      kafka,
      topic: null,
      clock: { now: () => 0, sleep: async () => {} },
    });
    const failure = await sink
      .send(makeRecord(), new NotifierError('DECODE_FAILED', 'x'))
      .catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: 'DEAD_LETTER_FAILED', details: { cause: 'MESSAGE_TOO_LARGE' } });
    expect(written).toEqual([]);
    limit.bytes = undefined; // the topic's config put back
    await sink.send(makeRecord(), new NotifierError('DECODE_FAILED', 'x'));
    expect(written).toHaveLength(1);
    expect(written[0]?.value).toEqual(Buffer.from('garbage'));
    expect(written[0]?.headers['dlq.value.omitted']).toBeUndefined();
  });
});
