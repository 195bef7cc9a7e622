/**
 * What the Kafka-reading commands (`dlq`, `explain`, `store warm`) share: the config loaded with the
 * env overrides and the secured connections it names (a value the command hands to whatever connects:
 * the topic reader, the schema registry, the store), a logger on stderr (stdout is the command's
 * data), a topic reader, times given as an ISO date-time or a duration ago, and Ctrl-C/SIGTERM turned
 * into an AbortSignal.
 */
import { createLogger } from '../adapters/logger.ts';
import type { RedisStore } from '../adapters/redis-store.ts';
import { applyEnvOverrides } from '../app/env.ts';
import { parseDateTime, parseDuration } from '../app/replay.ts';
import { type Connections, resolveConnections } from '../config/connections.ts';
import { type Config, loadConfig } from '../config/index.ts';
import { isNotifierError } from '../domain/errors.ts';
import { type Clock, type Logger, noopLogger, type TopicReader } from '../ports/index.ts';
import type { CliIo } from './io.ts';

/** The config with env overrides and its secured connections' secrets read, or the exit-2 message. */
export async function loadCommandConfig(
  file: string,
  env: NodeJS.ProcessEnv,
): Promise<{ config: Config; connections: Connections } | { error: string }> {
  try {
    const config = applyEnvOverrides(await loadConfig(file), env);
    return { config, connections: await resolveConnections(config, env) };
  } catch (error) {
    return { error: isNotifierError(error) ? error.message : String(error) };
  }
}

/**
 * With LOG_LEVEL set, pino JSON lines on stderr. Without it, a person at a terminal: kafkajs's retry
 * lines (one JSON line with a stack per attempt while a broker is unreachable) become one plain line,
 * "waiting for Kafka: <why>", the command's own warnings (a Slack retry during a redrive) plain lines
 * without repeats, and the command's one-line failure says the rest.
 */
export function commandLogger(env: NodeJS.ProcessEnv, io: CliIo): Logger {
  if (env.LOG_LEVEL !== undefined) return createLogger({ level: env.LOG_LEVEL, destination: process.stderr });
  let toldKafka = false;
  let last = '';
  const say = (msg: string | undefined): void => {
    const line = `listing-notifier: ${msg ?? 'warning'}`;
    if (line !== last) io.stderr(line);
    last = line;
  };
  const kafka: Logger = {
    debug: () => {},
    info: () => {},
    warn: () => {},
    error: (_fields, msg) => {
      if (toldKafka) return;
      toldKafka = true;
      say(`waiting for Kafka (retrying): ${msg ?? 'connection error'}`);
    },
    child: () => kafka,
  };
  const plain: Logger = {
    debug: () => {},
    info: () => {},
    warn: (_fields, msg) => say(msg),
    error: (_fields, msg) => say(msg),
    child: (bindings) => (bindings.component === 'kafkajs' ? kafka : plain),
  };
  return plain;
}

/** A reader on the config's brokers; kafkajs is imported only when a command gets this far. */
export async function openReader(
  config: Config,
  connections: Connections,
  logger: Logger,
  clientSuffix: string,
): Promise<TopicReader> {
  const { createKafkaClient } = await import('../adapters/kafka-client.ts');
  const { createTopicReader } = await import('../adapters/kafka-range-reader.ts');
  const clientId = `${config.source.clientId}-${clientSuffix}`;
  const kafka = createKafkaClient({
    brokers: config.source.brokers,
    clientId,
    logger,
    security: connections.kafka,
  });
  return createTopicReader({ kafka, clientId, logger });
}

/** `2025-01-31T09:00:00Z` (with a zone) or a duration ago (`2h`, `1d12h`); null when neither. */
export function parseWhen(text: string, nowMs: number): number | null {
  const at = parseDateTime(text);
  if (at !== null) return at;
  const ago = parseDuration(text);
  return ago === null ? null : nowMs - ago;
}

export const whenHelp =
  'an ISO 8601 date-time with a zone (2025-01-31T09:00:00Z) or a duration ago (2h, 1d12h)';

/** An AbortSignal fired by SIGINT/SIGTERM, and the function removing the handlers. */
export function interruptSignal(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => controller.abort(new Error(`interrupted (${signal})`));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** The message for a failure talking to Kafka (exit 1). */
export function kafkaFailure(io: CliIo, command: string, error: unknown): number {
  io.stderr(
    `listing-notifier ${command}: Kafka error: ${error instanceof Error ? error.message : String(error)}`,
  );
  return 1;
}

/**
 * The common start of a data command (dlq, explain): the environment and clock, its arguments parsed
 * (exit 2 with the usage on a bad one), and its rules file loaded with the secured connections it
 * names (exit 2 naming the problem).
 */
export async function startCommand<A extends { config: string }>(
  argv: string[],
  io: CliIo,
  deps: { env?: NodeJS.ProcessEnv; clock?: Clock },
  usage: string,
  parse: (argv: string[], nowMs: number) => A | { error: string },
): Promise<
  | { args: A; config: Config; connections: Connections; env: NodeJS.ProcessEnv; clock: Clock }
  | { exit: number }
> {
  const env = deps.env ?? process.env;
  const clock = deps.clock ?? (await import('../adapters/system-clock.ts')).systemClock;
  const args = parse(argv, clock.now());
  if ('error' in args) {
    io.stderr(`${args.error}\n${usage}`);
    return { exit: 2 };
  }
  const loaded = await loadCommandConfig(args.config, env);
  if ('error' in loaded) {
    io.stderr(loaded.error);
    return { exit: 2 };
  }
  return { args, config: loaded.config, connections: loaded.connections, env, clock };
}

/** Longest wait for Redis to accept commands (the store adapter queues none before it is ready). */
const STORE_CONNECT_MS = 5000;

/**
 * The shared store at `url` (config store.url) for a command: the service's own adapter, with a
 * command's patience (5 s per command, 5 s to connect); refuses in one line when Redis does not answer.
 */
export async function openCommandStore(
  config: Config,
  connections: Connections,
  url: string,
): Promise<RedisStore> {
  const { createRedisStore } = await import('../adapters/redis-store.ts');
  const { password } = connections.store;
  const store = createRedisStore({
    url,
    keyPrefix: config.store.keyPrefix,
    ledgerRetentionMs: config.store.ledger.retentionMs,
    lastValuesTtlMs: config.store.lastValues.ttlMs,
    commandTimeoutMs: 5000,
    ...(password === undefined ? {} : { password }),
    logger: noopLogger,
  });
  if (!(await store.whenReady(STORE_CONNECT_MS))) {
    await store.close();
    throw new Error(`store.url: Redis did not accept a connection within ${STORE_CONNECT_MS} ms`);
  }
  return store;
}
