/**
 * The running service: a record source feeding the record loop, the health server, and the two ways
 * to end. Adapters come in as parts (src/main.ts picks the real ones; tests pass fakes).
 *
 * - stop() (SIGTERM/SIGINT): stop fetching, let in-flight deliveries finish within the deadline
 *   (delivery.shutdownDeadlineMs, under Kubernetes' 30 s grace period), commit what finished, leave the
 *   group, disconnect; exit code 0.
 * - a 'stop' error (bad token, a consumer that gave up, a bug): abort what is in flight, commit only
 *   what finished, leave, disconnect; exit code 1, with the reason logged.
 */
import type { RetryPolicy } from '../delivery/retry-policy.ts';
import { describeError } from '../domain/errors.ts';
import type {
  Clock,
  DeadLetterSink,
  Deliverer,
  KafkaContact,
  Logger,
  Metrics,
  RecordPipeline,
  RecordSource,
  StoreStatus,
} from '../ports/index.ts';
import type { AdmissionLimits } from './admission.ts';
import type { DeadLetterBlock } from './dead-letter-guard.ts';
import {
  assessReadiness,
  type HealthServer,
  type HealthServerOptions,
  type MetricsText,
  type Readiness,
  startHealthServer,
} from './health-server.ts';
import { createRecordLoop, type LoopStatus, type RecordLoopOptions } from './record-loop.ts';

export interface ServiceParts {
  source: RecordSource;
  pipeline: RecordPipeline;
  deliverer: Deliverer;
  deadLetter: DeadLetterSink;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  /** What /metrics serves (the prom-client registry behind `metrics`). */
  metricsText: MetricsText;
  limits: AdmissionLimits;
  /** delivery.maxQueuedPerChannel. */
  maxQueuedPerChannel: number;
  retry: RetryPolicy;
  /** delivery.shutdownDeadlineMs (default 25 000). */
  shutdownDeadlineMs: number;
  /** http.host / http.port; port 0 picks a free one. With `interactivity`, POST /slack/interactivity. */
  http: { host: string; port: number; interactivity?: HealthServerOptions['interactivity'] };
  /** /readyz turns 503 when records are in flight and none finished for this long. Default 60 000. */
  stallAfterMs?: number;
  random?: () => number;
  /** The last-values store's write after each taken record (last-values.ts track). Default: none. */
  afterWork?: RecordLoopOptions['afterWork'];
  /** The same store's edge for fold runs (last-values.ts hold/release); with afterWork, or runs are off. */
  runValues?: RecordLoopOptions['runValues'];
  /** Closed after the source stopped, in order (dead-letter producer, ...). */
  closers?: Array<() => Promise<void>>;
  /** The shared store, for /readyz. Default: embedded (memory). */
  storeStatus?: () => StoreStatus;
  /** Dead-letter topics refusing writes past the retry bound (dead-letter-guard.ts): /readyz says why. */
  deadLetterBlocks?: () => DeadLetterBlock[];
  /** When Kafka last answered the consumer (kafka-contact.ts): /readyz says when it went silent. */
  kafkaContact?: () => KafkaContact;
  /** Silence from Kafka that makes /readyz 503. Default 20 000 ms. */
  kafkaSilentAfterMs?: number;
}

export interface Service {
  /** Base URL of the health server. */
  httpUrl: string;
  /** Resolves with the process exit code once the service has stopped, whichever way. */
  done: Promise<number>;
  /** Graceful stop; resolves with the exit code (0, or 1 when a stop error got there first). */
  stop(reason?: string): Promise<number>;
  status(): LoopStatus;
  readiness(): Readiness;
}

export async function startService(parts: ServiceParts): Promise<Service> {
  const { logger, source } = parts;
  const stallAfterMs = parts.stallAfterMs ?? 60_000;
  let resolveDone: (code: number) => void = () => {};
  const done = new Promise<number>((resolve) => {
    resolveDone = resolve;
  });
  let ending: Promise<number> | undefined;
  let http: HealthServer | undefined;

  const closeAll = async (): Promise<void> => {
    await source.stop().catch((error: unknown) => {
      logger.warn({ error: describeError(error) }, 'leaving the consumer group failed');
    });
    for (const close of parts.closers ?? []) {
      await close().catch((error: unknown) => logger.warn({ error: describeError(error) }, 'close failed'));
    }
    await http?.close();
  };

  let failed = false;
  const fatalStop = (error: unknown): void => {
    failed = true;
    if (ending !== undefined) {
      loop.abortAll(error);
      return;
    }
    logger.error(
      { error: describeError(error) },
      `stopping: ${describeError(error).message ?? String(error)}`,
    );
    ending = (async () => {
      loop.abortAll(error);
      await loop.commitNow();
      await closeAll();
      resolveDone(1);
      return 1;
    })();
  };

  const loop = createRecordLoop({
    pipeline: parts.pipeline,
    deliverer: parts.deliverer,
    deadLetter: parts.deadLetter,
    source,
    clock: parts.clock,
    metrics: parts.metrics,
    logger,
    limits: parts.limits,
    maxQueuedPerChannel: parts.maxQueuedPerChannel,
    retry: parts.retry,
    ...(parts.random === undefined ? {} : { random: parts.random }),
    ...(parts.afterWork === undefined ? {} : { afterWork: parts.afterWork }),
    ...(parts.runValues === undefined ? {} : { runValues: parts.runValues }),
    onFatal: fatalStop,
  });

  const storeStatus =
    parts.storeStatus ?? ((): StoreStatus => ({ kind: 'memory', connected: true, fallback: false }));
  const readiness = (): Readiness => {
    const waiting = source.notReadyReason?.();
    const kafka = parts.kafkaContact?.();
    const judged = assessReadiness(loop.status(), stallAfterMs, {
      nowMs: parts.clock.now(),
      deadLetter: parts.deadLetterBlocks?.() ?? [],
      ...(waiting === undefined ? {} : { waiting }),
      ...(kafka === undefined ? {} : { kafka }),
      ...(parts.kafkaSilentAfterMs === undefined ? {} : { kafkaSilentAfterMs: parts.kafkaSilentAfterMs }),
    });
    return { ...judged, store: storeStatus() };
  };
  http = await startHealthServer({ ...parts.http, readiness, metrics: parts.metricsText });
  try {
    await source.start(loop);
  } catch (error) {
    // Half-open Kafka connections would keep the process alive after the failed start.
    loop.abortAll(error);
    await closeAll();
    throw error;
  }
  logger.info({ http: http.url }, 'listing-notifier running');

  return {
    httpUrl: http.url,
    done,
    stop(reason = 'stop requested') {
      if (ending !== undefined) return ending;
      logger.info({ reason, deadlineMs: parts.shutdownDeadlineMs }, 'shutting down');
      ending = (async () => {
        const { unfinished } = await loop.drain(parts.shutdownDeadlineMs);
        await closeAll();
        const code = failed ? 1 : 0;
        logger.info({ unfinished, exitCode: code }, 'stopped');
        resolveDone(code);
        return code;
      })();
      return ending;
    },
    status: () => loop.status(),
    readiness,
  };
}
