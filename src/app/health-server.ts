/**
 * One HTTP port for the orchestrator and Prometheus (node:http, no framework):
 * - GET /healthz  200 while the process runs (liveness: restart only a wedged process).
 * - GET /readyz   200 when the consumer has joined its group, hears from Kafka, can write dead letters
 *                 and is not stalled; else 503 with why (assessReadiness).
 * - GET /metrics  the prom-client registry in Prometheus text format.
 * - POST /slack/interactivity  Slack's block_actions (interactivity.ts), when a signing secret is
 *                 configured; 404 without one.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KafkaContact, StoreStatus } from '../ports/index.ts';
import { blockedReason, type DeadLetterBlock } from './dead-letter-guard.ts';
import type { LoopStatus } from './record-loop.ts';

export interface Readiness {
  ready: boolean;
  /** Why not (every cause that holds, joined by "; "), or 'ok'. */
  reason: string;
  status: LoopStatus;
  /**
   * The shared store. Reported, not judged: a store that is gone does not make the replica unready
   * (it keeps delivering on its local pace share; restarting it would not bring the store back).
   */
  store?: StoreStatus;
  /** Dead-letter topics that refuse writes (the cause, since when, the record held uncommitted). */
  deadLetter?: DeadLetterBlock[];
  /** When Kafka last answered the consumer, and the last error seen. */
  kafka?: { lastContactAgoMs: number; lastError?: { message: string; agoMs: number } };
}

/** What readiness is judged on besides the loop's own status; each part optional (tests, fakes). */
export interface ReadinessFacts {
  nowMs?: number;
  /** Why the source does not consume yet (topics missing: kafka-source.ts notReadyReason). */
  waiting?: string;
  /** Dead-letter topics refusing writes past the guard's bounds (dead-letter-guard.ts). */
  deadLetter?: readonly DeadLetterBlock[];
  /** When Kafka last answered (kafka-contact.ts). */
  kafka?: KafkaContact;
  /** Silence from Kafka that makes the replica unready. Default 20 000 ms (about 6 heartbeats). */
  kafkaSilentAfterMs?: number;
}

const seconds = (ms: number): string => `${Math.round(ms / 1000)} s`;

/** The Kafka part of the reason: how long since a broker answered, and the last error since then. */
export function kafkaSilenceReason(kafka: KafkaContact, nowMs: number): string {
  const error = kafka.lastError;
  const last =
    error !== undefined && error.atMs >= kafka.lastContactMs
      ? `last error ${seconds(nowMs - error.atMs)} ago: ${error.message}`
      : 'no error yet: requests are waiting for an answer';
  return `kafka: no heartbeat, fetch or other request answered for ${seconds(nowMs - kafka.lastContactMs)} (${last})`;
}

/**
 * Pure: ready when joined, not stopping, Kafka answering, no dead-letter topic refusing writes, and no
 * record in flight for `stallAfterMs` without any finishing. Not ready says every cause that holds,
 * the likeliest root first (a Kafka cut also loses the membership and fails dead-letter writes).
 */
export function assessReadiness(
  status: LoopStatus,
  stallAfterMs: number,
  facts: ReadinessFacts = {},
): Readiness {
  const nowMs = facts.nowMs ?? 0;
  const kafka =
    facts.kafka === undefined
      ? undefined
      : {
          lastContactAgoMs: Math.max(0, nowMs - facts.kafka.lastContactMs),
          ...(facts.kafka.lastError === undefined
            ? {}
            : {
                lastError: {
                  message: facts.kafka.lastError.message,
                  agoMs: nowMs - facts.kafka.lastError.atMs,
                },
              }),
        };
  const blocks = facts.deadLetter ?? [];
  const reported = {
    status,
    ...(blocks.length > 0 ? { deadLetter: [...blocks] } : {}),
    ...(kafka === undefined ? {} : { kafka }),
  };
  if (status.stopping) return { ready: false, reason: 'stopping', ...reported };
  const reasons: string[] = [];
  if (facts.waiting !== undefined) reasons.push(facts.waiting);
  // While waiting for topics the consumer does not run (no heartbeats): the wait is the reason.
  else if (
    facts.kafka !== undefined &&
    nowMs - facts.kafka.lastContactMs >= (facts.kafkaSilentAfterMs ?? 20_000)
  )
    reasons.push(kafkaSilenceReason(facts.kafka, nowMs));
  if (blocks.length > 0) reasons.push(blockedReason(blocks, nowMs));
  if (facts.waiting === undefined && !status.joined) reasons.push('not a member of the consumer group');
  if (status.stalledForMs >= stallAfterMs)
    reasons.push(`no record finished for ${seconds(status.stalledForMs)}`);
  return reasons.length === 0
    ? { ready: true, reason: 'ok', ...reported }
    : { ready: false, reason: reasons.join('; '), ...reported };
}

/** What /metrics needs of a prom-client Registry. */
export interface MetricsText {
  contentType: string;
  metrics(): Promise<string>;
}

export interface HealthServerOptions {
  /** http.host; default "0.0.0.0". */
  host: string;
  /** http.port; 0 picks a free port (tests). */
  port: number;
  readiness(): Readiness;
  metrics: MetricsText;
  /** POST /slack/interactivity (interactivity.ts handle). Default: none, and the path is 404. */
  interactivity?: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
}

export interface HealthServer {
  /** http://host:port (127.0.0.1 when bound to all interfaces). */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Where Slack's interactivity requests come (the app's request URL: slack/manifest.yaml). */
export const INTERACTIVITY_PATH = '/slack/interactivity';

export async function startHealthServer(opts: HealthServerOptions): Promise<HealthServer> {
  const send = (res: ServerResponse, status: number, type: string, body: string): void => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
    res.end(body);
  };
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === INTERACTIVITY_PATH)
      return opts.interactivity === undefined
        ? send(res, 404, 'text/plain', 'not found\n')
        : opts.interactivity(req, res);
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return send(res, 405, 'text/plain', 'method not allowed\n');
    if (path === '/healthz') return send(res, 200, 'text/plain', 'ok\n');
    if (path === '/readyz') {
      const r = opts.readiness();
      const body = {
        ready: r.ready,
        reason: r.reason,
        joined: r.status.joined,
        inFlight: r.status.inFlight,
        stalledForMs: r.status.stalledForMs,
        assigned: r.status.assigned,
        paused: r.status.paused,
        ...(r.store === undefined ? {} : { store: r.store }),
        ...(r.deadLetter === undefined ? {} : { deadLetter: r.deadLetter }),
        ...(r.kafka === undefined ? {} : { kafka: r.kafka }),
      };
      return send(res, r.ready ? 200 : 503, 'application/json', `${JSON.stringify(body)}\n`);
    }
    if (path === '/metrics') return send(res, 200, opts.metrics.contentType, await opts.metrics.metrics());
    return send(res, 404, 'text/plain', 'not found\n');
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, 'text/plain', `${(error as Error).message ?? 'error'}\n`);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
