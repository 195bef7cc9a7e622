/**
 * The interactivity endpoint (issue 17, item 2): `POST /slack/interactivity` on the service's HTTP
 * server (health-server.ts) receives Slack's block_actions for the menus drawn by
 * src/pipeline/menus.ts, and acts on them:
 *
 * - "Mute this listing" (1 h, 24 h, 7 d) and a digest's "Mute this rule for 24 h" write the mute
 *   through the mute store (newMute, as `listing-notifier mute add` does; by = the clicker's Slack
 *   name) in the message's channel, and confirm in the message's thread through the service's Slack
 *   adapter (chat.postMessage with thread_ts): the thread is where the channel reads who muted what
 *   until when, and a response_url "in_channel" answer can only post to the channel, not the thread.
 * - "Why did I get this?" answers the clicker alone through the payload's response_url (ephemeral;
 *   needs no scope): interaction-answers.ts whyAnswer.
 *
 * In order: the body is read up to MAX_INTERACTION_BYTES (413 past it), X-Slack-Signature is verified
 * over the raw bytes with the signing secret, 5 minutes either way (401), a signature seen before is
 * a replay (401), the payload is parsed (400), and the request is answered 200 at once: Slack shows
 * the clicker an error when the answer takes more than 3 s, and the mute store or Slack may be slow.
 * The work runs after the answer; `idle()` waits for it (shutdown). Every request is counted once by
 * its outcome (Metrics.interaction), and a refused one changes nothing. Nothing here logs the secret,
 * the headers or the body.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  slackSignatureHeader,
  slackSignatureToleranceMs,
  verifySlackRequest,
} from '../adapters/slack-signature.ts';
import type { Config } from '../config/index.ts';
import { describeError } from '../domain/errors.ts';
import type { SlackPayload } from '../domain/message.ts';
import { newMute } from '../domain/mute.ts';
import { decodeAction, type MenuAction } from '../pipeline/menus.ts';
import type { ChatDestination, Clock, Logger, Metrics } from '../ports/index.ts';
import type { MuteStore } from '../ports/mutes.ts';
import { failureAnswer, muteConfirmation, whyAnswer } from './interaction-answers.ts';
import {
  type Click,
  createReplayGuard,
  MAX_INTERACTION_BYTES,
  parseInteraction,
  type Refusal,
  refusalStatus,
  signatureGate,
} from './interaction-payload.ts';

/** POSTs an answer to a response_url (default: fetch, JSON, 5 s timeout). */
export type Respond = (url: string, body: Record<string, unknown>) => Promise<void>;

export interface InteractivityOptions {
  /** The app's signing secret (Connections.slack.signingSecret). */
  secret: string;
  clock: Clock;
  mutes: MuteStore;
  /** The service's Slack adapter: the mute confirmations in the thread. */
  chat: Pick<ChatDestination, 'post'>;
  /** The rules in effect (a reload reaches the answers). */
  config: () => Config;
  metrics: Metrics;
  logger: Logger;
  respond?: Respond;
  /** After a mute was written (main.ts: the mute watch reads the store again at once). */
  onMuted?: () => void;
  /** Default MAX_INTERACTION_BYTES. */
  maxBodyBytes?: number;
}

export interface Interactivity {
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Resolves when every acknowledged click has been acted on. */
  idle(): Promise<void>;
}

export const fetchRespond: Respond = async (url, body) => {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  await res.body?.cancel();
  if (!res.ok) throw new Error(`response_url answered HTTP ${res.status}`);
};

/** The body, or 'too-large' as soon as it passes `max` bytes (the rest is not read). */
async function readBody(req: IncomingMessage, max: number): Promise<Buffer | 'too-large'> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) return 'too-large';
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) return 'too-large';
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

const ephemeral = (payload: SlackPayload) => ({
  response_type: 'ephemeral',
  replace_original: false,
  text: payload.text,
  blocks: payload.blocks,
});

