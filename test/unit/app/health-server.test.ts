import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createPromMetrics } from '../../../src/adapters/prom-metrics.ts';
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
