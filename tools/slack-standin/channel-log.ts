/**
 * What the stand-in's channels show, and their pace: every accepted message (post, thread reply,
 * file share) in order, the replies that went nowhere, and the 429 counts. The server decides what
 * to accept; this module records it and answers "past the pace?" per channel.
 *
 * Pace: about one message per second per channel with short bursts
 * (https://docs.slack.dev/apis/web-api/rate-limits), as a sliding window shared with the service's
 * own scheduler (src/delivery/pace.ts). Past it: HTTP 429 with Retry-After in whole seconds.
 *
 * Edits (chat.update) replace a message where it stands and keep what it said before, oldest first;
 * a person's message (POST /_standin/say) is there to be refused: the bot may edit only its own.
 */
import { createPaceWindow, maxInAnyWindow, type PaceWindow, paceViolation } from '../../src/delivery/pace.ts';
import type { StandinChannel } from './options.ts';
import type { Reply, StandinFile } from './uploads.ts';

export interface StandinMessage {
  /** Channel id. */
  channel: string;
  channelName: string;
  ts: string;
  text: string;
  blocks: unknown[];
  /** now() when accepted. */
  receivedAt: number;
  /** Set on a thread reply: its parent's ts. */
  threadTs?: string;
  /** Set on a file share (files.completeUploadExternal); `text` is its initial_comment. */
  files?: StandinFile[];
  /** Set on a reply whose thread_ts named no top-level message in the channel: Slack shows it nowhere. */
  lost?: true;
  /** Set on a message a person posted (POST /_standin/say): their user id. The bot cannot edit it. */
  user?: string;
  /** Set once edited (chat.update): now() of the last edit. */
  editedAt?: number;
  /** Set once edited: what the message said before each edit, oldest first. */
  history?: MessageVersion[];
}

/** One earlier version of an edited message. */
export interface MessageVersion {
  text: string;
  blocks: unknown[];
  /** now() when this version was shown first (the post, or the edit that made it). */
  since: number;
}

export interface StandinStats {
  calls: number;
  /** Messages accepted per channel: posts, replies (lost ones too) and file shares. */
  accepted: Record<string, number>;
  rateLimited: { total: number; byChannel: Record<string, number> };
  /** Most messages accepted in any 1000 ms, per channel. */
  maxPerSecond: Record<string, number>;
  /** First accepted message per channel that outran the pace (always null unless the stand-in is wrong). */
  paceViolations: Record<string, { index: number; at: number } | null>;
  pace: { perSecond: number; burst: number };
  /** File shares per channel (each also counts in accepted). */
  filesShared: Record<string, number>;
  /** Files given an upload ticket and never completed. */
  filesNotCompleted: number;
  /** Replies whose thread_ts named no message (see lost()). Always 0 unless the caller is wrong. */
  lostReplies: number;
  /** Edits applied per channel (chat.update). */
  edits: Record<string, number>;
  /** chat.update calls answered 429 (its own workspace-wide pace, not the channels'). */
  updatesRateLimited: number;
}

export interface MessageParts {
  text: string;
  blocks: unknown[];
  threadTs?: string;
  files?: StandinFile[];
}

export interface ChannelLog {
  /** A 429 reply with Retry-After when the channel is past its pace (counted), else null. */
  paced(channelId: string): Reply | null;
  /** Records an accepted message against the channel's pace and gives it a ts. */
  record(channel: Required<StandinChannel>, parts: MessageParts): StandinMessage;
  /** Records a person's message (not the bot's: outside the bot's pace, never editable by it). */
  say(channel: Required<StandinChannel>, text: string, user: string): StandinMessage;
  /** The shown message (post or reply; not a lost reply) with this ts in this channel. */
  find(channelId: string, ts: string): StandinMessage | undefined;
  /** Replaces a shown message's text and blocks, keeping the old ones in its history. */
  edit(message: StandinMessage, parts: { text: string; blocks: unknown[] }): StandinMessage;
  messages(channel?: string): StandinMessage[];
  lost(): StandinMessage[];
  /** `updatesRateLimited` comes from chat-update.ts; default 0. */
  stats(extra: { calls: number; filesNotCompleted: number; updatesRateLimited?: number }): StandinStats;
  reset(): void;
}

