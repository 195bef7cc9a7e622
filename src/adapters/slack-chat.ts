/**
 * The real ChatDestination: Slack's chat.postMessage through @slack/web-api.
 *
 * The client's own retry loop is off (`retryConfig`: slackClientRetryConfig, { retries: 0 }; its default of ten retries over
 * about thirty minutes would hold one call far past Kafka's session timeout) and 429s are rejected, not
 * waited on (`rejectRateLimitedCalls: true`; otherwise the client pauses its whole queue). Pacing and
 * retries belong to src/delivery/scheduler.ts; this module only makes one call and says, as a
 * NotifierError code, what went wrong. The disposition table in src/domain/errors.ts decides the rest.
 *
 * Slack: https://docs.slack.dev/reference/methods/chat.postMessage (errors),
 *        https://docs.slack.dev/apis/web-api/rate-limits (429 + Retry-After in seconds).
 */
import {
  ErrorCode,
  LogLevel,
  type Logger as SlackClientLogger,
  WebClient,
  type WebClientOptions,
} from '@slack/web-api';
import { slackClientRetryConfig } from '../delivery/retry-policy.ts';
import { isNotifierError, NotifierError } from '../domain/errors.ts';
import type { SlackPayload } from '../domain/message.ts';
import {
  type ChatDestination,
  type ChatFile,
  type Logger,
  noopLogger,
  type PostOptions,
} from '../ports/index.ts';

/** Errors that mean the token itself is unusable: stop the service rather than dead-letter everything. */
export const slackAuthErrors: ReadonlySet<string> = new Set([
  'not_authed',
  'invalid_auth',
  'token_revoked',
  'token_expired',
  'account_inactive',
  'missing_scope',
  'no_permission',
  'not_allowed_token_type',
]);

/** ok:false answers that are Slack's own trouble, not the message's: retry. */
export const slackTransientErrors: ReadonlySet<string> = new Set([
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
]);

/** Retry-After of a 429 that carried none (Slack always sends one; a proxy might not). */
const defaultRetryAfterMs = 1000;

export const slackRateLimited = (retryAfterMs: number, cause?: unknown): NotifierError =>
  new NotifierError('SLACK_RATE_LIMITED', `Slack rate limited the call; retry after ${retryAfterMs} ms`, {
    cause,
    details: { retryAfterMs, slackError: 'ratelimited' },
  });

/** `failure` labels the failure class for metrics and logs: http_503, timeout, network, or a Slack error. */
export const slackTransient = (failure: string, message: string, cause?: unknown): NotifierError =>
  new NotifierError('SLACK_TRANSIENT', message, { cause, details: { failure } });

export const slackPermanent = (
  slackError: string,
  slackMessages?: string[],
  cause?: unknown,
): NotifierError =>
  new NotifierError('SLACK_PERMANENT', `Slack rejected the message: ${slackError}`, {
    cause,
    details: slackMessages === undefined ? { slackError } : { slackError, slackMessages },
  });

export const slackAuth = (slackError: string, cause?: unknown): NotifierError =>
  new NotifierError(
    'SLACK_AUTH',
    `Slack rejected the bot token (${slackError}): check the token and its chat:write scope`,
    { cause, details: { slackError } },
  );

const hasCode = (error: unknown, code: string): error is Record<string, unknown> =>
  typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;

