/**
 * A local stand-in for Slack's Web API, for tests and the demo: chat.postMessage, auth.test and
 * conversations.list under /api/, answering as Slack does (HTTP 200 with ok:false and Slack's error
 * codes; HTTP 429 with Retry-After in whole seconds past the pace). Point @slack/web-api at it with
 * slackApiUrl = <url>/api/. Control and inspection live under /_standin/, the preview page at /.
 *
 *   POST   /_standin/fail      {mode:"status",status:503,forMs} | {mode:"hang",forMs}
 *                              | {mode:"error",error:"channel_not_found",channel?,count?,forMs?}
 *   DELETE /_standin/fail      clear all failure modes
 *   GET    /_standin/messages  ?channel=<id or name>  accepted messages, oldest first
 *   DELETE /_standin/messages  forget messages, accept times, 429 counts and pace state
 *   GET    /_standin/stats     429 counts, accepted counts, max per second, pace violations
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createPaceWindow, maxInAnyWindow, type PaceWindow, paceViolation } from '../../src/delivery/pace.ts';
import {
  defaultChannels,
  defaultStandinToken,
  type FailRequest,
  parseFail,
  type StandinChannel,
} from './options.ts';
import { previewPage } from './preview.ts';
import { checkPostMessage } from './validate.ts';

export { defaultChannels, defaultStandinToken, type FailRequest, parseFail, type StandinChannel };

export interface StandinMessage {
  /** Channel id. */
  channel: string;
  channelName: string;
  ts: string;
  text: string;
  blocks: unknown[];
  /** now() when accepted. */
  receivedAt: number;
}

export interface StandinStats {
  calls: number;
  accepted: Record<string, number>;
  rateLimited: { total: number; byChannel: Record<string, number> };
  /** Most messages accepted in any 1000 ms, per channel. */
  maxPerSecond: Record<string, number>;
  /** First accepted message per channel that outran the pace (always null unless the stand-in is wrong). */
  paceViolations: Record<string, { index: number; at: number } | null>;
  pace: { perSecond: number; burst: number };
}

export interface SlackStandinOptions {
  /** Default 0 (any free port); main.ts uses 3999. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The one valid bot token. Default "xoxb-standin-token". */
  token?: string;
  channels?: StandinChannel[];
  /** Per-channel pace: perSecond sustained, burst at once after a quiet spell. Default 1 and 3. */
  pace?: { perSecond: number; burst: number };
  /** Time source for pace and timestamps; default Date.now. */
  now?: () => number;
  /** Called for every accepted message (main.ts prints them). */
  onMessage?: (message: StandinMessage) => void;
}

export interface SlackStandin {
  url: string;
  /** What to give @slack/web-api as slackApiUrl. */
  apiUrl: string;
  port: number;
  token: string;
  channels: Required<StandinChannel>[];
  messages(channel?: string): StandinMessage[];
  stats(): StandinStats;
  fail(request: FailRequest): void;
  clearFailures(): void;
  reset(): void;
  close(): Promise<void>;
}

const maxBodyBytes = 1_000_000;

type Body = Record<string, unknown>;

async function readBody(req: IncomingMessage): Promise<Body | 'invalid_json'> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) return 'invalid_json';
    chunks.push(chunk as Buffer);
  }
  const raw = Buffer.concat(chunks).toString('utf8');
  if (raw.trim() === '') return {};
  if ((req.headers['content-type'] ?? '').includes('application/json')) {
    try {
      const parsed: unknown = JSON.parse(raw);
      return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
        ? (parsed as Body)
        : 'invalid_json';
    } catch {
      return 'invalid_json';
    }
  }
  return Object.fromEntries(new URLSearchParams(raw));
}

/** One answer to an /api/ call. */
interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

const reply = (status: number, body: unknown): Reply => ({ status, body });

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const type = typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8';
  res.writeHead(status, { 'content-type': type, ...headers });
  res.end(text);
}

