/**
 * Every failure the service can meet has a code, and the code alone decides what happens next.
 * The table below is the one place where "retry, dead-letter, degrade or stop" is decided, and which
 * exit code `run` ends with when the failure keeps it from starting (STYLE.md habit 1). Every catch
 * asks it (dispositionOf, exitCodeOf) instead of deciding for itself.
 *
 * - retry:       transient; the same work is tried again later (backoff), the offset is not committed.
 * - dead-letter: this record or message can never succeed; it goes to the dead-letter topic with the
 *                reason and its offset is committed.
 * - degrade:     the shared store did not answer; what it protects (the duplicate check, stock alert
 *                memory, last values, the shared pace) is lost for this call, never the record: the
 *                caller goes on without it (a metric and a log line say so).
 * - stop:        the service itself is misconfigured (bad token, bad config) or has a bug; stop with a
 *                clear message instead of dead-lettering everything.
 */

/** The CLI's exit codes, as `run --help` and the README list them. */
export const exitCodes = {
  stopped: 0,
  /** Stopped on an error while running, or could not start for a reason without a code of its own. */
  failed: 1,
  config: 2,
  kafkaAuth: 3,
  kafkaTls: 4,
  registry: 5,
} as const;

export type ExitCode = (typeof exitCodes)[keyof typeof exitCodes];
export type Disposition = 'retry' | 'dead-letter' | 'degrade' | 'stop';

interface Row {
  disposition: Disposition;
  /**
   * The exit code of `run` when this failure keeps the service from starting. A failure while it
   * runs always ends it with exitCodes.failed (the log line "stopping: ..." says which).
   */
  exitCode: ExitCode;
}

const { failed } = exitCodes;

export const errorTable = {
  DECODE_FAILED: { disposition: 'dead-letter', exitCode: failed },
  SCHEMA_NOT_FOUND: { disposition: 'dead-letter', exitCode: failed },
  REGISTRY_UNAVAILABLE: { disposition: 'retry', exitCode: exitCodes.registry },
  /** The registry refused the basic-auth credentials (HTTP 401/403): no record can be decoded. */
  REGISTRY_AUTH: { disposition: 'stop', exitCode: exitCodes.registry },
  NORMALIZE_FAILED: { disposition: 'dead-letter', exitCode: failed },
  RENDER_FAILED: { disposition: 'dead-letter', exitCode: failed },
  /**
   * Something unexpected failed while one record was processed (a bug its data met, in any stage from
   * decode to delivery's fold): that record is dead-lettered with the error, so that no record can
   * stop the service (issue 19). Only infrastructure faults and misconfiguration stop it.
   */
  PROCESSING_FAILED: { disposition: 'dead-letter', exitCode: failed },
  /**
   * The process died (OOM, a native crash, a bug that exits) source.poison.maxAttempts times on this
   * record, the last time while it was processed alone: it is dead-lettered without being decoded, so
   * a pod stops crash-looping by itself (src/delivery/quarantine.ts).
   */
  POISON_RECORD: { disposition: 'dead-letter', exitCode: failed },
  CONFIG_INVALID: { disposition: 'stop', exitCode: exitCodes.config },
  SLACK_RATE_LIMITED: { disposition: 'retry', exitCode: failed },
  SLACK_TRANSIENT: { disposition: 'retry', exitCode: failed },
  SLACK_PERMANENT: { disposition: 'dead-letter', exitCode: failed },
  SLACK_AUTH: { disposition: 'stop', exitCode: failed },
  DEAD_LETTER_FAILED: { disposition: 'retry', exitCode: failed },
  /** The broker refused a commit (rebalance in progress, coordinator moved, broker away): commit again later. */
  KAFKA_COMMIT_FAILED: { disposition: 'retry', exitCode: failed },
  /** The consumer crashed and kafkajs will not restart it (or could not start): the service stops. */
  KAFKA_CONSUMER_FAILED: { disposition: 'stop', exitCode: failed },
  /** Not a NotifierError at all: a bug in our own code, never mistaken for a bad record nor retried forever. */
  INTERNAL: { disposition: 'stop', exitCode: failed },
  /** Kafka refused the SASL credentials (wrong user or password, mechanism not enabled). */
  KAFKA_AUTH: { disposition: 'stop', exitCode: exitCodes.kafkaAuth },
  /** The TLS handshake with a broker failed (certificate not trusted, name mismatch, not a TLS listener). */
  KAFKA_TLS: { disposition: 'stop', exitCode: exitCodes.kafkaTls },
  /**
   * The shared store (Redis: src/ports/store.ts) did not answer, or answered with an error: the pace
   * gate falls back to a local share (src/delivery/pace-gate.ts), the ledger filter, alert memory and
   * last values go on without it (src/app/ledger-filter.ts, alert-memory.ts, last-values.ts).
   */
  STORE_UNAVAILABLE: { disposition: 'degrade', exitCode: failed },
} as const satisfies Record<string, Row>;

export type ErrorCode = keyof typeof errorTable;

/** The disposition column alone, by code. */
export const errorDispositions = Object.fromEntries(
  Object.entries(errorTable).map(([code, row]) => [code, row.disposition]),
) as { readonly [C in ErrorCode]: (typeof errorTable)[C]['disposition'] };

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
    this.disposition = errorTable[code].disposition;
    this.details = options.details ?? {};
    // Enumerable so pino and JSON.stringify show the whole error.
    Object.defineProperty(this, 'message', { enumerable: true, value: message });
  }
}

export const isNotifierError = (value: unknown): value is NotifierError => value instanceof NotifierError;

/**
 * The disposition of anything thrown: the one answer to "retry, dead-letter, degrade or stop" (STYLE.md
 * habit 1). A NotifierError carries its own; anything else is a bug in our code (adapters wrap every
 * failure of theirs in a code), and a bug stops the service with the error in the log, committing
 * nothing unfinished, so a restart re-reads the work. It is never dead-lettered (that would dead-letter
 * every record) nor retried forever. The stages one record passes (pipeline, fold) first make a bug of
 * theirs that record's PROCESSING_FAILED (asRecordFailure): one record cannot stop the service; the
 * edges that call the shared store make its failures STORE_UNAVAILABLE (degradeOrThrow).
 */
export const dispositionOf = (error: unknown): Disposition =>
  isNotifierError(error) ? error.disposition : errorTable.INTERNAL.disposition;

/** The exit code of `run` when `error` keeps the service from starting (the table's second column). */
export const exitCodeOf = (error: unknown): ExitCode => errorTable[codeOf(error)].exitCode;

/**
 * A failure of the shared store (src/ports/store.ts) as STORE_UNAVAILABLE, unless it carries a code of
 * its own. A store port has one way to fail, not answering (a refused connection, a timeout, a reply it
 * could not read), so anything uncoded it throws is that.
 */
export function asStoreFailure(error: unknown, store: string, op?: string): NotifierError {
  if (isNotifierError(error)) return error;
  const text = error instanceof Error ? error.message : String(error);
  const what = op === undefined ? store : `${store} ${op}`;
  return new NotifierError('STORE_UNAVAILABLE', `${what} failed: ${text}`, {
    cause: error,
    details: op === undefined ? { store } : { store, op },
  });
}

/**
 * For a catch around a call of the shared store: the failure (asStoreFailure) when the table says to go
 * on without the store ('degrade'); thrown otherwise.
 */
export function degradeOrThrow(error: unknown, store: string): NotifierError {
  const failure = asStoreFailure(error, store);
  if (dispositionOf(failure) !== 'degrade') throw failure;
  return failure;
}

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
