/**
 * One kafkajs client for the consumer, the dead-letter producer and the admin, with kafkajs's own log
 * lines routed into our logger (kafkajs otherwise prints to the console in its own format).
 *
 * Secured brokers (https://kafka.js.org/docs/configuration#ssl, #sasl): `ssl` is node:tls's connect
 * options (CA bundle, client certificate and key, servername; the certificate's name is checked
 * unless checkServerIdentity is replaced), `sasl` is PLAIN or SCRAM-SHA-256/512. Both come resolved
 * from src/config/connections.ts. kafkajs treats a TLS failure as a retriable connection error (one
 * minute of retries for a certificate that will never be trusted), so `checkBrokerTls` shakes hands
 * once before the consumer starts, and `kafkaStartError` gives SASL and TLS failures their codes.
 */
import { isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { Kafka, type LogEntry, logLevel, type SASLOptions } from 'kafkajs';
import { kafkaClientRetryPolicy, kafkajsRetry } from '../delivery/retry-policy.ts';
import { NotifierError } from '../domain/errors.ts';
import { type KafkaSecurity, type Logger, noopLogger } from '../ports/index.ts';
import { fixKafkajsIdleLoop } from './kafkajs-idle-loop.ts';

export interface KafkaClientOptions {
  brokers: string[];
  clientId: string;
  logger?: Logger;
  /** kafkajs's own verbosity; default WARN (its INFO is one line per join, pause and resume). */
  logLevel?: 'error' | 'warn' | 'info' | 'debug';
  /** Connection timeout in ms; default 3000 (kafkajs's own is 1000). */
  connectionTimeoutMs?: number;
  /** TLS and SASL (src/config/connections.ts). Default: plaintext, no authentication. */
  security?: KafkaSecurity;
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
    ...(opts.security?.ssl === undefined ? {} : { ssl: opts.security.ssl }),
    ...(opts.security?.sasl === undefined ? {} : { sasl: opts.security.sasl as SASLOptions }),
    // Keep trying to reach a broker that restarts instead of giving up after kafkajs's 5 retries (~30 s).
    retry: kafkajsRetry(kafkaClientRetryPolicy),
  });
}

/** Socket errors that mean "not reachable (yet)": kafkajs waits and retries those itself. */
const unreachable = new Set([
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * One TLS handshake with the first broker that answers, with the options kafkajs will use (its socket
 * factory passes `servername: host` and then `ssl`). Resolves when a handshake succeeds or when no
 * broker is reachable (kafkajs waits for those); throws KAFKA_TLS when a reachable broker fails the
 * handshake: its certificate is not trusted by the CA bundle, does not carry the broker's name, has
 * expired, or the port does not speak TLS.
 */
export async function checkBrokerTls(
  brokers: readonly string[],
  ssl: NonNullable<KafkaSecurity['ssl']>,
  timeoutMs = 3000,
): Promise<void> {
  for (const broker of brokers) {
    const separator = broker.lastIndexOf(':');
    const host = broker.slice(0, separator);
    const port = Number(broker.slice(separator + 1));
    const outcome = await new Promise<'ok' | 'unreachable' | Error>((resolve) => {
      let connected = false;
      const socket = tlsConnect({
        host,
        port,
        // An IP address is not a valid SNI name (RFC 6066); node checks the IP SANs without it.
        ...(isIP(host) === 0 ? { servername: host } : {}),
        ...ssl,
      });
      const timer = setTimeout(() => {
        socket.destroy();
        resolve(connected ? new Error(`no TLS handshake within ${timeoutMs} ms`) : 'unreachable');
      }, timeoutMs);
      socket.once('connect', () => {
        connected = true;
      });
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        socket.end();
        resolve('ok');
      });
      socket.once('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        socket.destroy();
        resolve(!connected && unreachable.has(error.code ?? '') ? 'unreachable' : error);
      });
    });
    if (outcome === 'ok') return;
    if (outcome !== 'unreachable') throw tlsError(broker, outcome);
  }
}

function tlsError(broker: string, error: NodeJS.ErrnoException): NotifierError {
  const reason =
    error.code === 'ECONNRESET'
      ? 'the broker closed the connection during the TLS handshake (is this a TLS listener?)'
      : error.message;
  return new NotifierError('KAFKA_TLS', `TLS handshake with Kafka broker ${broker} failed: ${reason}`, {
    cause: error,
    details: { broker, tlsCode: error.code },
  });
}

/** node:tls's certificate verification failures (the handshake itself failed: ERR_SSL_*, ERR_TLS_*). */
const tlsCodes = /^(ERR_SSL_|ERR_TLS_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH)/;

/**
 * A kafkajs error from connecting, as a coded error when it has one of ours: SASL refusals are
 * KAFKA_AUTH (kafkajs does not retry them), TLS failures KAFKA_TLS (after kafkajs's retries: a client
 * certificate refused under TLS 1.3 shows only after the handshake checkBrokerTls sees succeed).
 * Anything else is returned as is.
 */
export function kafkaStartError(error: unknown): unknown {
  if (typeof error !== 'object' || error === null) return error;
  const e = error as { name?: string; message?: string; type?: string };
  if (e.name === 'KafkaJSSASLAuthenticationError' || e.type === 'UNSUPPORTED_SASL_MECHANISM') {
    return new NotifierError('KAFKA_AUTH', `Kafka refused the SASL credentials: ${e.message ?? ''}`, {
      cause: error,
    });
  }
  // kafkajs keeps the socket error's code on KafkaJSConnectionError, wrapped in originalError after retries.
  for (let inner: unknown = error, depth = 0; inner && depth < 4; depth += 1) {
    const { code, broker, message, originalError } = inner as {
      code?: unknown;
      broker?: unknown;
      message?: unknown;
      originalError?: unknown;
    };
    if (typeof code === 'string' && tlsCodes.test(code)) {
      return new NotifierError(
        'KAFKA_TLS',
        `TLS with Kafka broker ${String(broker ?? '?')} failed: ${String(message ?? code)}`,
        { cause: error, details: { broker, tlsCode: code } },
      );
    }
    inner = originalError;
  }
  return error;
}