export async function startSlackStandin(opts: SlackStandinOptions = {}): Promise<SlackStandin> {
  const now = opts.now ?? Date.now;
  const token = opts.token ?? defaultStandinToken;
  const pace = opts.pace ?? { perSecond: 1, burst: 3 };
  const channels = (opts.channels ?? defaultChannels).map((c) => ({ archived: false, member: true, ...c }));
  let messages: StandinMessage[] = [];
  let gates = new Map<string, PaceWindow>();
  let rateLimited = new Map<string, number>();
  let calls = 0;
  let seq = 0;
  let failures: Array<FailRequest & { until: number; remaining: number }> = [];
  const hung = new Set<Socket>();

  const findChannel = (ref: string) => channels.find((c) => c.id === ref || c.name === ref.replace(/^#/, ''));
  const gateFor = (id: string): PaceWindow => {
    let gate = gates.get(id);
    if (gate === undefined) {
      gate = createPaceWindow({ cap: pace.perSecond, intervalMs: 1000, burst: pace.burst });
      gates.set(id, gate);
    }
    return gate;
  };
  const activeFailures = () => {
    const t = now();
    failures = failures.filter((f) => f.until > t && f.remaining > 0);
    return failures;
  };

  const postMessage = (body: Body): Reply => {
    const channel = typeof body.channel === 'string' ? findChannel(body.channel) : undefined;
    const injected = activeFailures().find(
      (f) => f.mode === 'error' && (f.channel === undefined || findChannel(f.channel)?.id === channel?.id),
    );
    if (injected !== undefined && injected.mode === 'error') {
      injected.remaining -= 1;
      return reply(200, { ok: false, error: injected.error });
    }
    if (channel === undefined) return reply(200, { ok: false, error: 'channel_not_found' });
    if (channel.archived) return reply(200, { ok: false, error: 'is_archived' });
    if (!channel.member) return reply(200, { ok: false, error: 'not_in_channel' });
    const gate = gateFor(channel.id);
    const wait = gate.delayAt(now());
    if (wait > 0) {
      rateLimited.set(channel.id, (rateLimited.get(channel.id) ?? 0) + 1);
      const retryAfter = String(Math.max(1, Math.ceil(wait / 1000)));
      return {
        status: 429,
        body: { ok: false, error: 'ratelimited' },
        headers: { 'retry-after': retryAfter },
      };
    }
    const rejection = checkPostMessage(body.text, body.blocks);
    if (rejection !== null) {
      const metadata =
        rejection.messages === undefined ? {} : { response_metadata: { messages: rejection.messages } };
      return reply(200, { ok: false, error: rejection.error, ...metadata });
    }
    const at = now();
    gate.record(at);
    seq += 1;
    const ts = `${Math.floor(at / 1000)}.${String(seq % 1_000_000).padStart(6, '0')}`;
    const blocks =
      typeof body.blocks === 'string'
        ? (JSON.parse(body.blocks) as unknown[])
        : ((body.blocks as unknown[]) ?? []);
    const text = typeof body.text === 'string' ? body.text : '';
    const message: StandinMessage = {
      channel: channel.id,
      channelName: channel.name,
      ts,
      text,
      blocks,
      receivedAt: at,
    };
    messages.push(message);
    opts.onMessage?.(message);
    return reply(200, {
      ok: true,
      channel: channel.id,
      ts,
      message: { type: 'message', text, blocks, bot_id: 'B0NOTIFIER', ts },
    });
  };

  const api = async (method: string, req: IncomingMessage): Promise<Reply> => {
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
    return reply(200, { ok: false, error: 'unknown_method' });
  };

  const stats = (): StandinStats => {
    const byChannel = new Map<string, number[]>();
    for (const m of messages)
      byChannel.set(m.channelName, [...(byChannel.get(m.channelName) ?? []), m.receivedAt]);
    const per = <T>(f: (times: number[]) => T) =>
      Object.fromEntries([...byChannel].map(([name, times]) => [name, f(times)]));
    const limit = { cap: pace.perSecond, intervalMs: 1000, burst: pace.burst };
    const named = [...rateLimited].map(([id, n]) => [channels.find((c) => c.id === id)?.name ?? id, n]);
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
    };
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
    if (path === '/_standin/stats' && req.method === 'GET') return send(res, 200, stats());
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
    if (path.startsWith('/api/')) {
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
      void api(path.slice('/api/'.length), req).then(
        (reply) => send(res, reply.status, reply.body, reply.headers),
        (e: unknown) => send(res, 500, String(e)),
      );
      return;
    }
    if (path === '/' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(previewPage(channels, messages, { rateLimited: stats().rateLimited.total }));
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
    messages: (channel) =>
      messages.filter((m) => channel === undefined || m.channel === channel || m.channelName === channel),
    stats,
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
      messages = [];
      gates = new Map();
      rateLimited = new Map();
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