/** Maps whatever @slack/web-api threw to a NotifierError with a SLACK_* code. Pure. */
export function classifySlackError(error: unknown): NotifierError {
  if (isNotifierError(error)) return error;
  if (hasCode(error, ErrorCode.RateLimitedError)) {
    const seconds = Number(error.retryAfter);
    return slackRateLimited(
      Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : defaultRetryAfterMs,
      error,
    );
  }
  if (hasCode(error, ErrorCode.PlatformError)) {
    const data = (error.data ?? {}) as { error?: unknown; response_metadata?: { messages?: unknown } };
    const slackError = typeof data.error === 'string' ? data.error : 'unknown_error';
    if (slackAuthErrors.has(slackError)) return slackAuth(slackError, error);
    if (slackError === 'ratelimited' || slackError === 'rate_limited') {
      return slackRateLimited(defaultRetryAfterMs, error);
    }
    if (slackTransientErrors.has(slackError)) {
      return slackTransient(slackError, `Slack failed the call: ${slackError}`, error);
    }
    const messages = data.response_metadata?.messages;
    return slackPermanent(
      slackError,
      Array.isArray(messages) ? messages.filter((m): m is string => typeof m === 'string') : undefined,
      error,
    );
  }
  if (hasCode(error, ErrorCode.HTTPError)) {
    // Slack answers 200 or 429; any other status comes from the infrastructure in between (load
    // balancer, proxy, wrong apiUrl). None of them says the message is bad, so none dead-letters it.
    const status = Number(error.statusCode);
    return slackTransient(`http_${status}`, `Slack answered HTTP ${status}`, error);
  }
  if (hasCode(error, ErrorCode.RequestError)) {
    const original = error.original as { name?: unknown } | undefined;
    const timedOut = original?.name === 'TimeoutError' || original?.name === 'AbortError';
    return timedOut
      ? slackTransient('timeout', 'Slack did not answer in time', error)
      : slackTransient('network', `Could not reach Slack: ${String(error.message)}`, error);
  }
  // p-retry rethrows the client's "429 without a valid Retry-After" as a plain Error.
  if (error instanceof Error && error.message.startsWith('Retry header did not contain a valid timeout')) {
    return slackRateLimited(defaultRetryAfterMs, error);
  }
  const message = error instanceof Error ? error.message : String(error);
  return slackTransient('unknown', `Slack call failed: ${message}`, error);
}

export interface SlackChatOptions {
  /** Bot token (xoxb-...). Never logged. */
  token: string;
  /** Default Slack's own, https://slack.com/api/ ; the stand-in is http://127.0.0.1:<port>/api/. */
  apiUrl?: string;
  /** Per-call timeout in ms; default 10 000. A hung call becomes SLACK_TRANSIENT 'timeout'. */
  timeoutMs?: number;
  /** Receives the client's own log lines at debug level (they never include the token). */
  logger?: Logger;
}

export interface SlackIdentity {
  team: string;
  user: string;
  teamId: string;
  userId: string;
  botId?: string;
  url: string;
}

export interface SlackChat extends ChatDestination {
  /** auth.test: for startup, to fail fast (SLACK_AUTH) on a bad token. Throws a classified NotifierError. */
  authTest(): Promise<SlackIdentity>;
}

/** The client's logger interface, forwarded to ours at debug (its warnings are ours to decide on). */
function clientLogger(logger: Logger): SlackClientLogger {
  const log = logger.child({ component: 'slack-web-api' });
  const line = (parts: unknown[]): string =>
    parts.map((p) => (typeof p === 'string' ? p : String(p))).join(' ');
  return {
    debug: (...parts) => log.debug({}, line(parts)),
    info: (...parts) => log.debug({}, line(parts)),
    warn: (...parts) => log.debug({ clientLevel: 'warn' }, line(parts)),
    error: (...parts) => log.debug({ clientLevel: 'error' }, line(parts)),
    setLevel: () => {},
    getLevel: () => LogLevel.DEBUG,
    setName: () => {},
  };
}

/** Retry-After in seconds (Slack's unit) -> ms, with the default when absent or unreadable. */
const retryAfterOf = (header: string | null): number => {
  const seconds = Number(header);
  return header !== null && Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : defaultRetryAfterMs;
};

/**
 * files.completeUploadExternal's channel_id must be an encoded id: Slack refuses a name with
 * invalid_arguments "input must match regex pattern: ^[CGDZ][A-Z0-9]{8,}$" (slackapi/bolt-js#2115)
 * and will not take names for uploads (slackapi/node-slack-sdk#1756), while chat.postMessage takes
 * "#name" and answers with the id.
 */
const channelIdPattern = /^[CGDZ][A-Z0-9]{8,}$/;