export function createChannelLog(opts: {
  now: () => number;
  pace: { perSecond: number; burst: number };
  channels: Required<StandinChannel>[];
  onMessage?: ((message: StandinMessage) => void) | undefined;
}): ChannelLog {
  const { now, pace } = opts;
  let messages: StandinMessage[] = [];
  let lostReplies: StandinMessage[] = [];
  let gates = new Map<string, PaceWindow>();
  let rateLimited = new Map<string, number>();
  let edits = new Map<string, number>();
  let seq = 0;

  const nextTs = (at: number): string => {
    seq += 1;
    return `${Math.floor(at / 1000)}.${String(seq % 1_000_000).padStart(6, '0')}`;
  };

  const gateFor = (id: string): PaceWindow => {
    let gate = gates.get(id);
    if (gate === undefined) {
      gate = createPaceWindow({ cap: pace.perSecond, intervalMs: 1000, burst: pace.burst });
      gates.set(id, gate);
    }
    return gate;
  };

  return {
    paced(channelId) {
      const wait = gateFor(channelId).delayAt(now());
      if (wait <= 0) return null;
      rateLimited.set(channelId, (rateLimited.get(channelId) ?? 0) + 1);
      return {
        status: 429,
        body: { ok: false, error: 'ratelimited' },
        headers: { 'retry-after': String(Math.max(1, Math.ceil(wait / 1000))) },
      };
    },

    // A reply whose thread_ts names no top-level message of the channel goes to the lost list:
    // Slack answers ok and shows it nowhere. A reply's own ts is no parent either (Slack: "use its
    // parent instead"), so a reply to a reply is lost too.
    record(channel, parts) {
      const at = now();
      gateFor(channel.id).record(at);
      const ts = nextTs(at);
      const { threadTs, files } = parts;
      const parent =
        threadTs === undefined
          ? undefined
          : messages.find((m) => m.channel === channel.id && m.ts === threadTs && m.threadTs === undefined);
      const message: StandinMessage = {
        channel: channel.id,
        channelName: channel.name,
        ts,
        text: parts.text,
        blocks: parts.blocks,
        receivedAt: at,
        ...(threadTs === undefined ? {} : { threadTs }),
        ...(files === undefined ? {} : { files }),
        ...(threadTs !== undefined && parent === undefined ? { lost: true as const } : {}),
      };
      if (message.lost) lostReplies.push(message);
      else messages.push(message);
      opts.onMessage?.(message);
      return message;
    },

    say(channel, text, user) {
      const at = now();
      const message: StandinMessage = {
        channel: channel.id,
        channelName: channel.name,
        ts: nextTs(at),
        text,
        blocks: [],
        receivedAt: at,
        user,
      };
      messages.push(message);
      return message;
    },

    find: (channelId, ts) => messages.find((m) => m.channel === channelId && m.ts === ts),

    // A new object in the old one's place: what messages() handed out before stays as it was.
    edit(message, parts) {
      const at = now();
      const before: MessageVersion = {
        text: message.text,
        blocks: message.blocks,
        since: message.editedAt ?? message.receivedAt,
      };
      const edited: StandinMessage = {
        ...message,
        text: parts.text,
        blocks: parts.blocks,
        editedAt: at,
        history: [...(message.history ?? []), before],
      };
      messages = messages.map((m) => (m === message ? edited : m));
      edits.set(message.channelName, (edits.get(message.channelName) ?? 0) + 1);
      return edited;
    },

    messages: (channel) =>
      messages.filter((m) => channel === undefined || m.channel === channel || m.channelName === channel),

    lost: () => [...lostReplies],

    stats({ calls, filesNotCompleted, updatesRateLimited = 0 }) {
      // A person's messages are theirs: not the bot's pace, not its accepted count.
      const all = [...messages, ...lostReplies]
        .filter((m) => m.user === undefined)
        .sort((a, b) => a.receivedAt - b.receivedAt);
      const byChannel = new Map<string, number[]>();
      const shared = new Map<string, number>();
      for (const m of all) {
        byChannel.set(m.channelName, [...(byChannel.get(m.channelName) ?? []), m.receivedAt]);
        if (m.files !== undefined) shared.set(m.channelName, (shared.get(m.channelName) ?? 0) + 1);
      }
      const per = <T>(f: (times: number[]) => T) =>
        Object.fromEntries([...byChannel].map(([name, times]) => [name, f(times)]));
      const limit = { cap: pace.perSecond, intervalMs: 1000, burst: pace.burst };
      const named = [...rateLimited].map(([id, n]) => [
        opts.channels.find((c) => c.id === id)?.name ?? id,
        n,
      ]);
      return {
        calls,
        accepted: per((t) => t.length),
        rateLimited: {
          total: [...rateLimited.values()].reduce((a, b) => a + b, 0),
          byChannel: Object.fromEntries(named),
        },
        maxPerSecond: per((t) => maxInAnyWindow(t, 1000)),
        paceViolations: per((t) => paceViolation(t, limit)),
        pace,
        filesShared: Object.fromEntries(shared),
        filesNotCompleted,
        lostReplies: lostReplies.length,
        edits: Object.fromEntries(edits),
        updatesRateLimited,
      };
    },

    reset() {
      messages = [];
      lostReplies = [];
      gates = new Map();
      rateLimited = new Map();
      edits = new Map();
    },
  };
}
