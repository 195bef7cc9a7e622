/**
 * Composition root: the only place that picks real adapters (STYLE.md: ports with one real adapter
 * and one fake). `start` builds the service from a validated Config; `installSignalHandlers` turns
 * SIGTERM/SIGINT into a graceful stop. The `run` command (src/cli/run.ts) and the end-to-end tests call
 * these; tests inject options (a logger to read, port 0, where a new group starts) instead of touching
 * process state.
 */
import { collectDefaultMetrics, Registry } from 'prom-client';
import { checkBrokerTls, createKafkaClient } from './adapters/kafka-client.ts';
import { watchKafkaContact } from './adapters/kafka-contact.ts';
import { createKafkaDeadLetter } from './adapters/kafka-dead-letter.ts';
import { createKafkaSource } from './adapters/kafka-source.ts';
import { createLogger } from './adapters/logger.ts';
import { createMemoryLastValues } from './adapters/memory-last-values.ts';
import { createMemoryMuteStore } from './adapters/memory-mutes.ts';
import { createPromMetrics } from './adapters/prom-metrics.ts';
import { createReloadMetrics } from './adapters/prom-reload-metrics.ts';
import { systemClock } from './adapters/system-clock.ts';
import { withAlertMemory } from './app/alert-memory.ts';
import { guardDeadLetter } from './app/dead-letter-guard.ts';
import { createInteractivity } from './app/interactivity.ts';
import { createLastValuesEdge } from './app/last-values.ts';
import { watchAssignments, withDeliveryLedger } from './app/ledger-filter.ts';
import { type MuteWatch, watchMutes } from './app/mute-watch.ts';
import { withMutes } from './app/mutes-filter.ts';
import { withQuarantine } from './app/quarantine.ts';
import { createReloadablePipeline, createRulesWatcher } from './app/rules-reload.ts';
import type { Service } from './app/service.ts';
import { startService } from './app/service.ts';
import { type Connections, resolveConnections } from './config/connections.ts';
import type { Config } from './config/index.ts';
import { createMemoryLedger } from './delivery/ledger.ts';
import { createFallbackPaceGate } from './delivery/pace-gate.ts';
import { createScheduler, openDestinations } from './delivery-root.ts';
import { createPipeline, type PipelineDeps } from './pipeline/index.ts';
import type {
  AlertMemory,
  ChatDestination,
  Clock,
  DeliveryLedger,
  LastValuesStore,
  Logger,
  Metrics,
  PaceGate,
  SchemaRegistryPort,
  StoreStatus,
  ThreadAnchors,
} from './ports/index.ts';
import type { MuteStore } from './ports/mutes.ts';

export type { Service } from './app/service.ts';

export interface StartOptions {
  /** Validated config with env overrides applied (src/app/env.ts). */
  config: Config;
  /** The Slack bot token (from process.env[config.slack.tokenEnv]); never logged. */
  token: string;
  /**
   * TLS/SASL and registry credentials, read from what config.source names (src/config/connections.ts).
   * Default: read now from process.env and the named files.
   */
  connections?: Connections;
  /** Default: pino JSON on stdout at `logLevel`. */
  logger?: Logger;
  /** pino level for the default logger; default "info". */
  logLevel?: string;
  clock?: Clock;
  /** Default: @slack/web-api against config.slack.apiUrl, checked with auth.test before consuming. */
  chat?: ChatDestination & { authTest?: () => Promise<unknown> };
  /** Overrides config.http (tests pass port 0). */
  http?: Partial<Config['http']>;
  kafka?: {
    /** Where a group with no committed offset starts; default latest. */
    fromBeginning?: boolean;
    /** Default 4. */
    partitionsConsumedConcurrently?: number;
    /** Default 30 000. */
    sessionTimeoutMs?: number;
    /** kafkajs's own log level; default warn. */
    logLevel?: 'error' | 'warn' | 'info' | 'debug';
  };
  /** Default: a fresh prom-client Registry with process metrics. */
  registry?: Registry;
  /** /readyz stall threshold; default 60 000 ms. */
  stallAfterMs?: number;
  /** Consecutive failed writes before a dead-letter topic is reported blocked; default 5. */
  deadLetterBlockAfter?: number;
  /** How long a dead-letter topic's writes may keep failing before it is reported blocked; default 15 000 ms. */
  deadLetterBlockAfterMs?: number;
  /** Silence from Kafka (no request answered) before /readyz turns 503; default 20 000 ms. */
  kafkaSilentAfterMs?: number;
  /**
   * Reload the rules without a restart (the file is watched, and SIGHUP reloads it): `path` is the
   * rules file, `initial` the config as read from it (before environment overrides), `overrides` applies
   * those to a reloaded config. Default: no reloading.
   */
  rules?: { path: string; initial: Config; overrides(config: Config): Config };
}