export function createInteractivity(o: InteractivityOptions): Interactivity {
  const respond = o.respond ?? fetchRespond;
  const max = o.maxBodyBytes ?? MAX_INTERACTION_BYTES;
  const replays = createReplayGuard(slackSignatureToleranceMs);
  const pending = new Set<Promise<void>>();

  const refuse = (
    res: ServerResponse,
    refusal: Refusal,
    why?: string,
    status = refusalStatus(refusal),
  ): void => {
    o.metrics.interaction(refusal);
    o.logger.warn({ refusal, ...(why === undefined ? {} : { why }) }, 'interaction refused');
    res.writeHead(status, { 'content-type': 'text/plain', connection: 'close' });
    res.end(`${refusal}\n`);
  };

  const muteIt = async (
    click: Click,
    action: Extract<MenuAction, { kind: 'mute-listing' | 'mute-rule' }>,
  ) => {
    const mute = newMute({
      subject: action.kind === 'mute-listing' ? { listingId: action.listingId } : { rule: action.rule },
      by: click.user.name,
      now: o.clock.now(),
      forMs: action.forMs,
      channel: action.channelKey,
    });
    let id: string;
    try {
      id = await o.mutes.add(mute);
    } catch (error) {
      o.metrics.interaction('failed');
      o.logger.warn({ error: describeError(error), user: click.user.id }, 'mute from Slack not written');
      await respond(
        click.responseUrl,
        ephemeral(failureAnswer('Not muted: the mute store did not answer. Try again in a moment.')),
      );
      return;
    }
    o.onMuted?.();
    o.metrics.interaction('muted');
    o.logger.info(
      { mute: id, scope: mute.scope, channelKey: action.channelKey, user: click.user.id, until: mute.until },
      'muted from Slack',
    );
    const confirmation = muteConfirmation({ ...mute, id }, action.forMs, o.config().timeZone);
    await o.chat
      .post(click.channelId, confirmation, { threadTs: click.threadTs ?? click.messageTs })
      .catch((error: unknown) =>
        o.logger.warn(
          { error: describeError(error), mute: id },
          'the mute is in force; its confirmation was not posted',
        ),
      );
  };

  const explainIt = async (click: Click, action: Extract<MenuAction, { kind: 'why' }>) => {
    const now = o.clock.now();
    const mutes = await o.mutes.list(now).catch(() => undefined);
    await respond(click.responseUrl, ephemeral(whyAnswer({ action, config: o.config(), mutes, now })));
    o.metrics.interaction('explained');
  };

  const act = async (click: Click, action: MenuAction): Promise<void> => {
    try {
      if (action.kind === 'why') await explainIt(click, action);
      else await muteIt(click, action);
    } catch (error) {
      o.metrics.interaction('failed');
      o.logger.warn({ error: describeError(error), action: action.kind }, 'acting on a click failed');
    }
  };

  const track = (work: Promise<void>): void => {
    pending.add(work);
    void work.finally(() => pending.delete(work));
  };

  return {
    async handle(req, res) {
      if (req.method !== 'POST') {
        res.writeHead(405, { 'content-type': 'text/plain', allow: 'POST' });
        res.end('method not allowed\n');
        return;
      }
      const body = await readBody(req, max);
      if (body === 'too-large') return refuse(res, 'too-large');
      const now = o.clock.now();
      const gate = signatureGate(
        verifySlackRequest({ secret: o.secret, headers: req.headers, body, clock: o.clock }),
      );
      if (!gate.ok) return refuse(res, gate.refusal, 'signature', gate.status);
      // Verified, so the header is one "v0=<hex>": remembered only for requests that passed.
      if (replays.seen(String(req.headers[slackSignatureHeader]), now)) return refuse(res, 'replayed');
      const click = parseInteraction(body, o.config().slack.apiUrl);
      if ('error' in click) return refuse(res, 'malformed', click.error);
      const config = o.config();
      const decoded = decodeAction(click.actionId, click.value);
      const known = 'error' in decoded ? false : decoded.channelKey in config.channels;
      // Acknowledge first: everything after this runs once Slack has its answer.
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end();
      if ('error' in decoded || !known) {
        // A click on "View listing" (a link button: Slack still sends the action), or a menu of a
        // channel the rules no longer have.
        o.metrics.interaction('ignored');
        o.logger.debug(
          {
            action: click.actionId.slice(0, 80),
            why: 'error' in decoded ? decoded.error : 'unknown channel',
          },
          'interaction ignored',
        );
        return;
      }
      track(act(click, decoded));
    },
    async idle() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  };
}
