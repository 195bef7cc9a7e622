/**
 * Every failure the service can meet has a code, and the code alone decides what happens next.
 * This table is the one place where "retry, dead-letter or stop" is decided (STYLE.md habit 1).
 *
 * - retry:       transient; the same work is tried again later (backoff), the offset is not committed.
 * - dead-letter: this record or message can never succeed; it goes to the dead-letter topic with the
 *                reason and its offset is committed.
 * - stop:        the service itself is misconfigured (bad token, bad config); stop with a clear message
 *                instead of dead-lettering everything.
 */
export const errorDispositions = {
  DECODE_FAILED: 'dead-letter',
  SCHEMA_NOT_FOUND: 'dead-letter',
  REGISTRY_UNAVAILABLE: 'retry',
  /** The registry refused the basic-auth credentials (HTTP 401/403): no record can be decoded. */
  REGISTRY_AUTH: 'stop',
  NORMALIZE_FAILED: 'dead-letter',
  RENDER_FAILED: 'dead-letter',
  /**
   * Something unexpected failed while one record was processed (a bug its data met, in any stage from
   * decode to delivery's fold): that record is dead-lettered with the error, so that no record can
   * stop the service (issue 19). Only infrastructure faults and misconfiguration stop it.
   */
  PROCESSING_FAILED: 'dead-letter',
  /**
   * The process died (OOM, a native crash, a bug that exits) source.poison.maxAttempts times on this
   * record, the last time while it was processed alone: it is dead-lettered without being decoded, so
   * a pod stops crash-looping by itself (src/delivery/quarantine.ts).
   */
  POISON_RECORD: 'dead-letter',
  CONFIG_INVALID: 'stop',
  SLACK_RATE_LIMITED: 'retry',
  SLACK_TRANSIENT: 'retry',
  SLACK_PERMANENT: 'dead-letter',
  SLACK_AUTH: 'stop',
  DEAD_LETTER_FAILED: 'retry',
  /** The broker refused a commit (rebalance in progress, coordinator moved, broker away): commit again later. */
  KAFKA_COMMIT_FAILED: 'retry',
  /** The consumer crashed and kafkajs will not restart it (or could not start): the service stops. */
  KAFKA_CONSUMER_FAILED: 'stop',
  /** Not a NotifierError at all: a bug in our own code, never mistaken for a bad record nor retried forever. */
  INTERNAL: 'stop',
  /** Kafka refused the SASL credentials (wrong user or password, mechanism not enabled). */
  KAFKA_AUTH: 'stop',
  /** The TLS handshake with a broker failed (certificate not trusted, name mismatch, not a TLS listener). */
  KAFKA_TLS: 'stop',
} as const;

export type ErrorCode = keyof typeof errorDispositions;
export type Disposition = (typeof errorDispositions)[ErrorCode];

export interface NotifierErrorOptions {
  cause?: unknown;
  /** Extra facts for logs and dead-letter headers (never secrets). */
  details?: Record<string, unknown>;
}

export class NotifierError extends Error {
  readonly code: ErrorCode;
  readonly disposition: Disposition;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: NotifierErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'NotifierError';
    this.code = code;
    this.disposition = errorDispositions[code];
    this.details = options.details ?? {};
    // Enumerable so pino and JSON.stringify show the whole error.
    Object.defineProperty(this, 'message', { enumerable: true, value: message });
  }
}

export const isNotifierError = (value: unknown): value is NotifierError => value instanceof NotifierError;

/**
 * The disposition of anything thrown: the one answer to "retry, dead-letter or stop" (STYLE.md habit 1).
 * A NotifierError carries its own; anything else is a bug in our code (adapters wrap every failure of
 * theirs in a code), and a bug stops the service with the error in the log, committing nothing
 * unfinished, so a restart re-reads the work. It is never dead-lettered (that would dead-letter every
 * record) nor retried forever. The stages one record passes (pipeline, fold) first make a bug of theirs
 * that record's PROCESSING_FAILED (asRecordFailure): one record cannot stop the service.
 */
export const dispositionOf = (error: unknown): Disposition =>
  isNotifierError(error) ? error.disposition : errorDispositions.INTERNAL;

/** Longest error text a PROCESSING_FAILED message quotes (dead-letter headers, logs). */
const MAX_QUOTED = 500;

/**
 * What a per-record stage makes of anything thrown while it handled one record: a NotifierError as it
 * is (its code decides), anything else (a bug this record's data met: a RangeError, a TypeError) a
 * PROCESSING_FAILED naming the stage, which dead-letters the record instead of stopping the service.
 */
export function asRecordFailure(error: unknown, stage: string): NotifierError {
  if (isNotifierError(error)) return error;
  const name = error instanceof Error ? error.name : typeof error;
  const text = error instanceof Error ? error.message : String(error);
  const message = `${stage} failed unexpectedly: ${name}: ${text.length > MAX_QUOTED ? `${text.slice(0, MAX_QUOTED)}…` : text}`;
  return new NotifierError('PROCESSING_FAILED', message, { cause: error, details: { stage, name } });
}

/** The error's code, INTERNAL for anything that is not a NotifierError. */
export const codeOf = (error: unknown): ErrorCode => (isNotifierError(error) ? error.code : 'INTERNAL');

/** A short, secret-free description for logs and exit messages. */
export const describeError = (error: unknown): Record<string, unknown> => {
  if (isNotifierError(error)) {
    return {
      code: error.code,
      disposition: error.disposition,
      message: error.message,
      details: error.details,
    };
  }
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack };
  return { message: String(error) };
};

/**
 * A bounded label for metrics and logs: the chat service's own error name (details.slackError, e.g.
 * 'channel_not_found'), else the failure class (details.failure: 'http_503', 'timeout', 'network'),
 * else the code in lower case.
 */
export function failureLabel(error: NotifierError): string {
  const { slackError, failure } = error.details;
  if (typeof slackError === 'string') return slackError;
  if (typeof failure === 'string') return failure;
  return error.code.toLowerCase();
}
