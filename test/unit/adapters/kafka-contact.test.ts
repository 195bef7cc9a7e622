import { Kafka } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { watchKafkaContact } from '../../../src/adapters/kafka-contact.ts';
import { createManualClock } from '../../support/fakes.ts';

/** kafkajs's real event names, on an emitter the test drives (a consumer's own is not exposed). */
function fakeConsumer() {
  const { events } = new Kafka({ clientId: 'truth-contact', brokers: ['127.0.0.1:1'] }).consumer({
    groupId: 'truth-contact',
  });
  const listeners = new Map<string, Array<(event: unknown) => void>>();
  return {
    events,
    on(name: string, listener: (event: unknown) => void) {
      listeners.set(name, [...(listeners.get(name) ?? []), listener]);
      return () => {};
    },
    emit(name: string, payload: Record<string, unknown> = {}) {
      for (const l of listeners.get(name) ?? []) l({ id: 1, type: name, timestamp: 0, payload });
    },
  };
}

describe('kafka contact', () => {
  it('moves on every answer from a broker: a request, a heartbeat, a fetch, a join, a commit', async () => {
    const clock = createManualClock();
    const consumer = fakeConsumer();
    const seen: number[] = [];
    const watch = watchKafkaContact(consumer as never, { clock, onContact: (ms) => seen.push(ms) });
    const start = clock.now();
    expect(watch.contact()).toEqual({ lastContactMs: start });
    const { events } = consumer;
    for (const name of [
      events.REQUEST,
      events.HEARTBEAT,
      events.FETCH,
      events.GROUP_JOIN,
      events.COMMIT_OFFSETS,
    ]) {
      await clock.advance(1_000);
      consumer.emit(name);
      expect(watch.contact().lastContactMs, name).toBe(clock.now());
    }
    expect(seen).toEqual([1, 2, 3, 4, 5].map((s) => start + s * 1_000));
  });

  it('does not move on what is not an answer: a request timeout, a crash, a fetch starting', async () => {
    const clock = createManualClock();
    const consumer = fakeConsumer();
    const watch = watchKafkaContact(consumer as never, { clock });
    const start = clock.now();
    await clock.advance(30_000);
    consumer.emit(consumer.events.FETCH_START);
    consumer.emit(consumer.events.REQUEST_TIMEOUT, {
      apiName: 'Fetch',
      broker: '127.0.0.1:9092',
      pendingDuration: 30_000,
    });
    expect(watch.contact()).toEqual({
      lastContactMs: start,
      lastError: {
        message: 'request Fetch to broker 127.0.0.1:9092 timed out',
        atMs: clock.now(),
      },
    });
    await clock.advance(5_000);
    const error = Object.assign(new Error('Connection timeout'), { name: 'KafkaJSConnectionError' });
    consumer.emit(consumer.events.CRASH, { error, groupId: 'g', restart: true });
    expect(watch.contact()).toEqual({
      lastContactMs: start,
      lastError: {
        message: 'consumer crashed: KafkaJSConnectionError: Connection timeout',
        atMs: clock.now(),
      },
    });
  });
});
