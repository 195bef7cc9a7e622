import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createPromMetrics } from '../../../src/adapters/prom-metrics.ts';

describe('createPromMetrics', () => {
  it('exposes every Metrics call in Prometheus text format', async () => {
    const metrics = createPromMetrics();
    metrics.recordOutcome('notify', 'price_cut');
    metrics.recordOutcome('notify', 'price_cut');
    metrics.recordOutcome('dead-letter', 'DECODE_FAILED');
    metrics.observeEndToEndLatency(0.7);
    metrics.slackCall('ok');
    metrics.slackCall('http_503');
    metrics.rateLimited('sales-alerts');
    metrics.setQueueDepth('sales-alerts', 5);
    metrics.setQueueDepth('sales-alerts', 2);
    metrics.setConsumerLag('pg.public.listings', 0, 17);

    const text = await metrics.registry.metrics();
    expect(text).toContain('listing_notifier_records_total{outcome="notify",reason="price_cut"} 2');
    expect(text).toContain('listing_notifier_records_total{outcome="dead-letter",reason="DECODE_FAILED"} 1');
    expect(text).toContain('listing_notifier_end_to_end_latency_seconds_bucket{le="0.5"} 0');
    expect(text).toContain('listing_notifier_end_to_end_latency_seconds_bucket{le="1"} 1');
    expect(text).toContain('listing_notifier_end_to_end_latency_seconds_bucket{le="60"} 1');
    expect(text).toContain('listing_notifier_end_to_end_latency_seconds_count 1');
    expect(text).toContain('listing_notifier_slack_calls_total{result="http_503"} 1');
    expect(text).toContain('listing_notifier_slack_rate_limited_total{channel="sales-alerts"} 1');
    expect(text).toContain('listing_notifier_delivery_queue_depth{channel="sales-alerts"} 2');
    expect(text).toContain('listing_notifier_consumer_lag{topic="pg.public.listings",partition="0"} 17');
  });

  it('registers on the registry it is given, and two instances do not collide', async () => {
    const registry = new Registry();
    const metrics = createPromMetrics(registry);
    expect(metrics.registry).toBe(registry);
    expect(() => createPromMetrics()).not.toThrow();
    expect(await registry.getMetricsAsJSON()).toHaveLength(15);
  });
});

describe('finding 4 (issue 19): dead-letter metrics name the cause', () => {
  it('counts writes by result and cause, and shows a blocked topic with its cause', async () => {
    const metrics = createPromMetrics();
    metrics.deadLetterWrite('slim', 'MESSAGE_TOO_LARGE');
    metrics.deadLetterWrite('failed', 'TOPIC_AUTHORIZATION_FAILED');
    metrics.deadLetterBlocked('listings.dlq', 'TOPIC_AUTHORIZATION_FAILED', true);
    const text = await metrics.registry.metrics();
    expect(text).toContain(
      'listing_notifier_dead_letter_writes_total{result="slim",cause="MESSAGE_TOO_LARGE"} 1',
    );
    expect(text).toContain(
      'listing_notifier_dead_letter_blocked{topic="listings.dlq",cause="TOPIC_AUTHORIZATION_FAILED"} 1',
    );
    metrics.deadLetterBlocked('listings.dlq', 'TOPIC_AUTHORIZATION_FAILED', false);
    expect(await metrics.registry.metrics()).toContain(
      'listing_notifier_dead_letter_blocked{topic="listings.dlq",cause="TOPIC_AUTHORIZATION_FAILED"} 0',
    );
  });
});
