/**
 * A redis-server of a test's own, on a free port above 20000 (never the machine's 6379), without
 * persistence: stopping and starting it loses every key, as a Redis restart without AOF/RDB does.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createRedisStore } from '../../src/adapters/redis-store.ts';
import { noopLogger } from '../../src/ports/index.ts';
import { waitUntil } from './stack.ts';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export interface OwnRedis {
  port: number;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function ownRedis(dir: string): Promise<OwnRedis> {
  let port = 0;
  while (port <= 20_000) port = await freePort();
  let child: ChildProcess | undefined;
  return {
    port,
    async start() {
      child = spawn(
        'redis-server',
        ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--dir', dir],
        {
          stdio: 'ignore',
        },
      );
      await waitUntil('redis-server to accept connections', async () => {
        const probe = createRedisStore({
          url: `redis://127.0.0.1:${port}`,
          keyPrefix: 'probe',
          ledgerRetentionMs: 1,
          logger: noopLogger,
        });
        try {
          return await waitFor(() => probe.connected(), 500);
        } finally {
          await probe.close();
        }
      });
    },
    async stop() {
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      child?.kill('SIGTERM');
      await exited;
    },
  };
}

async function waitFor(condition: () => boolean, ms: number): Promise<true | undefined> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (condition()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return undefined;
}
