/**
 * The stand-in's chat.update (https://docs.slack.dev/reference/methods/chat.update), answering as
 * Slack does:
 *   - channel must be a channel id (chat.update takes no "#name"): else channel_not_found; an
 *     archived channel answers is_archived;
 *   - ts must name a message shown in that channel: else message_not_found (a reply whose thread_ts
 *     named no message is shown nowhere, so it is not found either);
 *   - only the bot's own messages: a person's answers cant_update_message;
 *   - text and blocks are checked as chat.postMessage checks them (no_text, msg_too_long,
 *     invalid_blocks...); blocks left out keep the message's blocks, an empty array removes them.
 * chat.update is a Tier 3 method (about 50 calls a minute across the workspace, short bursts
 * allowed: https://docs.slack.dev/apis/web-api/rate-limits), paced apart from the per-channel
 * message pace: past it, HTTP 429 with Retry-After in whole seconds.
 */
import { createPaceWindow } from '../../src/delivery/pace.ts';
import type { ChannelLog } from './channel-log.ts';
import { isValidTs } from './files.ts';
import type { StandinChannel } from './options.ts';
import { type Reply, rejected, reply } from './uploads.ts';
import { checkPostMessage } from './validate.ts';

type Body = Record<string, unknown>;

export interface ChatUpdateOptions {
  now: () => number;
  channels: Required<StandinChannel>[];
  log: ChannelLog;
  /** Workspace-wide pace of chat.update. Default 50 a minute, bursts of 50. */
  pace?: { perMinute: number; burst: number };
  /** An injected failure for this channel, or null (the server's /_standin/fail). */
  injected: (channel: unknown) => Reply | null;
}

export interface ChatUpdate {
  (body: Body): Reply;
  /** chat.update calls answered 429. */
  rateLimited(): number;
  reset(): void;
}

export function createChatUpdate(opts: ChatUpdateOptions): ChatUpdate {
  const pace = opts.pace ?? { perMinute: 50, burst: 50 };
  const newGate = () => createPaceWindow({ cap: pace.perMinute, intervalMs: 60_000, burst: pace.burst });
  let gate = newGate();
  let limited = 0;

  const update = (body: Body): Reply => {
    const injected = opts.injected(body.channel);
    if (injected !== null) return injected;
    const channel = opts.channels.find((c) => c.id === body.channel);
    if (channel === undefined) return reply(200, { ok: false, error: 'channel_not_found' });
    if (channel.archived) return reply(200, { ok: false, error: 'is_archived' });
    const wait = gate.delayAt(opts.now());
    if (wait > 0) {
      limited += 1;
      return {
        status: 429,
        body: { ok: false, error: 'ratelimited' },
        headers: { 'retry-after': String(Math.max(1, Math.ceil(wait / 1000))) },
      };
    }
    gate.record(opts.now());
    if (body.ts === undefined || body.ts === '') {
      return rejected({ error: 'invalid_arguments', messages: ['[ERROR] missing required field: ts'] });
    }
    const ts = String(body.ts);
    const message = isValidTs(ts) ? opts.log.find(channel.id, ts) : undefined;
    if (message === undefined) return reply(200, { ok: false, error: 'message_not_found' });
    if (message.user !== undefined) return reply(200, { ok: false, error: 'cant_update_message' });
    const rawBlocks = body.blocks === undefined ? message.blocks : body.blocks;
    const rejection = checkPostMessage(body.text, rawBlocks);
    if (rejection !== null) return rejected(rejection);
    const blocks =
      typeof rawBlocks === 'string' ? (JSON.parse(rawBlocks) as unknown[]) : (rawBlocks as unknown[]);
    const text = typeof body.text === 'string' ? body.text : '';
    const edited = opts.log.edit(message, { text, blocks });
    return reply(200, {
      ok: true,
      channel: channel.id,
      ts,
      text,
      message: {
        type: 'message',
        text,
        blocks,
        bot_id: 'B0NOTIFIER',
        user: 'U0NOTIFIER',
        ts,
        ...(edited.threadTs === undefined ? {} : { thread_ts: edited.threadTs }),
        edited: { user: 'U0NOTIFIER', ts: `${Math.floor((edited.editedAt ?? 0) / 1000)}.000000` },
      },
    });
  };

  return Object.assign(update, {
    rateLimited: () => limited,
    reset() {
      gate = newGate();
      limited = 0;
    },
  });
}
