import { describe, expect, it } from 'vitest';
import { blockedReason, guardDeadLetter, isBlocked } from '../../../src/app/dead-letter-guard.ts';
import { NotifierError } from '../../../src/domain/errors.ts';
import type { SourceRecord } from '../../../src/domain/record.ts';
import { type Metrics, noopMetrics } from '../../../src/ports/index.ts';
import { createFakeDeadLetter } from '../../support/fake-dead-letter.ts';
import { createCapturingLogger, createManualClock } from '../../support/fakes.ts';

const record = (offset: string, topic = 'monolith.public.listings'): SourceRecord => ({
  topic,
  partition: 1,
  offset,
  key: null,
  value: Buffer.from('{}'),
  headers: {},
  timestamp: '0',
});
const decodeFailed = new NotifierError('DECODE_FAILED', 'not JSON');
/** What the sink throws when the broker refuses (kafka-dead-letter.ts), with the broker's reason. */
const refused = (cause: string) =>
  new NotifierError('DEAD_LETTER_FAILED', `could not write to monolith.public.listings.dlq: ${cause}: no`, {
    details: { cause },
  });

function setup(options: { blockAfter?: number; blockAfterMs?: number } = {}) {
  const clock = createManualClock();
  const sink = createFakeDeadLetter();
  const logger = createCapturingLogger();
  const gauge: string[] = [];
  const writes: string[] = [];
  const metrics: Metrics = {
    ...noopMetrics,
    deadLetterBlocked: (topic, cause, blocked) => gauge.push(`${topic} ${cause} ${blocked ? 1 : 0}`),
    deadLetterWrite: (result, cause) => writes.push(`${result} ${cause}`.trim()),
  };
  const guard = guardDeadLetter(sink, {
    clock,
    metrics,
    logger,
    topicFor: (t) => `${t}.dlq`,
    ...options,
  });
  /** One write through the guard; resolves with 'ok' or the failure's code. */
  const send = (r: SourceRecord): Promise<string> =>
    guard.send(r, decodeFailed).then(
      () => 'ok',
      (e: unknown) => (e as NotifierError).code,
    );
  return { clock, sink, logger, gauge, writes, guard, send };
}

