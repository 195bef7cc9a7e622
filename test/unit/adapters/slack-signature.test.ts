import { describe, expect, it } from 'vitest';
import {
  type RequestHeaders,
  signSlackRequest,
  slackSignatureHeaders,
  slackSignatureToleranceMs,
  verifySlackRequest,
} from '../../../src/adapters/slack-signature.ts';
import { createManualClock } from '../../support/fakes.ts';

// Slack's worked example, verbatim: https://docs.slack.dev/authentication/verifying-requests-from-slack
// (a slash command's form body; the signing secret is the docs' placeholder, not a real one).
const example = {
  secret: '8f742231b10e8888abcd99yyyzzz85a5',
  timestamp: '1531420618',
  body:
    'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V' +
    '&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=' +
    '&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN' +
    '&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
  signature: 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
};

const exampleHeaders: RequestHeaders = {
  'x-slack-request-timestamp': example.timestamp,
  'x-slack-signature': example.signature,
};

/** A clock `offsetMs` from the example's timestamp. */
const clockAt = (offsetMs = 0) => createManualClock(Number(example.timestamp) * 1000 + offsetMs);

const verify = (overrides: Partial<Parameters<typeof verifySlackRequest>[0]> = {}) =>
  verifySlackRequest({
    secret: example.secret,
    headers: exampleHeaders,
    body: example.body,
    clock: clockAt(),
    ...overrides,
  });

describe('signSlackRequest', () => {
  it("reproduces Slack's documented signature", () => {
    expect(signSlackRequest(example.secret, example.timestamp, example.body)).toBe(example.signature);
    expect(signSlackRequest(example.secret, Number(example.timestamp), Buffer.from(example.body))).toBe(
      example.signature,
    );
  });

  it('gives the headers Slack sends, the timestamp in whole seconds', () => {
    const headers = slackSignatureHeaders(
      example.secret,
      Number(example.timestamp) * 1000 + 999,
      example.body,
    );
    expect(headers).toEqual(exampleHeaders);
  });
});

describe('verifySlackRequest', () => {
  it("accepts Slack's documented example request", () => {
    expect(verify()).toBe('ok');
    expect(verify({ body: Buffer.from(example.body, 'utf8') })).toBe('ok');
  });

  it('accepts a request signed by signSlackRequest (the stand-in), JSON bodies and non-ASCII too', () => {
    const clock = clockAt(42_000);
    const body = '{"payload":"Préférences <@U1> & \\u2028"}';
    const headers = slackSignatureHeaders('s3cret-signing', clock.now(), body);
    expect(verifySlackRequest({ secret: 's3cret-signing', headers, body, clock })).toBe('ok');
  });

  it('refuses a tampered body, secret or timestamp as forged', () => {
    expect(verify({ body: example.body.replace('roadrunner', 'wile_e') })).toBe('forged');
    expect(verify({ body: `${example.body} ` })).toBe('forged');
    expect(verify({ body: '' })).toBe('forged');
    expect(verify({ secret: example.secret.replace('8f7', '8f8') })).toBe('forged');
    expect(verify({ secret: '' })).toBe('forged');
    // A timestamp moved by one second, still inside the window: the signature covers it.
    expect(
      verify({
        headers: { ...exampleHeaders, 'x-slack-request-timestamp': String(Number(example.timestamp) + 1) },
      }),
    ).toBe('forged');
    const flipped = `${example.signature.slice(0, -1)}${example.signature.endsWith('3') ? '4' : '3'}`;
    expect(verify({ headers: { ...exampleHeaders, 'x-slack-signature': flipped } })).toBe('forged');
  });

  it('refuses a timestamp more than five minutes old or ahead as stale, and accepts the edge', () => {
    expect(verify({ clock: clockAt(slackSignatureToleranceMs) })).toBe('ok');
    expect(verify({ clock: clockAt(-slackSignatureToleranceMs) })).toBe('ok');
    expect(verify({ clock: clockAt(slackSignatureToleranceMs + 1) })).toBe('stale');
    expect(verify({ clock: clockAt(-slackSignatureToleranceMs - 1) })).toBe('stale');
    // A replay a day later, correctly signed, is still refused.
    expect(verify({ clock: clockAt(24 * 3600 * 1000) })).toBe('stale');
    expect(verify({ clock: clockAt(60_000), toleranceMs: 30_000 })).toBe('stale');
  });

  it('refuses missing, repeated or misshapen headers as malformed', () => {
    const cases: RequestHeaders[] = [
      {},
      { 'x-slack-signature': example.signature },
      { 'x-slack-request-timestamp': example.timestamp },
      { ...exampleHeaders, 'x-slack-signature': [example.signature, example.signature] },
      { ...exampleHeaders, 'x-slack-request-timestamp': [example.timestamp] },
      { ...exampleHeaders, 'x-slack-signature': example.signature.slice(3) },
      { ...exampleHeaders, 'x-slack-signature': example.signature.replace('v0=', 'v1=') },
      { ...exampleHeaders, 'x-slack-signature': example.signature.toUpperCase() },
      { ...exampleHeaders, 'x-slack-signature': `${example.signature}0` },
      { ...exampleHeaders, 'x-slack-signature': example.signature.slice(0, -1) },
      { ...exampleHeaders, 'x-slack-signature': '' },
      { ...exampleHeaders, 'x-slack-request-timestamp': '' },
      { ...exampleHeaders, 'x-slack-request-timestamp': `${example.timestamp}.5` },
      { ...exampleHeaders, 'x-slack-request-timestamp': `-${example.timestamp}` },
      { ...exampleHeaders, 'x-slack-request-timestamp': '1.531420618e9' },
      { ...exampleHeaders, 'x-slack-request-timestamp': ` ${example.timestamp}` },
      { ...exampleHeaders, 'x-slack-request-timestamp': '9'.repeat(400) },
    ];
    for (const headers of cases) expect(verify({ headers }), JSON.stringify(headers)).toBe('malformed');
  });

  it('answers a verdict for hostile headers rather than throwing', () => {
    const hostile: RequestHeaders = {
      'x-slack-request-timestamp': '\u0000\r\n',
      'x-slack-signature': `v0=${'z'.repeat(64)}`,
    };
    expect(verify({ headers: hostile })).toBe('malformed');
    expect(verify({ headers: { ...exampleHeaders, 'x-slack-signature': `v0=${'0'.repeat(64)}` } })).toBe(
      'forged',
    );
  });
});
