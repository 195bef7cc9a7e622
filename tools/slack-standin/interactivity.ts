/**
 * The stand-in's side of Slack's interactivity: a click on a message's button or overflow option
 * becomes a block_actions payload POSTed to the app's request URL, signed as Slack signs it, and the
 * app's answers to the payload's response_url are recorded (ephemeral ones shown only to the clicker,
 * "in_channel" ones posted, replace_original ones editing the message).
 *
 *   Payload: https://docs.slack.dev/reference/interaction-payloads/block_actions-payload, sent as a
 *   form body `payload=<JSON>` (application/x-www-form-urlencoded) with X-Slack-Request-Timestamp and
 *   X-Slack-Signature (src/adapters/slack-signature.ts). Slack waits 3 s for the answer and shows the
 *   user an error past that; click() reports a timeout the same way.
 *   response_url: https://docs.slack.dev/interactivity/handling-user-interaction#message_responses
 *   (response_type ephemeral by default; replace_original edits the message). delete_original is
 *   recorded on the response and not applied: the stand-in never deletes a message.
 */
import { slackSignatureHeaders } from '../../src/adapters/slack-signature.ts';
import type { ChannelLog, StandinMessage } from './channel-log.ts';
import type { StandinChannel } from './options.ts';
import { type Reply, reply } from './uploads.ts';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Slack's wait for the answer to an interaction payload. */
export const interactionTimeoutMs = 3000;

export interface ClickRequest {
  /** The app's interactivity request URL. */
  url: string;
  /** Channel id or name, and the ts of the message clicked. */
  channel: string;
  ts: string;
  /** The element's action_id; for an overflow menu, the chosen option's value too. */
  actionId: string;
  value?: string;
  /** Who clicked. Default { id: "U0SOMEONE", name: "someone" }. */
  user?: { id: string; name: string };
}

export interface ClickResult {
  /** The request URL's HTTP status; 0 when it did not answer within 3 s or could not be reached. */
  status: number;
  body: string;
  timedOut: boolean;
  /** The payload sent (parsed), for assertions. */
  payload: Json;
}

/** One answer the app sent to a response_url. */
export interface StandinResponse {
  /** The clicker: an ephemeral response is shown to them only. */
  user: string;
  channel: string;
  /** The message the click came from. */
  messageTs: string;
  responseType: 'ephemeral' | 'in_channel';
  replaceOriginal: boolean;
  deleteOriginal: boolean;
  text: string;
  blocks: unknown[];
  receivedAt: number;
}

/** The action element (button or overflow) with this action_id in the blocks, and its block_id. */
function findAction(blocks: unknown[], actionId: string): { element: Json; blockId: string } | undefined {
  for (const [i, block] of blocks.entries()) {
    if (!isObject(block)) continue;
    const elements = [block.accessory, ...(Array.isArray(block.elements) ? block.elements : [])];
    const element = elements.find((el): el is Json => isObject(el) && el.action_id === actionId);
    // Slack generates a block_id for a block sent without one; the stand-in's is stable per index.
    if (element !== undefined)
      return { element, blockId: typeof block.block_id === 'string' ? block.block_id : `standin-${i}` };
  }
  return undefined;
}

/** The `actions` entry Slack sends for a click on `element`. */
function actionOf(element: Json, blockId: string, value: string | undefined, actionTs: string): Json {
  const base = { action_id: element.action_id, block_id: blockId, action_ts: actionTs };
  if (element.type === 'overflow') {
    const options = Array.isArray(element.options) ? element.options : [];
    const chosen = options.find((o): o is Json => isObject(o) && o.value === value);
    if (chosen === undefined) throw new Error(`no option with value ${JSON.stringify(value)} in the menu`);
    return { type: 'overflow', ...base, selected_option: { text: chosen.text, value: chosen.value } };
  }
  if (element.type === 'button') {
    return {
      type: 'button',
      ...base,
      text: element.text,
      ...(element.value === undefined ? {} : { value: element.value }),
    };
  }
  throw new Error(`the stand-in clicks buttons and overflow menus, not ${String(element.type)}`);
}

