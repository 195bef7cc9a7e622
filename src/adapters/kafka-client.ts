/**
 * One kafkajs client for the consumer, the dead-letter producer and the admin, with kafkajs's own log
 * lines routed into our logger (kafkajs otherwise prints to the console in its own format).
 */
import { Kafka, type LogEntry, logLevel } from 'kafkajs';
import { type Logger, noopLogger } from '../ports/index.ts';
import { fixKafkajsIdleLoop } from './kafkajs-idle-loop.ts';

export interface KafkaClientOptions {
  brokers: string[];
  clientId: string;
  logger?: Logger;
  /** kafkajs's own verbosity; default WARN (its INFO is one line per join, pause and resume). */
  logLevel?: 'error' | 'warn' | 'info' | 'debug';
  /** Connection timeout in ms; kafkajs's default is 1000. */
  connectionTimeoutMs?: number;
}

const levels = { error: logLevel.ERROR, warn: logLevel.WARN, info: logLevel.INFO, debug: logLevel.DEBUG };

export function createKafkaClient(opts: KafkaClientOptions): Kafka {
  const logger = (opts.logger ?? noopLogger).child({ component: 'kafkajs' });
  if (!fixKafkajsIdleLoop())
    logger.warn({}, 'kafkajs internals changed: its idle 1 ms timer loop is not fixed');
  const logCreator =
    () =>
    ({ namespace, level, log }: LogEntry): void => {
      const { message, timestamp: _timestamp, logger: _name, ...fields } = log;
      const line = { namespace, ...fields };
      if (level === logLevel.ERROR) logger.error(line, message);
      else if (level === logLevel.WARN) logger.warn(line, message);
      else if (level === logLevel.INFO) logger.info(line, message);
      else logger.debug(line, message);
    };
  return new Kafka({
    clientId: opts.clientId,
    brokers: opts.brokers,
    logLevel: levels[opts.logLevel ?? 'warn'],
    logCreator,
    connectionTimeout: opts.connectionTimeoutMs ?? 3000,
    // Keep trying to reach a broker that restarts instead of giving up after kafkajs's 5 retries (~30 s).
    retry: { initialRetryTime: 300, maxRetryTime: 10_000, retries: 10 },
  });
}
