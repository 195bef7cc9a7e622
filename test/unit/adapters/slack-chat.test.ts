import { WebAPIRateLimitedError } from '@slack/web-api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { classifySlackError, createSlackChat } from '../../../src/adapters/slack-chat.ts';
import { failureLabel, isNotifierError, type NotifierError } from '../../../src/domain/errors.ts';
import type { SlackPayload } from '../../../src/domain/message.ts';
import type { Logger } from '../../../src/ports/index.ts';
import { type SlackStandin, startSlackStandin } from '../../../tools/slack-standin/server.ts';

// The real @slack/web-api client against the stand-in: each way Slack can fail becomes the right code.
const token = 'xoxb-1111-2222-unit-test-token';
let standin: SlackStandin;
let time = 1_700_000_000_000;

const payload = (overrides: Partial<SlackPayload> = {}): SlackPayload => ({
  text: 'Price cut: Blue chair',
  blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*Blue chair* $20 → $15' } }],
  ...overrides,
});

/** A Logger that keeps every line as text. */
function recordingLogger(lines: string[]): Logger {
  const log = (fields: Record<string, unknown>, msg?: string) =>
    lines.push(`${JSON.stringify(fields)} ${msg ?? ''}`);
  const logger: Logger = { debug: log, info: log, warn: log, error: log, child: () => logger };
  return logger;
}

async function failure(promise: Promise<unknown>): Promise<NotifierError> {
  try {
    await promise;
  } catch (error) {
    if (isNotifierError(error)) return error;
    throw new Error(`expected a NotifierError, got ${String(error)}`);
  }
  throw new Error('expected the call to fail');
}

beforeAll(async () => {
  standin = await startSlackStandin({ token, now: () => time, pace: { perSecond: 1, burst: 1 } });
});
afterAll(async () => {
  await standin.close();
});
beforeEach(() => {
  standin.reset();
  standin.clearFailures();
  time += 60_000;
});

