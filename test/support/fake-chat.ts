/**
 * A ChatDestination fake: records every call and can be scripted to fail on call N (1-based, counted
 * over all channels) with any SLACK_* error, built exactly as the real adapter builds them.
 *
 *   const chat = createFakeChat({ clock }).failOn(2, slackErrors.rateLimited(1000)).failOn(3, slackErrors.transient());
 */
import {
  slackAuth,
  slackPermanent,
  slackRateLimited,
  slackTransient,
} from '../../src/adapters/slack-chat.ts';
import type { NotifierError } from '../../src/domain/errors.ts';
import type { SlackPayload } from '../../src/domain/message.ts';
import type { ChatDestination, ChatFile, Clock } from '../../src/ports/index.ts';

/** The errors createSlackChat throws, for scripting. */
export const slackErrors = {
  rateLimited: (retryAfterMs = 1000): NotifierError => slackRateLimited(retryAfterMs),
  transient: (failure = 'http_503'): NotifierError =>
    slackTransient(failure, `fake Slack failure: ${failure}`),
  permanent: (slackError = 'channel_not_found', messages?: string[]): NotifierError =>
    slackPermanent(slackError, messages),
  auth: (slackError = 'invalid_auth'): NotifierError => slackAuth(slackError),
};

export interface FakeChatCall {
  /** 1-based call number over all channels. */
  n: number;
  channel: string;
  payload: SlackPayload;
  /** clock.now() when the call started (0 without a clock). */
  at: number;
  /** 'ok' or the error code thrown. */
  result: 'ok' | NotifierError['code'];
  ts?: string;
  /** The thread it replied in (post or upload with threadTs). */
  threadTs?: string;
  /** Set for update calls (chat.update): the ts of the message edited. */
  edited?: string;
  /** Set for upload calls: the file shared. */
  file?: ChatFile;
}

export interface FakeChat extends ChatDestination {
  readonly calls: FakeChatCall[];
  /** Makes call number `n` (1-based) throw `error`. Chainable. */
  failOn(n: number, error: NotifierError): FakeChat;
  /** Makes every call to `channel` from now on throw `error` (until cleared with `undefined`). */
  failChannel(channel: string, error: NotifierError | undefined): FakeChat;
  /** Calls that succeeded, optionally for one channel. */
  delivered(channel?: string): FakeChatCall[];
}

export interface FakeChatOptions {
  /** Stamps calls with clock.now() and, with latencyMs, sleeps on it. */
  clock?: Clock;
  /** How long each call takes (needs `clock`). Default 0. */
  latencyMs?: number;
  /** Failures by call number, same as failOn. */
  failures?: Record<number, NotifierError>;
  /** Edits messages (update, canUpdate), as Slack does: the channel answered as `C<name>`. Default false. */
  edits?: boolean;
}

/** The channel id the fake answers for a channel: "#sales-alerts" -> "CSALES-ALERTS"-like, stable. */
const idOf = (channel: string): string =>
  channel.startsWith('#')
    ? `C${channel
        .slice(1)
        .toUpperCase()
        .replace(/[^A-Z0-9]/g, '')}`
    : channel;

export function createFakeChat(opts: FakeChatOptions = {}): FakeChat {
  const failures = new Map<number, NotifierError>(
    Object.entries(opts.failures ?? {}).map(([n, e]) => [Number(n), e]),
  );
  const channelFailures = new Map<string, NotifierError>();
  const calls: FakeChatCall[] = [];
  const fake: FakeChat = {
    calls,
    failOn(n, error) {
      failures.set(n, error);
      return fake;
    },
    failChannel(channel, error) {
      if (error === undefined) channelFailures.delete(channel);
      else channelFailures.set(channel, error);
      return fake;
    },
    delivered: (channel) =>
      calls.filter((c) => c.result === 'ok' && (channel === undefined || c.channel === channel)),
    async post(channel, payload, options = {}) {
      const call = await record(channel, payload, options.threadTs);
      return opts.edits === true ? { ts: call.ts ?? '', channel: idOf(channel) } : { ts: call.ts ?? '' };
    },
    async upload(channel, file, options = {}) {
      const call = await record(channel, { text: file.title, blocks: [] }, options.threadTs, file);
      return { fileId: `F${String(call.n).padStart(8, '0')}` };
    },
  };

  if (opts.edits === true) {
    fake.canUpdate = () => true;
    fake.update = async (channel, ts, payload) => {
      const call = await record(channel, payload, undefined, undefined, ts);
      return { ts: call.edited ?? ts };
    };
  }

  /** One call of any kind: numbered, stamped, failed as scripted. */
  const record = async (
    channel: string,
    payload: SlackPayload,
    threadTs: string | undefined,
    file?: ChatFile,
    edited?: string,
  ): Promise<FakeChatCall> => {
    const n = calls.length + 1;
    const call: FakeChatCall = {
      n,
      channel,
      payload,
      at: opts.clock?.now() ?? 0,
      result: 'ok',
      ...(threadTs === undefined ? {} : { threadTs }),
      ...(file === undefined ? {} : { file }),
      ...(edited === undefined ? {} : { edited }),
    };
    calls.push(call);
    if (opts.clock !== undefined && (opts.latencyMs ?? 0) > 0) await opts.clock.sleep(opts.latencyMs ?? 0);
    const error = failures.get(n) ?? channelFailures.get(channel);
    if (error !== undefined) {
      call.result = error.code;
      throw error;
    }
    call.ts = `${Math.floor(call.at / 1000)}.${String(n).padStart(6, '0')}`;
    return call;
  };
  return fake;
}
