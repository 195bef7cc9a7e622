/**
 * A signed JSON webhook: the change as data, signed by the Standard Webhooks scheme
 * (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md) with the
 * `standardwebhooks` package: headers webhook-id, webhook-timestamp (seconds) and webhook-signature
 * ("v1,<base64 HMAC-SHA256 of id.timestamp.body>").
 *
 * De-duplication: webhook-id is derived from the body, and the body from the change only (its
 * `timestamp` is the database commit time, not the send time), so a retry of the same message carries
 * the same id and receivers can drop the second copy. webhook-timestamp is the send time (the
 * receiver's replay window). 410 Gone is permanent (the receiver asks us to stop); see webhook-http.ts.
 *
 * The body is data, not markup: column values are the decoded values as they are (decimals as strings),
 * the texts are render.ts's plain words. Receivers must treat every string as untrusted.
 */
import { createHash } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { NotifierError } from '../domain/errors.ts';
import type { SlackPayload } from '../domain/message.ts';
import type { ChatFile } from '../ports/index.ts';
import { type HttpPostOptions, postJson } from './webhook-http.ts';

export interface WebhookTarget {
  url: string;
  /** "whsec_<base64>" (or bare base64), as Standard Webhooks libraries take it. */
  secret: string;
}

export type WebhookBody =
  | { type: 'listing.changed'; timestamp: string | null; data: ListingChanged }
  | { type: 'listing.message'; timestamp: null; data: { channel: string | null; text: string } }
  | {
      type: 'listing.file';
      timestamp: null;
      data: { channel: string | null; filename: string; title: string; content: string };
    };

export interface ListingChanged {
  listing: { id: string | null; title: string; url: string | null };
  op: string;
  changedAt: string | null;
  summary: string[];
  fields: NonNullable<SlackPayload['change']>['fields'];
  facts: NonNullable<SlackPayload['change']>['facts'];
  rules: string[];
  /** The config's channel key. */
  channel: string | null;
}

/** Slack mrkdwn fallback text (digests, replies) back to plain text. */
const unescapeMrkdwn = (text: string): string =>
  text.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');

/** The body for a payload: the change as data when the pipeline attached it, else the text. Pure. */
export function webhookBody(payload: SlackPayload, channelKey: string | null): WebhookBody {
  const c = payload.change;
  if (c === undefined)
    return {
      type: 'listing.message',
      timestamp: null,
      data: { channel: channelKey, text: unescapeMrkdwn(payload.text) },
    };
  return {
    type: 'listing.changed',
    timestamp: c.changedAt,
    data: {
      listing: { id: c.listingId, title: c.header, url: c.url },
      op: c.op,
      changedAt: c.changedAt,
      summary: c.summary,
      fields: c.fields,
      facts: c.facts,
      rules: c.rules ?? [],
      channel: c.channelKey ?? channelKey,
    },
  };
}

/** "msg_" + 32 hex of SHA-256 over the destination and body: equal for a retry of the same message. */
export const messageId = (destination: string, body: string): string =>
  `msg_${createHash('sha256').update(destination).update('\n').update(body).digest('hex').slice(0, 32)}`;

/** The three Standard Webhooks headers for `body`. Throws SLACK_PERMANENT for an unusable secret. */
export function signedHeaders(secret: string, id: string, at: Date, body: string): Record<string, string> {
  let signature: string;
  try {
    signature = new Webhook(secret).sign(id, at, body);
  } catch {
    // Never echo the secret; say what is wrong with it.
    throw new NotifierError('SLACK_PERMANENT', 'the webhook signing secret is not base64 (whsec_<base64>)', {
      details: { slackError: 'bad_secret' },
    });
  }
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signature,
  };
}

export async function postToWebhook(
  destination: string,
  target: WebhookTarget,
  body: WebhookBody,
  opts: HttpPostOptions & { nowMs: () => number },
): Promise<{ ts: string }> {
  const text = JSON.stringify(body);
  const id = messageId(destination, text);
  await postJson(
    'The webhook',
    target.url,
    text,
    signedHeaders(target.secret, id, new Date(opts.nowMs()), text),
    opts,
  );
  return { ts: id };
}

/** A digest's CSV as a signed body of its own (the rows as text: receivers parse them). */
export async function uploadToWebhook(
  destination: string,
  target: WebhookTarget,
  file: ChatFile,
  channelKey: string | null,
  opts: HttpPostOptions & { nowMs: () => number },
): Promise<{ fileId: string }> {
  const body: WebhookBody = {
    type: 'listing.file',
    timestamp: null,
    data: {
      channel: channelKey,
      filename: file.filename,
      title: file.title,
      content: file.content.toString('utf8'),
    },
  };
  const { ts } = await postToWebhook(destination, target, body, opts);
  return { fileId: ts };
}