describe('createSlackChat against the stand-in', () => {
  it('posts and returns Slack ts; authTest identifies the bot', async () => {
    const chat = createSlackChat({ token, apiUrl: standin.apiUrl });
    const { ts } = await chat.post('sales-alerts', payload());
    expect(ts).toMatch(/^\d+\.\d{6}$/);
    expect(standin.messages('sales-alerts')).toEqual([
      expect.objectContaining({ ts, text: 'Price cut: Blue chair' }),
    ]);
    expect(await chat.authTest()).toMatchObject({ team: 'Stand-in Workspace', botId: 'B0NOTIFIER' });
  });

  it('a wrong token is SLACK_AUTH (stop), for post and authTest', async () => {
    const chat = createSlackChat({ token: 'xoxb-wrong', apiUrl: standin.apiUrl });
    const error = await failure(chat.post('sales-alerts', payload()));
    expect(error).toMatchObject({
      code: 'SLACK_AUTH',
      disposition: 'stop',
      details: { slackError: 'invalid_auth' },
    });
    expect(await failure(chat.authTest())).toMatchObject({ code: 'SLACK_AUTH' });
  });

  it('token_revoked and missing_scope are SLACK_AUTH', async () => {
    const chat = createSlackChat({ token, apiUrl: standin.apiUrl });
    standin.fail({ mode: 'error', error: 'token_revoked' });
    expect(await failure(chat.post('sales-alerts', payload()))).toMatchObject({
      code: 'SLACK_AUTH',
      details: { slackError: 'token_revoked' },
    });
    standin.fail({ mode: 'error', error: 'missing_scope' });
    expect(await failure(chat.post('sales-alerts', payload()))).toMatchObject({ code: 'SLACK_AUTH' });
  });

  it.each([
    ['nope', payload(), 'channel_not_found'],
    ['old-announcements', payload(), 'is_archived'],
    ['private-finance', payload(), 'not_in_channel'],
    ['sales-alerts', payload({ text: '', blocks: [] }), 'no_text'],
    ['sales-alerts', payload({ text: 'x'.repeat(40_001) }), 'msg_too_long'],
  ])('posting to %s answers %s: SLACK_PERMANENT (dead-letter)', async (channel, body, slackError) => {
    const chat = createSlackChat({ token, apiUrl: standin.apiUrl });
    const error = await failure(chat.post(channel, body));
    expect(error).toMatchObject({
      code: 'SLACK_PERMANENT',
      disposition: 'dead-letter',
      details: { slackError },
    });
  });

  it('invalid_blocks is SLACK_PERMANENT and keeps Slack json-pointer messages', async () => {
    const chat = createSlackChat({ token, apiUrl: standin.apiUrl });
    const error = await failure(
      chat.post(
        'sales-alerts',
        payload({ blocks: [{ type: 'header', text: { type: 'mrkdwn', text: 'h' } }] }),
      ),
    );
    expect(error.details).toEqual({
      slackError: 'invalid_blocks',
      slackMessages: ['[ERROR] must be plain_text [json-pointer:/blocks/0/text/type]'],
    });
  });

  it('429 is SLACK_RATE_LIMITED with Retry-After in ms, at once (the client does not wait)', async () => {
    const lines: string[] = [];
    const chat = createSlackChat({ token, apiUrl: standin.apiUrl, logger: recordingLogger(lines) });
    await chat.post('sales-alerts', payload());
    const callsBefore = standin.stats().calls;
    const error = await failure(chat.post('sales-alerts', payload()));
    // Counted, not timed: one call, rejected as it came. A client that waits (rejectRateLimitedCalls
    // off) logs "Will retry in 1 seconds", pauses its queue for the Retry-After and then fails with
    // "A rate limit was exceeded", which comes out SLACK_TRANSIENT, not the code below.
    expect(standin.stats().calls - callsBefore).toBe(1);
    expect(lines.join('\n')).not.toContain('Will retry');
    expect(error).toMatchObject({
      code: 'SLACK_RATE_LIMITED',
      disposition: 'retry',
      details: { retryAfterMs: 1000 },
    });
    expect(failureLabel(error)).toBe('ratelimited');
  });

  it('HTTP 503 is SLACK_TRANSIENT http_503, and the client does not retry it', async () => {
    const chat = createSlackChat({ token, apiUrl: standin.apiUrl });
    standin.fail({ mode: 'status', status: 503, forMs: 60_000 });
    const callsBefore = standin.stats().calls;
    const error = await failure(chat.post('sales-alerts', payload()));
    expect(error).toMatchObject({
      code: 'SLACK_TRANSIENT',
      disposition: 'retry',
      details: { failure: 'http_503' },
    });
    expect(standin.stats().calls - callsBefore).toBe(1);
  });

  it('internal_error (ok:false) is SLACK_TRANSIENT', async () => {
    const chat = createSlackChat({ token, apiUrl: standin.apiUrl });
    standin.fail({ mode: 'error', error: 'internal_error' });
    expect(await failure(chat.post('sales-alerts', payload()))).toMatchObject({
      code: 'SLACK_TRANSIENT',
      details: { failure: 'internal_error' },
    });
  });

  it('a hung call is SLACK_TRANSIENT timeout after timeoutMs', async () => {
    const chat = createSlackChat({ token, apiUrl: standin.apiUrl, timeoutMs: 200 });
    standin.fail({ mode: 'hang', forMs: 60_000 });
    const error = await failure(chat.post('sales-alerts', payload()));
    expect(error).toMatchObject({ code: 'SLACK_TRANSIENT', details: { failure: 'timeout' } });
    standin.clearFailures();
  });

  it('an unreachable server is SLACK_TRANSIENT network', async () => {
    const closed = await startSlackStandin();
    const apiUrl = closed.apiUrl;
    await closed.close();
    const error = await failure(createSlackChat({ token, apiUrl }).post('sales-alerts', payload()));
    expect(error).toMatchObject({ code: 'SLACK_TRANSIENT', details: { failure: 'network' } });
  });

  it('never hands the token to the logger', async () => {
    const lines: string[] = [];
    const chat = createSlackChat({ token, apiUrl: standin.apiUrl, logger: recordingLogger(lines) });
    await chat.post('sales-alerts', payload());
    await failure(chat.post('nope', payload()));
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toContain(token);
    expect(lines.join('\n')).not.toContain('1111-2222');
  });
});

describe('classifySlackError', () => {
  it('reads Retry-After seconds from the client error, at least one second', () => {
    expect(classifySlackError(new WebAPIRateLimitedError(7)).details.retryAfterMs).toBe(7000);
    expect(classifySlackError(new WebAPIRateLimitedError(0)).details.retryAfterMs).toBe(1000);
  });

  it('treats a 429 without a usable Retry-After as rate limited for one second', () => {
    const error = classifySlackError(
      new Error('Retry header did not contain a valid timeout (url: x, retry-after header: null)'),
    );
    expect(error).toMatchObject({ code: 'SLACK_RATE_LIMITED', details: { retryAfterMs: 1000 } });
  });

  it('passes NotifierErrors through and makes anything else transient', () => {
    const permanent = classifySlackError({
      code: 'slack_webapi_platform_error',
      data: { ok: false, error: 'restricted_action' },
    });
    expect(permanent).toMatchObject({
      code: 'SLACK_PERMANENT',
      details: { slackError: 'restricted_action' },
    });
    expect(classifySlackError(permanent)).toBe(permanent);
    expect(classifySlackError(new TypeError('boom'))).toMatchObject({
      code: 'SLACK_TRANSIENT',
      details: { failure: 'unknown' },
    });
  });
});
