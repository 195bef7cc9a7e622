/**
 * What the Teams and webhook stand-ins share: a small HTTP server on 127.0.0.1 that reads POST bodies,
 * and a token-bucket pace that answers 429 with Retry-After (seconds, as Teams and most webhook
 * receivers send it) when a sender goes faster.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Pace {
  /** Requests per second, refilled continuously. */
  perSecond: number;
  /** Bucket size. */
  burst: number;
}

/** A token bucket over wall time (a stand-in, not a pipeline stage). true when the request may pass. */
export function createPace(pace: Pace | undefined, now: () => number = Date.now) {
  let tokens = pace?.burst ?? 0;
  let at = now();
  return {
    take(): { ok: true } | { ok: false; retryAfterSeconds: number } {
      if (pace === undefined) return { ok: true };
      const t = now();
      tokens = Math.min(pace.burst, tokens + ((t - at) / 1000) * pace.perSecond);
      at = t;
      if (tokens >= 1) {
        tokens -= 1;
        return { ok: true };
      }
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / pace.perSecond)) };
    },
  };
}

export type Handler = (req: IncomingMessage, body: Buffer, res: ServerResponse) => void;

export async function listen(handler: Handler, port = 0): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handler(req, Buffer.concat(chunks), res));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function answer(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}
