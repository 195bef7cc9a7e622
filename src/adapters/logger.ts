/**
 * pino JSON logs with secrets removed before a line is written.
 *
 * Redaction is by key at any depth (pino's own `redact` paths can only name fixed depths), in the
 * logged object, child bindings and serialized errors: any key containing token, authorization,
 * secret, password, passwd, cookie or api key. Values that look like Slack tokens (xoxb-..., xapp-...)
 * are masked wherever they appear in the finished line, including messages and error texts, and so
 * are PEM private keys and the exact values of the secrets the logger is given (the Kafka and
 * registry passwords and the TLS key read at startup), whatever key or message carries them.
 * The password part of a URL's userinfo (RFC 3986 section 3.2.1: `scheme://user:password@host`, any
 * scheme: redis, rediss, postgres, amqp, https...) is masked wherever a URL appears, so a store.url or
 * a connection string in an error text never carries its password into a line.
 */
import pino from 'pino';
import type { Logger } from '../ports/index.ts';

export const redactedValue = '[Redacted]';

const secretKey = /token|authori[sz]ation|secret|passw(or)?d|cookie|api[-_]?key|credential/i;
// Slack token shapes: xoxb- (bot), xoxp- (user), xoxa-/xoxr-/xoxe- (app, refresh...), xapp- (app-level).
const slackTokenPattern = /\b(?:xox[a-z]|xapp)-[A-Za-z0-9-]+/g;
const privateKeyPattern = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g;
// scheme "://" user ":" password "@": the password is everything up to the last "@" before the host
// (a password may hold "@" or ":" when not percent-encoded, as ioredis and pg accept it); no whitespace,
// "/" or quote, so the match never runs past the URL into the rest of a line.
const urlPasswordPattern = /\b([A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s/:@"'<>]*:)[^\s/"'<>]*@/g;
const maxDepth = 12;
/** Shorter known secrets are not masked by value (they would blank out ordinary words). */
export const minSecretLength = 4;

export const redactString = (value: string): string =>
  value
    .replace(slackTokenPattern, redactedValue)
    .replace(privateKeyPattern, redactedValue)
    .replace(urlPasswordPattern, `$1${redactedValue}@`);

/** redactString, plus the exact values of `secrets`, also in their JSON-escaped form (finished lines). */
export function secretMasker(secrets: readonly string[]): (value: string) => string {
  const forms = [
    ...new Set(
      secrets
        .filter((secret) => secret.length >= minSecretLength)
        .flatMap((secret) => [secret, JSON.stringify(secret).slice(1, -1)]),
    ),
  ].sort((a, b) => b.length - a.length);
  return (value) => {
    let out = redactString(value);
    for (const form of forms) out = out.replaceAll(form, redactedValue);
    return out;
  };
}

/** A copy of `value` with secret keys and token-like strings masked. Errors become plain objects. */
export function redactDeep(
  value: unknown,
  depth = 0,
  seen = new WeakSet<object>(),
  mask: (value: string) => string = redactString,
): unknown {
  if (typeof value === 'string') return mask(value);
  if (typeof value !== 'object' || value === null) return value;
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return value;
  if (seen.has(value)) return '[Circular]';
  if (depth >= maxDepth) return '[Too deep]';
  seen.add(value);
  const source = value instanceof Error ? (pino.stdSerializers.err(value) as unknown as object) : value;
  if (Array.isArray(source)) return source.map((item) => redactDeep(item, depth + 1, seen, mask));
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(source)) {
    out[key] = secretKey.test(key) ? redactedValue : redactDeep(inner, depth + 1, seen, mask);
  }
  return out;
}

export interface LoggerOptions {
  /** pino level: trace, debug, info (default), warn, error, fatal, silent. */
  level?: string;
  /** Where lines go; default stdout. Tests pass a stream to read them back. */
  destination?: pino.DestinationStream;
  /** Secret values (passwords, keys) masked wherever they appear; default none. */
  secrets?: readonly string[];
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const mask = secretMasker(opts.secrets ?? []);
  return pino(
    {
      level: opts.level ?? 'info',
      base: { service: 'listing-notifier' },
      formatters: {
        level: (label) => ({ level: label }),
        bindings: (bindings) => redactDeep(bindings, 0, undefined, mask) as Record<string, unknown>,
        log: (object) => redactDeep(object, 0, undefined, mask) as Record<string, unknown>,
      },
      hooks: {
        // Last pass over the finished line: the message (also when pino takes it from an error) and
        // anything the formatters did not see can carry a token too.
        streamWrite: mask,
      },
    },
    // Synchronous writes: the line explaining a crash must not be lost in a buffer.
    opts.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}
