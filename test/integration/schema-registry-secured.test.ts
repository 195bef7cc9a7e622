/**
 * The schema registry over HTTPS with basic auth. The registry is the real one (Apicurio Registry's
 * Confluent API, scripts/registry.sh, or SCHEMA_REGISTRY_URL); in front of it runs what a managed
 * registry puts there: a TLS endpoint with the stack's throw-away certificate (SAN 127.0.0.1) that
 * wants HTTP basic auth, passing every request on unchanged. The adapter must trust the private CA
 * (registryCaFile), send the credentials, and tell refused credentials (REGISTRY_AUTH) from an
 * untrusted certificate or an unreachable host (REGISTRY_UNAVAILABLE) at startup.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createSchemaRegistry } from '../../src/adapters/schema-registry.ts';
import { securedListener } from '../support/secured-stack.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const registryScript = (command: 'up' | 'down' | 'status' | 'url') =>
  spawnSync('bash', ['scripts/registry.sh', command], { cwd: repoRoot, encoding: 'utf8', timeout: 600_000 });

const USER = 'ln-registry';
const PASSWORD = 'registry-pa55-for-tests';

describe('schema registry over HTTPS with basic auth', () => {
  const stack = inject('stack');
  let upstream = process.env.SCHEMA_REGISTRY_URL ?? '';
  let startedHere = false;
  let front: Server;
  let frontUrl = '';
  let ca: string[];
  let untrustedCa: string[];

  beforeAll(async () => {
    const secured = await securedListener(stack);
    const tlsDir = dirname(secured.caFile);
    ca = [readFileSync(secured.caFile, 'utf8')];
    untrustedCa = [readFileSync(secured.untrustedCaFile, 'utf8')];
    if (upstream === '') {
      const wasUp = registryScript('status').status === 0;
      const up = registryScript('up');
      if (up.status !== 0)
        throw new Error(`scripts/registry.sh up failed (exit ${up.status}):\n${up.stdout}\n${up.stderr}`);
      startedHere = !wasUp;
      upstream = registryScript('url').stdout.trim();
    }
    const target = new URL(upstream.replace(/\/+$/, ''));
    const expected = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
    front = createServer(
      { key: readFileSync(join(tlsDir, 'broker.key')), cert: readFileSync(join(tlsDir, 'broker.pem')) },
      (req, res) => {
        if (req.headers.authorization !== expected) {
          res.writeHead(401, {
            'content-type': 'application/json',
            'www-authenticate': 'Basic realm="registry"',
          });
          res.end('{"error_code":401,"message":"Unauthorized"}');
          return;
        }
        const { authorization: _auth, host: _host, ...headers } = req.headers;
        const forward = httpRequest(
          {
            host: target.hostname,
            port: target.port,
            method: req.method,
            path: `${target.pathname}${req.url}`,
            headers,
          },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        forward.on('error', (error) => {
          res.writeHead(502);
          res.end(error.message);
        });
        req.pipe(forward);
      },
    );
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    frontUrl = `https://127.0.0.1:${(front.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    if (front !== undefined) await new Promise<void>((resolve) => front.close(() => resolve()));
    if (startedHere) registryScript('down');
  });

  it('checks in and decodes through HTTPS with the private CA and the credentials', async () => {
    // Registered directly at the registry, as a producer inside the platform would.
    const producer = new SchemaRegistry({ host: upstream });
    const subject = `ln-secured-${process.pid}-${Date.now().toString(36)}-value`;
    const schema = {
      type: 'record',
      name: 'Probe',
      namespace: 'ln.test',
      fields: [{ name: 'id', type: 'string' }],
    };
    const { id } = await producer.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(schema) },
      { subject },
    );
    const encoded = await producer.encode(id, { id: 'L-42' });

    const registry = createSchemaRegistry({
      host: frontUrl,
      auth: { username: USER, password: PASSWORD },
      ca,
    });
    await expect(registry.check()).resolves.toBeUndefined();
    await expect(registry.decode(encoded)).resolves.toEqual({ id: 'L-42' });
    await expect(registry.rawSchema?.(id)).resolves.toMatchObject({ type: 'AVRO' });
  });

  it('stops on refused credentials (REGISTRY_AUTH), naming the registry but not the password', async () => {
    const registry = createSchemaRegistry({
      host: frontUrl,
      auth: { username: USER, password: 'wrong-password' },
      ca,
    });
    const error = await registry.check().catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'REGISTRY_AUTH',
      disposition: 'stop',
      message: `the schema registry at ${frontUrl} refused the credentials (HTTP 401)`,
    });
    const noAuth = createSchemaRegistry({ host: frontUrl, ca });
    await expect(noAuth.check()).rejects.toMatchObject({ code: 'REGISTRY_AUTH' });
  });

  it('refuses a certificate its CA bundle does not trust (REGISTRY_UNAVAILABLE at startup)', async () => {
    for (const bundle of [untrustedCa, undefined]) {
      const registry = createSchemaRegistry({
        host: frontUrl,
        auth: { username: USER, password: PASSWORD },
        ...(bundle === undefined ? {} : { ca: bundle }),
        retries: 0,
      });
      const error = (await registry.check().catch((e: unknown) => e)) as Error & { code: string };
      expect(error.code).toBe('REGISTRY_UNAVAILABLE');
      expect(error.message).toMatch(/certificate/);
      expect(error.message).not.toContain(PASSWORD);
    }
  });
});
