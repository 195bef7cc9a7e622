/**
 * A local stand-in for Slack's Web API, for tests and the demo: chat.postMessage (with thread_ts),
 * chat.update (chat-update.ts), auth.test, conversations.list, clicks sent as signed block_actions
 * payloads with their response_url answers (interactivity.ts), and the external file upload flow (files.getUploadURLExternal, a
 * POST of the bytes to /upload/v1/<file id>, files.completeUploadExternal; see uploads.ts) under
 * /api/, answering as Slack does (HTTP 200 with ok:false and Slack's error codes; HTTP 429 with
 * Retry-After in whole seconds past the pace). Point @slack/web-api at it with
 * slackApiUrl = <url>/api/. Control and inspection live under /_standin/, the preview page at /.
 *
 * A file shared into a channel is a message there (Slack shows it as one), so it counts against the
 * channel's message pace and is answered 429 like a message past it. Slack rates the files.* methods
 * by tier rather than per channel; counting shares per channel is the conservative reading.
 *
 *   POST   /_standin/fail      {mode:"status",status:503,forMs} | {mode:"hang",forMs}
 *                              | {mode:"error",error:"channel_not_found",channel?,count?,forMs?,method?}
 *   DELETE /_standin/fail      clear all failure modes
 *   GET    /_standin/messages  ?channel=<id or name>  accepted messages (replies and file shares
 *                              included, with threadTs and files; edited ones with editedAt and
 *                              their history), oldest first
 *   POST   /_standin/say       {channel, text, user?}  a person's message (the bot cannot edit it)
 *   POST   /_standin/click     {url, channel, ts, actionId, value?, user?}  a click, sent to url
 *   POST   /_standin/respond/<id>  a response_url (the app answers a click here)
 *   GET    /_standin/responses the answers to response_urls, oldest first
 *   GET    /_standin/lost      replies whose thread_ts named no message (Slack accepts and hides them)
 *   GET    /_standin/files/<id>  an uploaded file's bytes
 *   DELETE /_standin/messages  forget messages, files, accept times, 429 counts and pace state
 *   GET    /_standin/stats     429 counts, accepted counts, max per second, pace violations, files
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createChannelLog, type StandinMessage, type StandinStats } from './channel-log.ts';
import { createChatUpdate } from './chat-update.ts';
import { checkThreadTs } from './files.ts';
import { isJson, readBody, readRaw, send } from './http-io.ts';
import {
  type ClickRequest,
  type ClickResult,
  createInteractivity,
  type StandinResponse,
} from './interactivity.ts';
import {
  defaultChannels,
  defaultStandinSigningSecret,
  defaultStandinToken,
  type FailRequest,
  parseFail,
  type StandinChannel,
} from './options.ts';
import { peopleRoute } from './people-routes.ts';
import { previewPage } from './preview.ts';
import { createUploads, type Reply, rejected, reply, type StandinFile } from './uploads.ts';
import { checkPostMessage } from './validate.ts';

export {
  defaultChannels,
  defaultStandinSigningSecret,
  defaultStandinToken,
  type FailRequest,
  parseFail,
  type StandinChannel,
  type StandinFile,
  type StandinMessage,
  type StandinStats,
};

export interface SlackStandinOptions {
  /** Default 0 (any free port); main.ts uses 3999. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The one valid bot token. Default "xoxb-standin-token". */
  token?: string;
  /** The app signing secret clicks are signed with. Default defaultStandinSigningSecret. */
  signingSecret?: string;
  /** How long a click waits for the app's answer before it counts as timed out. Default 3000 (Slack's). */
  interactionTimeoutMs?: number;
  channels?: StandinChannel[];
  /** Per-channel pace: perSecond sustained, burst at once after a quiet spell. Default 1 and 3. */
  pace?: { perSecond: number; burst: number };
  /** chat.update's workspace-wide pace (Tier 3). Default 50 a minute, bursts of 50. */
  updatePace?: { perMinute: number; burst: number };
  /** Time source for pace and timestamps; default Date.now. */
  now?: () => number;
  /** Called for every accepted message (main.ts prints them). */
  onMessage?: (message: StandinMessage) => void;
  /** Largest file files.getUploadURLExternal accepts (file_upload_size_restricted past it). Default 20 MB. */
  maxFileBytes?: number;
}

