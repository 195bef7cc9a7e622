/**
 * Slack's request signing, both ways: verifying that a request to the interactivity endpoint came
 * from Slack, and signing one as Slack does (for the stand-in and tests).
 *
 * Slack sends X-Slack-Request-Timestamp (Unix seconds) and X-Slack-Signature = "v0=" + the hex
 * HMAC-SHA256, keyed with the app's signing secret, of `v0:{timestamp}:{raw body}`; a request whose
 * timestamp is more than five minutes from now is refused, so a captured request cannot be replayed
 * later. https://docs.slack.dev/authentication/verifying-requests-from-slack
 *
 * Lives in adapters beside slack-chat.ts: it is Slack's wire protocol, and its one caller will be
 * the HTTP endpoint (an inbound adapter). No I/O; time comes in through the clock.
 *
 * The answer is a verdict, never a throw: a hostile request is an expected input, and the caller
 * counts each refusal by its kind. Nothing here logs, and no verdict carries the secret or the
 * expected signature.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../ports/index.ts';

/** ok: signed with the secret, in time. forged: a well-formed signature that does not match.
 * stale: the timestamp is more than the tolerance from now (either way). malformed: a header
 * missing, repeated or not in Slack's shape. */
export type SlackSignatureVerdict = 'ok' | 'forged' | 'stale' | 'malformed';

export const slackSignatureHeader = 'x-slack-signature';
export const slackTimestampHeader = 'x-slack-request-timestamp';

/** Slack's own window: five minutes either side of now. */
export const slackSignatureToleranceMs = 5 * 60 * 1000;

/** Request headers as node:http gives them (lower-cased names; a repeated header is an array). */
export type RequestHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface VerifySlackRequestOptions {
  /** The app's signing secret (Basic Information, App Credentials). */
  secret: string;
  headers: RequestHeaders;
  /** The body exactly as received, before any parsing: the signature covers these bytes. */
  body: string | Buffer;
  clock: Pick<Clock, 'now'>;
  /** Default slackSignatureToleranceMs (5 minutes). */
  toleranceMs?: number;
}

const signaturePattern = /^v0=[0-9a-f]{64}$/;
// Unix seconds: digits only (no sign, no fraction, no exponent), at most 12 of them.
const timestampPattern = /^[0-9]{1,12}$/;

/** The X-Slack-Signature value for this request: "v0=" + hex HMAC-SHA256 of `v0:{timestamp}:{body}`. */
export function signSlackRequest(secret: string, timestamp: number | string, body: string | Buffer): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:`).update(body).digest('hex')}`;
}

/** The two headers Slack would send with `body` at `nowMs` (the stand-in's outgoing requests). */
export function slackSignatureHeaders(
  secret: string,
  nowMs: number,
  body: string | Buffer,
): Record<typeof slackSignatureHeader | typeof slackTimestampHeader, string> {
  const timestamp = String(Math.floor(nowMs / 1000));
  return {
    [slackTimestampHeader]: timestamp,
    [slackSignatureHeader]: signSlackRequest(secret, timestamp, body),
  };
}

const single = (headers: RequestHeaders, name: string): string | undefined => {
  const value = headers[name];
  return typeof value === 'string' ? value : undefined;
};

export function verifySlackRequest(opts: VerifySlackRequestOptions): SlackSignatureVerdict {
  const signature = single(opts.headers, slackSignatureHeader);
  const timestamp = single(opts.headers, slackTimestampHeader);
  if (signature === undefined || timestamp === undefined) return 'malformed';
  if (!signaturePattern.test(signature) || !timestampPattern.test(timestamp)) return 'malformed';
  const skewMs = Math.abs(opts.clock.now() - Number(timestamp) * 1000);
  if (skewMs > (opts.toleranceMs ?? slackSignatureToleranceMs)) return 'stale';
  // No secret verifies nothing (the config refuses an empty one; this is the floor under it).
  if (opts.secret === '') return 'forged';
  const expected = Buffer.from(signSlackRequest(opts.secret, timestamp, opts.body), 'utf8');
  const given = Buffer.from(signature, 'utf8');
  // Both are "v0=" + 64 hex digits by now, so the lengths agree and timingSafeEqual cannot throw.
  return given.length === expected.length && timingSafeEqual(given, expected) ? 'ok' : 'forged';
}
