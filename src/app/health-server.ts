/**
 * One HTTP port for the orchestrator and Prometheus (node:http, no framework):
 * - GET /healthz  200 while the process runs (liveness: restart only a wedged process).
 * - GET /readyz   200 when the consumer has joined its group and is not stalled, else 503 with why.
 * - GET /metrics  the prom-client registry in Prometheus text format.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StoreStatus } from '../ports/index.ts';
import type { DeadLetterBlock } from './dead-letter-guard.ts';
import type { LoopStatus } from './record-loop.ts';

export interface Readiness {
  ready: boolean;
  /** Why not, or 'ok'. */
  reason: string;
  status: LoopStatus;
  /**
   * The shared store. Reported, not judged: a store that is gone does not make the replica unready
   * (it keeps delivering on its local pace share; restarting it would not bring the store back).
   */
  store?: StoreStatus;
  /** Dead-letter topics that refuse writes (the cause, since when, the record held uncommitted). */
  deadLetter?: DeadLetterBlock[];
}

/** Pure: joined, not stopping, and no record in flight for `stallAfterMs` without any finishing. */
export function assessReadiness(status: LoopStatus, stallAfterMs: number): Readiness {
  if (status.stopping) return { ready: false, reason: 'stopping', status };
  if (!status.joined) return { ready: false, reason: 'not a member of the consumer group', status };
  if (status.stalledForMs >= stallAfterMs) {
    return {
      ready: false,
      reason: `no record finished for ${Math.round(status.stalledForMs / 1000)} s`,
      status,
    };
  }
  return { ready: true, reason: 'ok', status };
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
}

export interface HealthServer {
  /** http://host:port (127.0.0.1 when bound to all interfaces). */
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startHealthServer(opts: HealthServerOptions): Promise<HealthServer> {
  const send = (res: ServerResponse, status: number, type: string, body: string): void => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
    res.end(body);
  };
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
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