export interface SlackStandin {
  url: string;
  /** What to give @slack/web-api as slackApiUrl. */
  apiUrl: string;
  port: number;
  token: string;
  channels: Required<StandinChannel>[];
  /** Messages shown in the channel (or all), oldest first: posts, replies and file shares. */
  messages(channel?: string): StandinMessage[];
  /** Replies accepted with a thread_ts that named no message: Slack answers ok and shows them nowhere. */
  lost(): StandinMessage[];
  /** A person's message in the channel (id or name), default user U0SOMEONE: chat.update refuses it. */
  say(channel: string, text: string, user?: string): StandinMessage;
  /** A click on a message's button or overflow option, POSTed to request.url as Slack sends it. */
  click(request: ClickRequest): Promise<ClickResult>;
  /** What the app answered to response_urls, oldest first. */
  responses(): StandinResponse[];
  stats(): StandinStats;
  fail(request: FailRequest): void;
  clearFailures(): void;
  reset(): void;
  close(): Promise<void>;
}

type Body = Record<string, unknown>;

export async function startSlackStandin(opts: SlackStandinOptions = {}): Promise<SlackStandin> {
  const now = opts.now ?? Date.now;
  const token = opts.token ?? defaultStandinToken;
  const pace = opts.pace ?? { perSecond: 1, burst: 3 };
  const channels = (opts.channels ?? defaultChannels).map((c) => ({ archived: false, member: true, ...c }));
  const maxFileBytes = opts.maxFileBytes ?? 20_000_000;
  const log = createChannelLog({ now, pace, channels, onMessage: opts.onMessage });
  let calls = 0;
  let failures: Array<FailRequest & { until: number; remaining: number }> = [];
  const hung = new Set<Socket>();

  const findChannel = (ref: string) => channels.find((c) => c.id === ref || c.name === ref.replace(/^#/, ''));
  const activeFailures = () => {
    const t = now();
    failures = failures.filter((f) => f.until > t && f.remaining > 0);
    return failures;
  };

  /** An injected error aimed at this method (and channel), used up by one; null when none applies. */
  const injectedError = (method: string, channelRef: unknown): Reply | null => {
    const id = typeof channelRef === 'string' ? findChannel(channelRef)?.id : undefined;
    const injected = activeFailures().find(
      (f) =>
        f.mode === 'error' &&
        (f.method ?? 'chat.postMessage') === method &&
        (f.channel === undefined || findChannel(f.channel)?.id === id),
    );
    if (injected === undefined || injected.mode !== 'error') return null;
    injected.remaining -= 1;
    return reply(200, { ok: false, error: injected.error });
  };

  const postMessage = (body: Body): Reply => {
    const channel = typeof body.channel === 'string' ? findChannel(body.channel) : undefined;
    const injected = injectedError('chat.postMessage', body.channel);
    if (injected !== null) return injected;
    if (channel === undefined) return reply(200, { ok: false, error: 'channel_not_found' });
    if (channel.archived) return reply(200, { ok: false, error: 'is_archived' });
    if (!channel.member) return reply(200, { ok: false, error: 'not_in_channel' });
    const limited = log.paced(channel.id);
    if (limited !== null) return limited;
    const rejection = checkPostMessage(body.text, body.blocks) ?? checkThreadTs(body.thread_ts);
    if (rejection !== null) return rejected(rejection);
    const blocks =
      typeof body.blocks === 'string'
        ? (JSON.parse(body.blocks) as unknown[])
        : ((body.blocks as unknown[]) ?? []);
    const text = typeof body.text === 'string' ? body.text : '';
    const threadTs =
      body.thread_ts === undefined || body.thread_ts === '' ? undefined : String(body.thread_ts);
    const { ts } = log.record(channel, { text, blocks, ...(threadTs === undefined ? {} : { threadTs }) });
    return reply(200, {
      ok: true,
      channel: channel.id,
      ts,
      message: {
        type: 'message',
        text,
        blocks,
        bot_id: 'B0NOTIFIER',
        ts,
        ...(threadTs === undefined ? {} : { thread_ts: threadTs }),
      },
    });
  };

  const chatUpdate = createChatUpdate({
    now,
    channels,
    log,
    ...(opts.updatePace === undefined ? {} : { pace: opts.updatePace }),
    injected: (channel) => injectedError('chat.update', channel),
  });

  const interactivity = createInteractivity({
    now,
    url: () => handle.url,
    signingSecret: opts.signingSecret ?? defaultStandinSigningSecret,
    ...(opts.interactionTimeoutMs === undefined ? {} : { timeoutMs: opts.interactionTimeoutMs }),
    findChannel,
    log,
  });

  const uploads = createUploads({
    url: () => handle.url,
    maxFileBytes,
    channel: (id) => channels.find((c) => c.id === id),
    share(channelId, files, text, threadTs) {
      const channel = channels.find((c) => c.id === channelId);
      if (channel === undefined) return reply(200, { ok: false, error: 'channel_not_found' });
      const limited = log.paced(channel.id);
      if (limited !== null) return limited;
      log.record(channel, { text, blocks: [], files, ...(threadTs === undefined ? {} : { threadTs }) });
      return null;
    },
  });

  const api = async (method: string, req: IncomingMessage): Promise<Reply> => {
    const json = isJson(req);
    const body = await readBody(req);
    if (body === 'invalid_json') return reply(200, { ok: false, error: 'invalid_json' });
    const auth = req.headers.authorization;
    const given = auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length) : body.token;
    if (given === undefined || given === '') return reply(200, { ok: false, error: 'not_authed' });
    if (given !== token) return reply(200, { ok: false, error: 'invalid_auth' });
    if (method === 'auth.test') {
      return reply(200, {
        ok: true,
        url: `${handle.url}/`,
        team: 'Stand-in Workspace',
        user: 'listing-notifier',
        team_id: 'T0STANDIN',
        user_id: 'U0NOTIFIER',
        bot_id: 'B0NOTIFIER',
        is_enterprise_install: false,
      });
    }
    if (method === 'conversations.list') {
      const excludeArchived = body.exclude_archived === true || body.exclude_archived === 'true';
      const list = channels
        .filter((c) => !(excludeArchived && c.archived))
        .map((c) => ({
          id: c.id,
          name: c.name,
          is_channel: true,
          is_private: false,
          is_archived: c.archived,
          is_member: c.member,
        }));
      return reply(200, { ok: true, channels: list, response_metadata: { next_cursor: '' } });
    }
    if (method === 'chat.postMessage') return postMessage(body);
    if (method === 'chat.update') return chatUpdate(body);
    if (method === 'files.getUploadURLExternal') {
      return injectedError(method, undefined) ?? uploads.ticket(body, json);
    }
    if (method === 'files.completeUploadExternal') {
      return injectedError(method, body.channel_id) ?? uploads.complete(body);
    }
    return reply(200, { ok: false, error: 'unknown_method' });
  };

  const control = async (path: string, req: IncomingMessage, res: ServerResponse, query: URLSearchParams) => {
    if (path === '/_standin/messages' && req.method === 'GET') {
      const ref = query.get('channel');
      const id = ref === null ? undefined : (findChannel(ref)?.id ?? ref);
      return send(res, 200, { messages: handle.messages(id) });
    }
    if (path === '/_standin/messages' && req.method === 'DELETE') {
      handle.reset();
      return send(res, 200, { ok: true });
    }
    if (path === '/_standin/stats' && req.method === 'GET') return send(res, 200, handle.stats());
    if (await peopleRoute(path, req, res, { standin: handle, interactivity })) return;
    if (path === '/_standin/lost' && req.method === 'GET') return send(res, 200, { messages: log.lost() });
    if (path.startsWith('/_standin/files/') && req.method === 'GET') {
      const file = uploads.bytes(decodeURIComponent(path.slice('/_standin/files/'.length)));
      if (file === undefined) return send(res, 404, { ok: false, error: 'no such file' });
      res.writeHead(200, {
        'content-type': file.mimetype,
        'content-length': String(file.bytes.length),
        // RFC 6266: the name percent-encoded, so a quote or newline in it cannot break the header.
        'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(file.name)}`,
      });
      res.end(file.bytes);
      return;
    }
    if (path === '/_standin/fail' && req.method === 'DELETE') {
      handle.clearFailures();
      return send(res, 200, { ok: true });
    }
    if (path === '/_standin/fail' && req.method === 'POST') {
      const body = await readBody(req);
      const request = body === 'invalid_json' ? undefined : parseFail(body);
      if (request === undefined) return send(res, 400, { ok: false, error: 'bad fail request' });
      handle.fail(request);
      return send(res, 200, { ok: true });
    }
    return send(res, 404, { ok: false, error: 'not found' });
  };

  const http = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://standin');
    const path = url.pathname;
    const upload = path.startsWith('/upload/v1/') && req.method === 'POST';
    if (path.startsWith('/api/') || upload) {
      calls += 1;
      const outage = activeFailures().find((f) => f.mode === 'status' || f.mode === 'hang');
      if (outage?.mode === 'hang') {
        // Never answered: when the hang ends, the connection drops and nothing was posted.
        hung.add(req.socket);
        setTimeout(
          () => {
            hung.delete(req.socket);
            req.socket.destroy();
          },
          Math.min(outage.until - now(), 2 ** 31 - 1),
        ).unref();
        return;
      }
      if (outage?.mode === 'status')
        return send(res, outage.status, `stand-in failing with HTTP ${outage.status}`);
      const answer = upload
        ? readRaw(req, maxFileBytes * 2 + 100_000).then((raw) =>
            raw === undefined
              ? reply(413, 'upload larger than the declared length')
              : uploads.receive(
                  decodeURIComponent(path.slice('/upload/v1/'.length)),
                  raw,
                  req.headers['content-type'],
                ),
          )
        : api(path.slice('/api/'.length), req);
      void answer.then(
        (reply) => send(res, reply.status, reply.body, reply.headers),
        (e: unknown) => send(res, 500, String(e)),
      );
      return;
    }
    if (path === '/' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(
        previewPage(channels, log.messages(), {
          rateLimited: handle.stats().rateLimited.total,
          lost: log.lost(),
          ephemeral: interactivity
            .responses()
            .filter((r) => r.responseType === 'ephemeral' && !r.replaceOriginal),
        }),
      );
      return;
    }
    void control(path, req, res, url.searchParams).catch((e: unknown) => send(res, 500, String(e)));
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const address = http.address() as AddressInfo;
  const url = `http://${opts.host ?? '127.0.0.1'}:${address.port}`;

  const handle: SlackStandin = {
    url,
    apiUrl: `${url}/api/`,
    port: address.port,
    token,
    channels,
    messages: (channel) => log.messages(channel),
    lost: () => log.lost(),
    say(channelRef, text, user = 'U0SOMEONE') {
      const channel = findChannel(channelRef);
      if (channel === undefined) throw new Error(`no stand-in channel ${channelRef}`);
      return log.say(channel, text, user);
    },
    click: (request) => interactivity.click(request),
    responses: () => interactivity.responses(),
    stats: () =>
      log.stats({
        calls,
        filesNotCompleted: uploads.notCompleted(),
        updatesRateLimited: chatUpdate.rateLimited(),
      }),
    fail(request) {
      const until = request.forMs === undefined ? Number.POSITIVE_INFINITY : now() + request.forMs;
      const count =
        request.mode === 'error' ? (request.count ?? (request.forMs === undefined ? 1 : Infinity)) : Infinity;
      failures.push({ ...request, until, remaining: count });
    },
    clearFailures() {
      failures = [];
    },
    reset() {
      log.reset();
      uploads.reset();
      chatUpdate.reset();
      interactivity.reset();
      calls = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of hung) socket.destroy();
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  };
  return handle;
}