describe('dead-letter guard', () => {
  it('reports a topic blocked after the count bound, with the cause and the record held, and passes the failure on', async () => {
    const { sink, guard, gauge, logger, writes, send } = setup({ blockAfter: 3, blockAfterMs: 60_000 });
    sink.failNext(3, refused('TOPIC_AUTHORIZATION_FAILED'));
    expect(await send(record('10'))).toBe('DEAD_LETTER_FAILED');
    expect(await send(record('10'))).toBe('DEAD_LETTER_FAILED');
    expect(guard.blocked()).toEqual([]);
    expect(gauge).toEqual([]);
    expect(await send(record('11'))).toBe('DEAD_LETTER_FAILED');
    expect(guard.blocked()).toEqual([
      expect.objectContaining({
        topic: 'monolith.public.listings.dlq',
        cause: 'TOPIC_AUTHORIZATION_FAILED',
        failures: 3,
        record: { topic: 'monolith.public.listings', partition: 1, offset: '11' },
      }),
    ]);
    expect(gauge).toEqual(['monolith.public.listings.dlq TOPIC_AUTHORIZATION_FAILED 1']);
    expect(logger.lines.filter((l) => l.level === 'error')).toHaveLength(1);
    expect(writes).toEqual(Array(3).fill('failed TOPIC_AUTHORIZATION_FAILED'));
  });

  it('reports a topic blocked once its writes kept failing for the time bound, though the count is not reached', async () => {
    const { clock, sink, guard, gauge, send } = setup({ blockAfter: 100, blockAfterMs: 15_000 });
    sink.failNext(3, refused('INVALID_TIMESTAMP'));
    expect(await send(record('10'))).toBe('DEAD_LETTER_FAILED');
    await clock.advance(14_999);
    expect(guard.blocked()).toEqual([]);
    // Between attempts (the backoff), /readyz already sees it once the bound has passed.
    await clock.advance(1);
    expect(guard.blocked()).toEqual([
      expect.objectContaining({ cause: 'INVALID_TIMESTAMP', failures: 1, sinceMs: clock.now() - 15_000 }),
    ]);
    // The gauge follows at the next failed attempt.
    expect(gauge).toEqual([]);
    expect(await send(record('10'))).toBe('DEAD_LETTER_FAILED');
    expect(gauge).toEqual(['monolith.public.listings.dlq INVALID_TIMESTAMP 1']);
  });

  it('counts the time from the start of the first failed attempt (a write that hangs, then fails)', async () => {
    const { clock, guard, send } = setup({ blockAfter: 100, blockAfterMs: 15_000 });
    const hanging = guardDeadLetter(
      {
        send: () => clock.sleep(12_000).then(() => Promise.reject(refused('REQUEST_TIMED_OUT'))),
      },
      { clock, metrics: noopMetrics, logger: createCapturingLogger(), topicFor: (t) => `${t}.dlq` },
    );
    const started = clock.now();
    const attempt = hanging.send(record('5'), decodeFailed).catch(() => 'failed');
    await clock.advance(12_000);
    expect(await attempt).toBe('failed');
    expect(hanging.blocked()).toEqual([]);
    await clock.advance(3_000);
    expect(hanging.blocked()).toEqual([expect.objectContaining({ sinceMs: started, failures: 1 })]);
    // The guards are independent of each other.
    expect(guard.blocked()).toEqual([]);
    expect(await send(record('6'))).toBe('ok');
  });

  it('clears the block and the gauge at the first write that succeeds, and counts again from zero', async () => {
    const { sink, guard, gauge, logger, writes, send } = setup({ blockAfter: 2, blockAfterMs: 60_000 });
    sink.failNext(2, refused('NOT_LEADER_OR_FOLLOWER'));
    await send(record('1'));
    await send(record('1'));
    expect(guard.blocked()).toHaveLength(1);
    expect(await send(record('1'))).toBe('ok');
    expect(guard.blocked()).toEqual([]);
    expect(gauge).toEqual([
      'monolith.public.listings.dlq NOT_LEADER_OR_FOLLOWER 1',
      'monolith.public.listings.dlq NOT_LEADER_OR_FOLLOWER 0',
    ]);
    expect(logger.lines.at(-1)?.msg).toBe('dead-letter topic takes writes again');
    expect(writes.at(-1)).toBe('ok');
    sink.failNext(1, refused('NOT_LEADER_OR_FOLLOWER'));
    await send(record('2'));
    expect(guard.blocked()).toEqual([]);
  });

  it('moves the gauge to the new cause when the cause changes while blocked', async () => {
    const { sink, guard, gauge, send } = setup({ blockAfter: 1, blockAfterMs: 60_000 });
    sink.failOnCall(1, refused('TOPIC_AUTHORIZATION_FAILED'));
    sink.failOnCall(2, new Error('socket hang up'));
    await send(record('1'));
    await send(record('1'));
    expect(guard.blocked()).toEqual([
      expect.objectContaining({ cause: 'internal', message: 'socket hang up' }),
    ]);
    expect(gauge).toEqual([
      'monolith.public.listings.dlq TOPIC_AUTHORIZATION_FAILED 1',
      'monolith.public.listings.dlq TOPIC_AUTHORIZATION_FAILED 0',
      'monolith.public.listings.dlq internal 1',
    ]);
  });

  it('keeps topics apart: one that refuses writes does not block another', async () => {
    const { sink, guard, send } = setup({ blockAfter: 1, blockAfterMs: 60_000 });
    sink.failNext(1, refused('TOPIC_AUTHORIZATION_FAILED'));
    await send(record('1', 'a'));
    expect(await send(record('1', 'b'))).toBe('ok');
    expect(guard.blocked().map((b) => b.topic)).toEqual(['a.dlq']);
  });

  it('isBlocked: either bound, whichever comes first', () => {
    const block = {
      topic: 't.dlq',
      cause: 'x',
      message: 'm',
      sinceMs: 1_000,
      failures: 2,
      record: { topic: 't', partition: 0, offset: '0' },
    };
    const bounds = { blockAfter: 3, blockAfterMs: 10_000 };
    expect(isBlocked({ block }, 10_999, bounds)).toBe(false);
    expect(isBlocked({ block }, 11_000, bounds)).toBe(true);
    expect(isBlocked({ block: { ...block, failures: 3 } }, 1_000, bounds)).toBe(true);
    expect(blockedReason([block], 31_000)).toBe(
      'dead-letter topic t.dlq refuses writes (x) for 30 s, 2 attempts: t[0] is held uncommitted at offset 0; last error: m',
    );
  });
});