/**
 * Checks the token (auth.test: a bad token fails here with SLACK_AUTH, before any record is read),
 * then joins the consumer group and serves /healthz, /readyz, /metrics. Throws NotifierError on a
 * 'stop' condition at startup.
 */
export async function start(options: StartOptions): Promise<Service> {
  const { config } = options;
  const connections = options.connections ?? (await resolveConnections(config, process.env));
  const logger =
    options.logger ?? createLogger({ level: options.logLevel ?? 'info', secrets: connections.secrets });
  const clock = options.clock ?? systemClock;

  // One composition of destinations and scheduler, shared with `dlq redrive` (src/delivery-root.ts).
  const { destinations: chat, accepted } = await openDestinations({
    config,
    token: options.token,
    env: process.env,
    clock,
    logger,
    ...(options.chat === undefined ? {} : { slack: options.chat }),
  });
  if (accepted !== undefined)
    logger.info({ slack: accepted.identity, apiUrl: config.slack.apiUrl }, 'Slack accepted the bot token');

  let registry = options.registry;
  if (registry === undefined) {
    registry = new Registry();
    collectDefaultMetrics({ register: registry });
  }
  const metrics: Metrics = createPromMetrics(registry);

  let schemaRegistry: SchemaRegistryPort | undefined;
  if (config.source.registryUrl !== null) {
    const { createSchemaRegistry } = await import('./adapters/schema-registry.ts');
    const client = createSchemaRegistry({ host: config.source.registryUrl, ...connections.registry });
    await client.check();
    schemaRegistry = client;
  }
  const store = await openStore(config, connections.store.password, clock, logger, metrics);
  // Before images from what was seen, for changes that come without one (last-values.ts).
  const lastValues =
    store.lastValues === undefined
      ? undefined
      : createLastValuesEdge({
          store: store.lastValues,
          metrics,
          logger: logger.child({ component: 'last-values' }),
        });
  const pipelineDeps: PipelineDeps = {
    // The record loop renders what it does not fold into a digest (record-loop.ts take).
    deferRender: true,
    ...(schemaRegistry === undefined ? {} : { registry: schemaRegistry }),
    ...(lastValues === undefined ? {} : { lastValues }),
  };
  // Records and folded messages both read the rules in effect: a reload reaches digests too.
  const pipeline = createReloadablePipeline(config, (rules) => createPipeline(rules, pipelineDeps));
  const watcher =
    options.rules === undefined
      ? undefined
      : await createRulesWatcher({
          path: options.rules.path,
          initial: options.rules.initial,
          logger: logger.child({ component: 'rules' }),
          metrics: createReloadMetrics(registry),
          onReload: (next) => pipeline.swap(options.rules?.overrides(next) ?? next),
        });

  const { delivery } = config;
  const scheduler = createScheduler({
    config,
    destination: chat,
    rules: () => pipeline.config(),
    clock,
    metrics,
    logger: logger.child({ component: 'delivery' }),
    store,
  });

  // At the edge of the pure decision: alert memory (read before, written after), then the ledger
  // (channels a record was already delivered to are left out).
  const remembering =
    store.alerts === undefined
      ? pipeline
      : withAlertMemory(pipeline, {
          memory: store.alerts,
          config: () => pipeline.config(),
          metrics,
          logger: logger.child({ component: 'alerts' }),
        });
  // Then mutes (a muted message is left out before the ledger is asked about it).
  // The watch starts last (just before the service): its timer would keep a process whose start
  // failed alive (the CLI's exit code waits for the event loop to drain).
  let muteWatch: MuteWatch | undefined;
  const unmuted = withMutes(remembering, { mutes: () => muteWatch?.current() ?? [], clock });
  const ledgerFilter =
    store.ledger === undefined
      ? undefined
      : withDeliveryLedger(unmuted, {
          ledger: store.ledger,
          metrics,
          logger: logger.child({ component: 'ledger' }),
        });
  const processing = ledgerFilter ?? unmuted;

  const kafka = createKafkaClient({
    brokers: config.source.brokers,
    clientId: config.source.clientId,
    logger,
    security: connections.kafka,
    ...(options.kafka?.logLevel === undefined ? {} : { logLevel: options.kafka.logLevel }),
  });
  if (connections.kafka.ssl !== undefined) await checkBrokerTls(config.source.brokers, connections.kafka.ssl);
  const kafkaSource = createKafkaSource({
    kafka,
    groupId: config.source.groupId,
    topics: config.source.topics,
    clock,
    logger,
    maxBytes: config.source.fetch.maxBytes,
    maxBytesPerPartition: config.source.fetch.maxBytesPerPartition,
    maxWaitTimeInMs: config.source.fetch.maxWaitTimeMs,
    partitionsConsumedConcurrently: config.source.fetch.partitionsConsumedConcurrently,
    poison: config.source.poison,
    ...(options.kafka?.fromBeginning === undefined ? {} : { fromBeginning: options.kafka.fromBeginning }),
    ...(options.kafka?.partitionsConsumedConcurrently === undefined
      ? {}
      : { partitionsConsumedConcurrently: options.kafka.partitionsConsumedConcurrently }),
    sessionTimeoutMs: options.kafka?.sessionTimeoutMs ?? config.source.sessionTimeoutMs,
  });
  const source =
    ledgerFilter === undefined
      ? kafkaSource
      : watchAssignments(kafkaSource, () => ledgerFilter.forgetReach());
  const kafkaDeadLetter = createKafkaDeadLetter({
    kafka,
    topic: config.source.deadLetterTopic,
    clock,
    logger,
    metrics,
  });
  const deadLetter = guardDeadLetter(kafkaDeadLetter, {
    clock,
    metrics,
    logger: logger.child({ component: 'dead-letter' }),
    topicFor: kafkaDeadLetter.topicFor,
    ...(options.deadLetterBlockAfter === undefined ? {} : { blockAfter: options.deadLetterBlockAfter }),
    ...(options.deadLetterBlockAfterMs === undefined ? {} : { blockAfterMs: options.deadLetterBlockAfterMs }),
  });
  const kafkaContact = watchKafkaContact(source.consumer, { clock, onContact: metrics.kafkaContact });

  const mutes = await watchMutes({
    store: store.mutes,
    clock,
    logger: logger.child({ component: 'mutes' }),
    metrics,
  });
  muteWatch = mutes;
  // POST /slack/interactivity only with a signing secret (without one the menus are not drawn either:
  // src/pipeline/menus.ts interactive).
  const signingSecret = connections.slack.signingSecret;
  const interactivity =
    signingSecret === undefined
      ? undefined
      : createInteractivity({
          secret: signingSecret,
          clock,
          mutes: store.mutes,
          chat,
          config: () => pipeline.config(),
          metrics,
          logger: logger.child({ component: 'interactivity' }),
          onMuted: () => void mutes.refresh(),
        });
  const started = startService({
    source,
    // Outermost: a record known to kill the process is dead-lettered before anything reads it.
    pipeline: withQuarantine(processing, (record) => source.quarantined(record)),
    deliverer: scheduler,
    deadLetter,
    clock,
    logger,
    metrics,
    metricsText: registry,
    limits: {
      maxInFlightRecords: delivery.maxInFlightRecords,
      maxInFlightBytes: delivery.maxInFlightBytes,
      maxFoldedRecords: delivery.flood.maxFoldedRecords,
    },
    maxQueuedPerChannel: delivery.maxQueuedPerChannel,
    retry: delivery.retry,
    shutdownDeadlineMs: delivery.shutdownDeadlineMs,
    http: {
      host: options.http?.host ?? config.http.host,
      port: options.http?.port ?? config.http.port,
      ...(interactivity === undefined ? {} : { interactivity: interactivity.handle }),
    },
    ...(options.stallAfterMs === undefined ? {} : { stallAfterMs: options.stallAfterMs }),
    closers: [
      // Clicks already acknowledged are acted on before the store closes.
      async () => interactivity?.idle(),
      async () => watcher?.stop(),
      async () => mutes.stop(),
      async () => scheduler.close(),
      () => kafkaDeadLetter.disconnect(),
      store.close,
    ],
    storeStatus: store.status,
    deadLetterBlocks: deadLetter.blocked,
    kafkaContact: kafkaContact.contact,
    ...(options.kafkaSilentAfterMs === undefined ? {} : { kafkaSilentAfterMs: options.kafkaSilentAfterMs }),
    ...(lastValues === undefined ? {} : { afterWork: lastValues.track, runValues: lastValues }),
  });
  return started.catch((error: unknown) => {
    mutes.stop();
    throw error;
  });
}

