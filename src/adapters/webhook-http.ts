/**
 * One HTTP POST of a JSON body to a webhook-style destination (Teams Workflows, Standard Webhooks
 * receivers), its answer mapped to the SLACK_* codes the delivery scheduler already classifies by
 * (src/domain/errors.ts): the codes name the delivery outcome, not the chat service.
 *
 *   2xx                      ok
 *   429                      SLACK_RATE_LIMITED, retryAfterMs from Retry-After (seconds or HTTP date)
 *   408, 425, 5xx, network   SLACK_TRANSIENT (retried with backoff)
 *   410 Gone and other 4xx   SLACK_PERMANENT (dead-lettered): the receiver refused this message or is
 *                            gone for good (https://www.standardwebhooks.com/ : 410 means stop sending)
 *
 * The URL is a secret (a Teams Workflows URL carries its signature in the query): it is never put in
 * an error message, a log line or an error's cause.
 */
import { NotifierError } from '../domain/errors.ts';

export interface HttpPostOptions {
  /** Per-call timeout; default 10 000 ms. */
  timeoutMs?: number;
  /** Default: globalThis.fetch. */
  fetch?: typeof fetch;
}

/** Retry-After of a 429 that carried none (or one we cannot read). */
export const defaultRetryAfterMs = 1000;

/** Retry-After as delta-seconds or an HTTP date (RFC 9110 §10.2.3) -> ms; `nowMs` for the date form. */
export function retryAfterMs(header: string | null, nowMs: number): number {
  if (header === null) return defaultRetryAfterMs;
  const seconds = Number(header);
  if (header.trim() !== '' && Number.isFinite(seconds))
    return seconds > 0 ? seconds * 1000 : defaultRetryAfterMs;
  const at = Date.parse(header);
  return Number.isFinite(at) && at > nowMs ? at - nowMs : defaultRetryAfterMs;
}

/** The NotifierError for a non-2xx status (`what` names the destination type in messages). Pure. */
export function classifyStatus(what: string, status: number, retryAfter: number): NotifierError {
  if (status === 429)
    return new NotifierError(
      'SLACK_RATE_LIMITED',
      `${what} rate limited the call; retry after ${retryAfter} ms`,
      {
        details: { retryAfterMs: retryAfter, slackError: 'ratelimited' },
      },
    );
  if (status === 408 || status === 425 || status >= 500)
    return new NotifierError('SLACK_TRANSIENT', `${what} answered HTTP ${status}`, {
      details: { failure: `http_${status}` },
    });
  const slackError = status === 410 ? 'gone' : `http_${status}`;
  return new NotifierError('SLACK_PERMANENT', `${what} refused the message: HTTP ${status}`, {
    details: { slackError },
  });
}

/** POSTs `body`; resolves on 2xx, throws a classified NotifierError otherwise. */
export async function postJson(
  what: string,
  url: string,
  body: string,
  headers: Record<string, string>,
  opts: HttpPostOptions & { nowMs: () => number },
): Promise<void> {
  const doFetch = opts.fetch ?? fetch;
  let response: Response;
  try {
    response = await doFetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
    });
  } catch (cause) {
    // No cause attached: a fetch error's text may quote the URL.
    const name = (cause as { name?: unknown } | undefined)?.name;
    const code = (cause as { cause?: { code?: unknown } } | undefined)?.cause?.code;
    const timedOut = name === 'TimeoutError' || name === 'AbortError';
    throw new NotifierError(
      'SLACK_TRANSIENT',
      timedOut
        ? `${what} did not answer in time`
        : `Could not reach ${what}${typeof code === 'string' ? ` (${code})` : ''}`,
      { details: { failure: timedOut ? 'timeout' : 'network' } },
    );
  }
  // Drain the body so the connection is reused; its text is not used (it may echo the URL).
  await response.arrayBuffer().catch(() => undefined);
  if (response.status >= 200 && response.status < 300) return;
  throw classifyStatus(
    what,
    response.status,
    retryAfterMs(response.headers.get('retry-after'), opts.nowMs()),
  );
}
