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
  CONFIG_INVALID: 'stop',
  SLACK_RATE_LIMITED: 'retry',
  SLACK_TRANSIENT: 'retry',
  SLACK_PERMANENT: 'dead-letter',
  SLACK_AUTH: 'stop',
  DEAD_LETTER_FAILED: 'retry',
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
