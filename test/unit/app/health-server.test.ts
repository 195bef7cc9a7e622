import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createPromMetrics } from '../../../src/adapters/prom-metrics.ts';
import type { DeadLetterBlock } from '../../../src/app/dead-letter-guard.ts';
import { assessReadiness, type HealthServer, startHealthServer } from '../../../src/app/health-server.ts';
import type { LoopStatus } from '../../../src/app/record-loop.ts';

const makeStatus = (overrides: Partial<LoopStatus> = {}): LoopStatus => ({
  joined: true,
  stopping: false,
  inFlight: 0,
  folded: 0,
  inFlightBytes: 0,
  assigned: [{ topic: 'monolith.public.listings', partition: 0 }],
  paused: [],
  stalledForMs: 0,
  ...overrides,
});

describe('readiness', () => {
  it('is ready when joined and progressing', () => {
    expect(assessReadiness(makeStatus({ inFlight: 3, stalledForMs: 5_000 }), 60_000)).toMatchObject({
      ready: true,
    });
  });
  it('is not ready before joining the group', () => {
    expect(assessReadiness(makeStatus({ joined: false }), 60_000)).toMatchObject({
      ready: false,
      reason: 'not a member of the consumer group',
    });
  });
  it('is not ready when stalled: work pending and nothing finished for too long', () => {
    expect(assessReadiness(makeStatus({ inFlight: 1, stalledForMs: 61_000 }), 60_000)).toMatchObject({
      ready: false,
      reason: 'no record finished for 61 s',
    });
  });
  it('is not ready while stopping', () => {
    expect(assessReadiness(makeStatus({ stopping: true }), 60_000).ready).toBe(false);
  });
});

describe('readiness tells the truth during a Kafka cut and while the dead-letter topic refuses writes', () => {
  const now = 1_767_225_600_000;
  const block: DeadLetterBlock = {
    topic: 'monolith.public.listings.dlq',
    cause: 'INVALID_TIMESTAMP',
    message: 'could not write to monolith.public.listings.dlq: INVALID_TIMESTAMP: out of range',
    sinceMs: now - 16_000,
    failures: 3,
    record: { topic: 'monolith.public.listings', partition: 1, offset: '77' },
  };

  it('stays ready while Kafka answered within the bound, and says when it last did', () => {
    const r = assessReadiness(makeStatus(), 60_000, { nowMs: now, kafka: { lastContactMs: now - 19_999 } });
    expect(r).toMatchObject({ ready: true, reason: 'ok', kafka: { lastContactAgoMs: 19_999 } });
  });

  it('is not ready once Kafka has not answered for the bound, with the last error since', () => {
    const kafka = {
      lastContactMs: now - 41_000,
      lastError: {
        message: 'request Fetch to broker 127.0.0.1:9092 timed out',
        atMs: now - 11_000,
      },
    };
    // Still a member as far as the loop knows, nothing in flight: the stall detector sees nothing.
    const r = assessReadiness(makeStatus(), 60_000, { nowMs: now, kafka });
    expect(r.ready).toBe(false);
    expect(r.reason).toBe(
      'kafka: no heartbeat, fetch or other request answered for 41 s ' +
        '(last error 11 s ago: request Fetch to broker 127.0.0.1:9092 timed out)',
    );
    expect(r.kafka).toEqual({
      lastContactAgoMs: 41_000,
      lastError: { message: kafka.lastError.message, agoMs: 11_000 },
    });
  });

  it('does not blame an error from before the last contact', () => {
    const kafka = { lastContactMs: now - 25_000, lastError: { message: 'old', atMs: now - 90_000 } };
    const r = assessReadiness(makeStatus(), 60_000, { nowMs: now, kafka, kafkaSilentAfterMs: 25_000 });
    expect(r.reason).toBe(
      'kafka: no heartbeat, fetch or other request answered for 25 s (no error yet: requests are waiting for an answer)',
    );
  });

  it('names every cause, Kafka first: a cut also costs the membership', () => {
    const r = assessReadiness(makeStatus({ joined: false }), 60_000, {
      nowMs: now,
      kafka: { lastContactMs: now - 30_000 },
    });
    expect(r.reason).toBe(
      'kafka: no heartbeat, fetch or other request answered for 30 s (no error yet: requests are waiting for an answer); ' +
        'not a member of the consumer group',
    );
  });

  it('while waiting for topics, the wait is the reason (the consumer does not run, so no heartbeats)', () => {
    const r = assessReadiness(makeStatus({ joined: false }), 60_000, {
      nowMs: now,
      waiting: 'waiting for topic(s) to exist: t (for 90 s)',
      kafka: { lastContactMs: now - 90_000 },
    });
    expect(r).toMatchObject({ ready: false, reason: 'waiting for topic(s) to exist: t (for 90 s)' });
  });

  it('is not ready while a dead-letter topic refuses writes, though records keep finishing', () => {
    const r = assessReadiness(makeStatus({ inFlight: 5, stalledForMs: 100 }), 60_000, {
      nowMs: now,
      deadLetter: [block],
      kafka: { lastContactMs: now - 1_000 },
    });
    expect(r.ready).toBe(false);
    expect(r.reason).toBe(
      'dead-letter topic monolith.public.listings.dlq refuses writes (INVALID_TIMESTAMP) for 16 s, 3 attempts: ' +
        'monolith.public.listings[1] is held uncommitted at offset 77; last error: ' +
        'could not write to monolith.public.listings.dlq: INVALID_TIMESTAMP: out of range',
    );
    expect(r.deadLetter).toEqual([block]);
  });

  it('says only "stopping" while stopping, whatever else holds', () => {
    const r = assessReadiness(makeStatus({ stopping: true, joined: false }), 60_000, {
      nowMs: now,
      deadLetter: [block],
      kafka: { lastContactMs: now - 60_000 },
    });
    expect(r).toMatchObject({ ready: false, reason: 'stopping' });
  });
});

describe('health server', () => {
  let server: HealthServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const start = async (status: LoopStatus) => {
    const metrics = createPromMetrics(new Registry());
    metrics.recordOutcome('notify', 'price-cut');
    metrics.setConsumerLag('monolith.public.listings', 0, 12);
    server = await startHealthServer({
      host: '127.0.0.1',
      port: 0,
      readiness: () => assessReadiness(status, 60_000),
      metrics: metrics.registry,
    });
    return server;
  };

  it('answers /healthz, /readyz and /metrics', async () => {
    const s = await start(makeStatus());
    const health = await fetch(`${s.url}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${s.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, joined: true });
    const metrics = await fetch(`${s.url}/metrics`);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    const text = await metrics.text();
    expect(text).toContain('listing_notifier_records_total{outcome="notify",reason="price-cut"} 1');
    expect(text).toContain(
      'listing_notifier_consumer_lag{topic="monolith.public.listings",partition="0"} 12',
    );
    expect((await fetch(`${s.url}/nope`)).status).toBe(404);
  });

  it('answers 503 with the reason when not ready', async () => {
    const s = await start(makeStatus({ joined: false }));
    const ready = await fetch(`${s.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ ready: false, reason: 'not a member of the consumer group' });
  });
});
