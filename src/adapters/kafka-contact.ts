/**
 * When the consumer last heard from Kafka, from kafkajs's instrumentation events
 * (https://kafka.js.org/docs/instrumentation-events), for /readyz and a gauge (issue 19: during a 60 s
 * Kafka cut /readyz kept answering 200, since the stall detector only counts while records are in
 * flight and the group membership is not noticed lost until kafkajs gives up).
 *
 * Contact is any answer from a broker: consumer.network.request (every response, a fetch's long poll
 * included: at least one a second while consuming, fetch.maxWaitTimeMs), heartbeat, fetch, group_join,
 * commit_offsets and connect. kafkajs heartbeats every heartbeatInterval (3 s) even while every
 * partition is paused, so a healthy consumer is never silent for long. The last error is kept to say
 * why: a request that timed out (consumer.network.request_timeout) or a crash.
 *
 * Watches `consumer.on(...)` only: the source (kafka-source.ts) is not touched.
 */
import type { Consumer } from 'kafkajs';
import type { Clock, KafkaContact } from '../ports/index.ts';

export interface KafkaContactWatch {
  contact(): KafkaContact;
}

/** Bounded: an error text from the network can be long. */
const clip = (s: string): string => (s.length > 300 ? `${s.slice(0, 299)}…` : s);

export function watchKafkaContact(
  consumer: Pick<Consumer, 'on' | 'events'>,
  opts: { clock: Clock; onContact?: (atMs: number) => void },
): KafkaContactWatch {
  const { clock } = opts;
  const state: KafkaContact = { lastContactMs: clock.now() };
  const contact = (): void => {
    state.lastContactMs = clock.now();
    opts.onContact?.(state.lastContactMs);
  };
  const { events } = consumer;
  consumer.on(events.REQUEST, contact);
  consumer.on(events.HEARTBEAT, contact);
  consumer.on(events.FETCH, contact);
  consumer.on(events.GROUP_JOIN, contact);
  consumer.on(events.COMMIT_OFFSETS, contact);
  consumer.on(events.CONNECT, contact);
  consumer.on(events.REQUEST_TIMEOUT, (event) => {
    // (The payload's pendingDuration is the time the request queued before it was sent, not the wait.)
    const p = event.payload;
    state.lastError = {
      message: clip(`request ${p.apiName} to broker ${p.broker} timed out`),
      atMs: clock.now(),
    };
  });
  consumer.on(events.CRASH, (event) => {
    const error = event.payload.error as { name?: string; message?: string } | undefined;
    state.lastError = {
      message: clip(`consumer crashed: ${error?.name ?? 'Error'}: ${error?.message ?? String(error)}`),
      atMs: clock.now(),
    };
  });
  return { contact: () => ({ ...state }) };
}