export function createSlackChat(opts: SlackChatOptions): SlackChat {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const clientOptions: WebClientOptions = {
    slackApiUrl: opts.apiUrl ?? 'https://slack.com/api/',
    retryConfig: slackClientRetryConfig,
    rejectRateLimitedCalls: true,
    timeout: timeoutMs,
    logger: clientLogger(opts.logger ?? noopLogger),
  };
  const client = new WebClient(opts.token, clientOptions);
  // "#name" -> "C0123ABCD", learned from chat.postMessage's answers (no channels:read scope needed).
  const channelIds = new Map<string, string>();
  const channelIdOf = (channel: string): string => {
    if (channelIdPattern.test(channel)) return channel;
    const id = channelIds.get(channel);
    if (id !== undefined) return id;
    throw slackPermanent('channel_not_found', [
      `files.completeUploadExternal takes a channel id, and the id of "${channel}" is not known yet ` +
        '(it is learned from a message posted there first): configure the channel by id (C0123ABCD)',
    ]);
  };
  return {
    async post(channel: string, payload: SlackPayload, options: PostOptions = {}) {
      try {
        const result = await client.chat.postMessage({
          channel,
          text: payload.text,
          blocks: payload.blocks,
          ...(options.threadTs === undefined ? {} : { thread_ts: options.threadTs }),
          // Notifications are complete on their own; link previews would only add noise.
          unfurl_links: false,
          unfurl_media: false,
        });
        if (typeof result.channel === 'string' && result.channel !== channel) {
          channelIds.set(channel, result.channel);
        }
        const ts = String(result.ts ?? '');
        return typeof result.channel === 'string' ? { ts, channel: result.channel } : { ts };
      } catch (error) {
        throw classifySlackError(error);
      }
    },
    canUpdate: () => true,
    async update(channel: string, ts: string, payload: SlackPayload) {
      try {
        // chat.update takes the id, never "#name": the one learned from a post when given a name.
        const channelId = channelIdPattern.test(channel) ? channel : (channelIds.get(channel) ?? channel);
        const result = await client.chat.update({
          channel: channelId,
          ts,
          text: payload.text,
          blocks: payload.blocks,
        });
        return { ts: String(result.ts ?? ts) };
      } catch (error) {
        throw classifySlackError(error);
      }
    },
    async upload(channel: string, file: ChatFile, options: PostOptions = {}) {
      try {
        const channelId = channelIdOf(channel);
        // Step 1: where to send the bytes (https://docs.slack.dev/reference/methods/files.getUploadURLExternal).
        const ticket = await client.files.getUploadURLExternal({
          filename: file.filename,
          length: file.content.byteLength,
        });
        const uploadUrl = String(ticket.upload_url ?? '');
        const fileId = String(ticket.file_id ?? '');
        // Step 2: the bytes themselves, to the upload URL (not a Web API method: no token, 200 on success).
        const sent = await fetch(uploadUrl, {
          method: 'POST',
          body: new Uint8Array(file.content),
          signal: AbortSignal.timeout(timeoutMs),
        }).catch((cause: unknown) => {
          const timedOut = (cause as { name?: unknown } | undefined)?.name === 'TimeoutError';
          throw timedOut
            ? slackTransient('timeout', 'The file upload did not finish in time', cause)
            : slackTransient('network', `Could not upload the file: ${String(cause)}`, cause);
        });
        if (sent.status === 429) throw slackRateLimited(retryAfterOf(sent.headers.get('retry-after')));
        if (!sent.ok) throw slackTransient(`http_${sent.status}`, `File upload answered HTTP ${sent.status}`);
        // Step 3: share it (https://docs.slack.dev/reference/methods/files.completeUploadExternal).
        await client.files.completeUploadExternal({
          files: [{ id: fileId, title: file.title }],
          channel_id: channelId,
          ...(options.threadTs === undefined ? {} : { thread_ts: options.threadTs }),
          ...(file.initialComment === undefined ? {} : { initial_comment: file.initialComment }),
        });
        return { fileId };
      } catch (error) {
        throw classifySlackError(error);
      }
    },
    async authTest() {
      try {
        const r = await client.auth.test();
        return {
          team: String(r.team ?? ''),
          user: String(r.user ?? ''),
          teamId: String(r.team_id ?? ''),
          userId: String(r.user_id ?? ''),
          ...(r.bot_id === undefined ? {} : { botId: String(r.bot_id) }),
          url: String(r.url ?? ''),
        };
      } catch (error) {
        throw classifySlackError(error);
      }
    },
  };
}