/** The block_actions payload Slack sends for a click on a message. Pure. */
export function blockActionsPayload(opts: {
  channel: Pick<Required<StandinChannel>, 'id' | 'name'>;
  message: StandinMessage;
  actionId: string;
  value?: string;
  user: { id: string; name: string };
  responseUrl: string;
  nowMs: number;
}): Json {
  const found = findAction(opts.message.blocks, opts.actionId);
  if (found === undefined) throw new Error(`no element with action_id ${opts.actionId} in the message`);
  const actionTs = (opts.nowMs / 1000).toFixed(6);
  return {
    type: 'block_actions',
    user: { id: opts.user.id, username: opts.user.name, name: opts.user.name, team_id: 'T0STANDIN' },
    api_app_id: 'A0NOTIFIER',
    container: {
      type: 'message',
      message_ts: opts.message.ts,
      channel_id: opts.channel.id,
      is_ephemeral: false,
    },
    trigger_id: `${Math.floor(opts.nowMs)}.1.standin`,
    team: { id: 'T0STANDIN', domain: 'standin' },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: opts.channel.id, name: opts.channel.name },
    message: {
      type: 'message',
      ts: opts.message.ts,
      text: opts.message.text,
      blocks: opts.message.blocks,
      ...(opts.message.user === undefined
        ? { bot_id: 'B0NOTIFIER', user: 'U0NOTIFIER' }
        : { user: opts.message.user }),
      ...(opts.message.threadTs === undefined ? {} : { thread_ts: opts.message.threadTs }),
    },
    state: { values: {} },
    response_url: opts.responseUrl,
    actions: [actionOf(found.element, found.blockId, opts.value, actionTs)],
  };
}

/** The form body and headers Slack sends a payload with, signed with `secret` at `nowMs`. Pure. */
export function interactionRequest(
  secret: string,
  nowMs: number,
  payload: Json,
): { body: string; headers: Record<string, string> } {
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  return {
    body,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...slackSignatureHeaders(secret, nowMs, body),
    },
  };
}

export interface Interactivity {
  click(request: ClickRequest): Promise<ClickResult>;
  /** POST /_standin/respond/<id>: an answer to a response_url. */
  respond(id: string, body: Json): Reply;
  responses(): StandinResponse[];
  reset(): void;
}

export function createInteractivity(opts: {
  now: () => number;
  /** The stand-in's own URL (response_url points back at it). */
  url: () => string;
  signingSecret: string;
  /** How long a click waits for the app's answer. Default interactionTimeoutMs (Slack's 3 s). */
  timeoutMs?: number;
  findChannel: (ref: string) => Required<StandinChannel> | undefined;
  log: ChannelLog;
}): Interactivity {
  let pending = new Map<string, { user: string; channel: Required<StandinChannel>; messageTs: string }>();
  let responses: StandinResponse[] = [];
  let seq = 0;

  return {
    async click(request) {
      const channel = opts.findChannel(request.channel);
      if (channel === undefined) throw new Error(`no stand-in channel ${request.channel}`);
      const message = opts.log.find(channel.id, request.ts);
      if (message === undefined) throw new Error(`no message ${request.ts} in #${channel.name}`);
      const user = request.user ?? { id: 'U0SOMEONE', name: 'someone' };
      seq += 1;
      const id = `R${seq}`;
      pending.set(id, { user: user.id, channel, messageTs: message.ts });
      const payload = blockActionsPayload({
        channel,
        message,
        actionId: request.actionId,
        ...(request.value === undefined ? {} : { value: request.value }),
        user,
        responseUrl: `${opts.url()}/_standin/respond/${id}`,
        nowMs: opts.now(),
      });
      const { body, headers } = interactionRequest(opts.signingSecret, opts.now(), payload);
      try {
        const res = await fetch(request.url, {
          method: 'POST',
          headers,
          body,
          signal: AbortSignal.timeout(opts.timeoutMs ?? interactionTimeoutMs),
        });
        return { status: res.status, body: await res.text(), timedOut: false, payload };
      } catch (error) {
        const timedOut = (error as { name?: unknown }).name === 'TimeoutError';
        return { status: 0, body: String(error), timedOut, payload };
      }
    },

    respond(id, body) {
      const origin = pending.get(id);
      if (origin === undefined) return reply(404, { ok: false, error: 'expired_url' });
      const text = typeof body.text === 'string' ? body.text : '';
      const blocks = Array.isArray(body.blocks) ? (body.blocks as unknown[]) : [];
      const response: StandinResponse = {
        user: origin.user,
        channel: origin.channel.id,
        messageTs: origin.messageTs,
        responseType: body.response_type === 'in_channel' ? 'in_channel' : 'ephemeral',
        replaceOriginal: body.replace_original === true || body.replace_original === 'true',
        deleteOriginal: body.delete_original === true || body.delete_original === 'true',
        text,
        blocks,
        receivedAt: opts.now(),
      };
      responses.push(response);
      const original = opts.log.find(origin.channel.id, origin.messageTs);
      if (response.replaceOriginal && original !== undefined) opts.log.edit(original, { text, blocks });
      else if (response.responseType === 'in_channel') opts.log.record(origin.channel, { text, blocks });
      return reply(200, { ok: true });
    },

    responses: () => [...responses],

    reset() {
      pending = new Map();
      responses = [];
    },
  };
}
