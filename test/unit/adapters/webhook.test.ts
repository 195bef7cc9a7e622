import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { messageId, signedHeaders, webhookBody } from '../../../src/adapters/webhook.ts';
import { classifyStatus, retryAfterMs } from '../../../src/adapters/webhook-http.ts';
import { parseConfig } from '../../../src/config/index.ts';
import { decide } from '../../../src/pipeline/index.ts';
import { dec, makeUpdate } from '../../support/events.ts';

const secret = `whsec_${Buffer.from('a test signing secret, 32 bytes!').toString('base64')}`;
const config = parseConfig('', 'defaults');

function changePayload() {
  const outcome = decide(makeUpdate({ prc_amt: dec('17.99') }), config);
  if (outcome.kind !== 'notify') throw new Error(outcome.reason);
  const payload = outcome.messages[0]?.payload;
  if (payload === undefined) throw new Error('no message');
  return payload;
}

describe('webhook body', () => {
  it('carries the listing, the fields before/after, the rule and the channel', () => {
    const body = webhookBody(changePayload(), null);
    expect(body.type).toBe('listing.changed');
    if (body.type !== 'listing.changed') return;
    expect(body.data.listing.id).toMatch(/^\d+$/);
    expect(body.data.listing.url).toMatch(/\/listings\/\d+$/);
    expect(body.data.fields).toEqual([
      expect.objectContaining({
        field: 'price',
        column: 'prc_amt',
        after: { type: 'decimal', value: '17.99' },
        beforeUnknown: false,
      }),
    ]);
    expect(body.data.rules).toEqual(['price moved']);
    expect(body.data.channel).toBe('sales-alerts');
    expect(body.timestamp).toBe(body.data.changedAt);
  });

  it('a message without change data (a digest) is its text, un-escaped from Slack mrkdwn', () => {
    expect(webhookBody({ text: 'a &lt;b&gt; &amp; c', blocks: [] }, 'k')).toEqual({
      type: 'listing.message',
      timestamp: null,
      data: { channel: 'k', text: 'a <b> & c' },
    });
  });
});

describe('Standard Webhooks signing', () => {
  const body = JSON.stringify(webhookBody(changePayload(), null));
  const at = new Date();
  const id = messageId('webhook:URL:SECRET', body);
  const headers = signedHeaders(secret, id, at, body);

  it('signs so that the standardwebhooks verifier accepts the body', () => {
    expect(headers['webhook-id']).toBe(id);
    expect(headers['webhook-timestamp']).toBe(String(Math.floor(at.getTime() / 1000)));
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it('a tampered body, or another secret, fails verification', () => {
    const tampered = body.replace('17.99', '1.99');
    expect(tampered).not.toBe(body);
    expect(() => new Webhook(secret).verify(tampered, headers)).toThrow();
    const other = `whsec_${Buffer.from('another secret of thirty-two by!').toString('base64')}`;
    expect(() => new Webhook(other).verify(body, headers)).toThrow();
  });

  it('the id depends on destination and body only, so a retry of the same message has the same id', () => {
    expect(messageId('webhook:URL:SECRET', body)).toBe(id);
    expect(messageId('webhook:URL:SECRET', `${body} `)).not.toBe(id);
    expect(messageId('webhook:OTHER:SECRET', body)).not.toBe(id);
  });

  it('an unusable secret is SLACK_PERMANENT and its value is not in the message', () => {
    expect(() => signedHeaders('whsec_%%%not-base64%%%', id, at, body)).toThrowError(
      expect.objectContaining({ code: 'SLACK_PERMANENT', message: expect.not.stringContaining('%%%') }),
    );
  });
});

describe('webhook HTTP answers', () => {
  it.each([
    [429, 'SLACK_RATE_LIMITED'],
    [408, 'SLACK_TRANSIENT'],
    [500, 'SLACK_TRANSIENT'],
    [503, 'SLACK_TRANSIENT'],
    [400, 'SLACK_PERMANENT'],
    [404, 'SLACK_PERMANENT'],
    [410, 'SLACK_PERMANENT'],
    [413, 'SLACK_PERMANENT'],
  ])('HTTP %i is %s', (status, code) => {
    expect(classifyStatus('X', status, 2000).code).toBe(code);
  });

  it('410 Gone says gone; 429 carries retryAfterMs', () => {
    expect(classifyStatus('X', 410, 0).details).toEqual({ slackError: 'gone' });
    expect(classifyStatus('X', 429, 3000).details).toMatchObject({ retryAfterMs: 3000 });
  });

  it('reads Retry-After as seconds or an HTTP date, with a default', () => {
    const now = Date.parse('2026-11-26T12:00:00Z');
    expect(retryAfterMs('3', now)).toBe(3000);
    expect(retryAfterMs('Thu, 26 Nov 2026 12:00:05 GMT', now)).toBe(5000);
    expect(retryAfterMs(null, now)).toBe(1000);
    expect(retryAfterMs('soon', now)).toBe(1000);
  });
});
