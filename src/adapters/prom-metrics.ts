/**
 * The Metrics port on prom-client. Everything is registered on one Registry (a fresh one unless given)
 * that the health server exposes on /metrics; process metrics are the server owner's choice
 * (prom-client's collectDefaultMetrics({ register })).
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Metrics } from '../ports/index.ts';

/** Seconds: Slack's pace alone puts a queued message seconds away, an outage minutes. */
export const latencyBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60];

export function createPromMetrics(registry: Registry = new Registry()): Metrics & { registry: Registry } {
  const registers = [registry];
  const records = new Counter({
    name: 'listing_notifier_records_total',
    help: 'Kafka records finished, by outcome (notify, dropped, dead-letter) and reason.',
    labelNames: ['outcome', 'reason'] as const,
    registers,
  });
  const latency = new Histogram({
    name: 'listing_notifier_end_to_end_latency_seconds',
    help: "From Debezium's source timestamp (commit in Postgres) to Slack's ok.",
    buckets: latencyBuckets,
    registers,
  });
  const slackCalls = new Counter({
    name: 'listing_notifier_slack_calls_total',
    help: 'chat.postMessage calls, by result (ok, ratelimited, http_503, timeout, channel_not_found, ...).',
    labelNames: ['result'] as const,
    registers,
  });
  const rateLimited = new Counter({
    name: 'listing_notifier_slack_rate_limited_total',
    help: 'HTTP 429 answers from Slack, by channel.',
    labelNames: ['channel'] as const,
    registers,
  });
  const queueDepth = new Gauge({
    name: 'listing_notifier_delivery_queue_depth',
    help: 'Messages queued or in flight, by channel.',
    labelNames: ['channel'] as const,
    registers,
  });
  const consumerLag = new Gauge({
    name: 'listing_notifier_consumer_lag',
    help: 'Records between the committed offset and the high watermark, by topic and partition.',
    labelNames: ['topic', 'partition'] as const,
    registers,
  });
  const folded = new Counter({
    name: 'listing_notifier_folded_total',
    help: 'Changes folded by flood control, by channel and kind (coalesced, digest, lifted, cancelled).',
    labelNames: ['channel', 'kind'] as const,
    registers,
  });
  const ledgerHits = new Counter({
    name: 'listing_notifier_ledger_hits_total',
    help: 'Messages not posted again because the delivery ledger says one already carried the record, by channel.',
    labelNames: ['channel'] as const,
    registers,
  });
  const paceWaits = new Counter({
    name: 'listing_notifier_pace_waits_total',
    help: 'Calls that waited on the (shared) pace gates before going out.',
    registers,
  });
  const paceWaitSeconds = new Counter({
    name: 'listing_notifier_pace_wait_seconds_total',
    help: 'Time calls waited on the (shared) pace gates.',
    registers,
  });
  const storeFallbacks = new Counter({
    name: 'listing_notifier_store_fallbacks_total',
    help: 'Operations the shared store could not answer, by op (pace: paced on the local share instead; ledger, anchors).',
    labelNames: ['op'] as const,
    registers,
  });
  const deadLetterWrites = new Counter({
    name: 'listing_notifier_dead_letter_writes_total',
    help: "Dead-letter writes, by result (ok, failed, slim: too large, written without its value) and cause (the broker's reason).",
    labelNames: ['result', 'cause'] as const,
    registers,
  });
  const deadLetterBlocked = new Gauge({
    name: 'listing_notifier_dead_letter_blocked',
    help: 'A dead-letter topic refuses writes past the retry bound (1), by topic and cause: records wait uncommitted.',
    labelNames: ['topic', 'cause'] as const,
    registers,
  });
  const kafkaContact = new Gauge({
    name: 'listing_notifier_kafka_last_contact_timestamp_seconds',
    help: 'When a Kafka broker last answered the consumer (a heartbeat, a fetch, any request), Unix time in seconds.',
    registers,
  });
  const interactions = new Counter({
    name: 'listing_notifier_interactions_total',
    help: 'Requests to the Slack interactivity endpoint, by outcome (muted, explained, ignored, failed; refused: forged, stale, replayed, malformed, too-large).',
    labelNames: ['outcome'] as const,
    registers,
  });
  return {
    registry,
    interaction: (outcome) => interactions.inc({ outcome }),
    kafkaContact: (atMs) => kafkaContact.set(atMs / 1000),
    deadLetterWrite: (result, cause) => deadLetterWrites.inc({ result, cause }),
    deadLetterBlocked: (topic, cause, blocked) => deadLetterBlocked.set({ topic, cause }, blocked ? 1 : 0),
    ledgerHit: (channel) => ledgerHits.inc({ channel }),
    paceWait: (ms) => {
      paceWaits.inc();
      paceWaitSeconds.inc(ms / 1000);
    },
    storeFallback: (op) => storeFallbacks.inc({ op }),
    folded: (channel, kind) => folded.inc({ channel, kind }),
    recordOutcome: (outcome, reason) => records.inc({ outcome, reason }),
    observeEndToEndLatency: (seconds) => latency.observe(seconds),
    slackCall: (result) => slackCalls.inc({ result }),
    rateLimited: (channel) => rateLimited.inc({ channel }),
    setQueueDepth: (channel, depth) => queueDepth.set({ channel }, depth),
    setConsumerLag: (topic, partition, lag) => consumerLag.set({ topic, partition: String(partition) }, lag),
  };
}