interface OpenedStore {
  alerts?: AlertMemory;
  pace?: PaceGate;
  ledger?: DeliveryLedger;
  anchors?: ThreadAnchors;
  lastValues?: LastValuesStore;
  /** Always: in Redis with the shared store (every replica, the `mute` command), else in process. */
  mutes: MuteStore;
  status(): StoreStatus;
  close(): Promise<void>;
}

/**
 * The shared store (config `store`): Redis when `store.url` is set, with pace gates that fall back to a
 * local share while it cannot be reached; else the embedded default (pace and ledger in this process).
 */
async function openStore(
  config: Config,
  password: string | undefined,
  clock: Clock,
  logger: Logger,
  metrics: Metrics,
): Promise<OpenedStore> {
  const { store } = config;
  if (store.url === null) {
    const ledger = store.ledger.enabled
      ? createMemoryLedger({
          clock,
          retentionMs: store.ledger.retentionMs,
          maxBytes: store.ledger.maxMemoryBytes,
        })
      : undefined;
    const lastValues = store.lastValues.enabled
      ? createMemoryLastValues({ clock, ttlMs: store.lastValues.ttlMs, maxBytes: store.lastValues.maxBytes })
      : undefined;
    return {
      ...(ledger === undefined ? {} : { ledger }),
      ...(lastValues === undefined ? {} : { lastValues }),
      mutes: createMemoryMuteStore({ clock }),
      status: () => ({ kind: 'memory', connected: true, fallback: false }),
      close: async () => {},
    };
  }
  const { createRedisStore } = await import('./adapters/redis-store.ts');
  const redis = createRedisStore({
    url: store.url,
    keyPrefix: store.keyPrefix,
    ledgerRetentionMs: store.ledger.retentionMs,
    ...(password === undefined ? {} : { password }),
    lastValuesTtlMs: store.lastValues.ttlMs,
    logger: logger.child({ component: 'store' }),
  });
  const pace = createFallbackPaceGate({
    shared: redis.pace,
    clock,
    replicas: store.expectedReplicas,
    logger: logger.child({ component: 'pace' }),
    metrics,
  });
  return {
    pace,
    anchors: redis.anchors,
    ...(store.alertMemory ? { alerts: redis.alerts } : {}),
    ...(store.ledger.enabled ? { ledger: redis.ledger } : {}),
    ...(store.lastValues.enabled ? { lastValues: redis.lastValues } : {}),
    mutes: redis.mutes,
    status: () => ({ kind: 'redis', connected: redis.connected(), fallback: pace.inFallback() }),
    close: () => redis.close(),
  };
}

/**
 * SIGTERM/SIGINT -> graceful stop. A second signal while stopping exits at once (code 130/143), for a
 * person at a terminal who does not want to wait for the deadline. Returns a function removing them.
 */
export function installSignalHandlers(
  service: Service,
  logger: Logger,
  exit: (code: number) => void = (code) => process.exit(code),
): () => void {
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) {
      logger.warn({ signal }, 'second signal: exiting without waiting');
      exit(signal === 'SIGINT' ? 130 : 143);
      return;
    }
    signalled = true;
    void service.stop(signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
}
