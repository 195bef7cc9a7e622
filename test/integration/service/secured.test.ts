/**
 * The service through the stack's SASL_SSL listener (scripts/stack.sh: a throw-away CA, a client
 * certificate and a SCRAM user): an update in Postgres reaches the Slack stand-in with TLS, a client
 * certificate and SCRAM-SHA-512; PLAIN and SCRAM-SHA-256 authenticate too. A wrong password, a CA that
 * does not trust the broker, a wrong server name, a file that is not a CA, and an unreachable registry
 * each stop `listing-notifier run` with one line and their own exit code (src/cli/run.ts).
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { checkBrokerTls, createKafkaClient } from '../../../src/adapters/kafka-client.ts';
import { resolveConnections } from '../../../src/config/connections.ts';
import { type Config, parseConfig } from '../../../src/config/index.ts';
import { type SecuredListener, securedListener } from '../../support/secured-stack.ts';
import { connectPg } from '../../support/stack.ts';
import {
  type ChildService,
  deleteListings,
  insertListings,
  messagesFor,
  type SlackStandin,
  seedGroupAtEnd,
  startChild,
  startJoinedChild,
  startSlackStandin,
  testConfig,
  uniqueGroupId,
  waitUntil,
} from './harness.ts';

const ID = 818_001;

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('service: secured Kafka (SASL_SSL)', () => {
  const stack = inject('stack');
  let db: pg.Client;
  let standin: SlackStandin;
  let secured: SecuredListener;
  let dir: string;

  /** The test config pointed at the SASL_SSL listener, with `source` overrides, validated like a file. */
  const securedConfig = (groupId: string, source: Record<string, unknown>): Config => {
    const base = testConfig(stack, standin, { groupId, pace: { perSecond: 5, burst: 5 } });
    return parseConfig(
      JSON.stringify({ ...base, source: { ...base.source, brokers: secured.brokers, ...source } }),
      'secured-config.json',
    );
  };
  const scram512 = () => ({
    tls: { caFile: secured.caFile, certFile: secured.clientCertFile, keyFile: secured.clientKeyFile },
    sasl: { mechanism: 'scram-sha-512', username: secured.username, passwordFile: secured.passwordFile },
  });

  /** Runs a child expected to fail at startup; returns its exit code and its stderr's one line. */
  const failingStart = async (config: Config, env: Record<string, string> = {}) => {
    const child = await startChild(config, standin, { brokersInFile: true, env });
    try {
      const code = await child.exited;
      // stdout has the JSON log; stderr is for people. Node's own warnings are not ours to count.
      const lines = child.stderr.filter((l) => !/^\((node:\d+|Use `node)/.test(l));
      return { code, lines, all: [...child.stdout, ...child.stderr].join('\n') };
    } finally {
      await child.cleanup();
    }
  };

  beforeAll(async () => {
    secured = await securedListener(stack);
    db = await connectPg(stack.databaseUrl);
    standin = await startSlackStandin();
    dir = await mkdtemp(join(tmpdir(), 'ln-secured-files-'));
    await insertListings(db, stack, [{ id: ID, price: '200.00' }]);
  });

  afterAll(async () => {
    await standin?.close();
    if (db !== undefined) {
      await deleteListings(db, [ID]);
      await db.end();
    }
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('delivers an update from Postgres to Slack over SASL_SSL (SCRAM-SHA-512, client certificate), never logging the password', async () => {
    const groupId = uniqueGroupId('sasl-ssl');
    await seedGroupAtEnd(stack, groupId);
    const children: ChildService[] = [];
    try {
      const { child } = await startJoinedChild(securedConfig(groupId, scram512()), standin, children, {
        brokersInFile: true,
      });
      await db.query('UPDATE public.listings SET prc_amt = 150.00 WHERE lst_id = $1', [ID]);
      const [message] = await waitUntil('the price drop in Slack', async () => {
        const found = messagesFor(standin, ID);
        return found.length > 0 ? found : undefined;
      });
      expect(message?.channelName).toBe('sales-alerts');
      expect(message?.text).toContain('150.00');
      child.child.kill('SIGTERM');
      expect(await child.exited).toBe(0);
      const output = [...child.stdout, ...child.stderr].join('\n');
      expect(output).not.toContain(secured.password());
      expect(output).not.toContain('PRIVATE KEY');
    } finally {
      for (const child of children) await child.cleanup();
    }
  });

  it('authenticates with PLAIN and SCRAM-SHA-256 too (password from an env var)', async () => {
    for (const mechanism of ['plain', 'scram-sha-256'] as const) {
      const config = securedConfig(uniqueGroupId(mechanism), {
        tls: { caFile: secured.caFile },
        sasl: { mechanism, username: secured.username, passwordEnv: 'LN_TEST_KAFKA_PASSWORD' },
      });
      const connections = await resolveConnections(config, { LN_TEST_KAFKA_PASSWORD: secured.password() });
      const admin = createKafkaClient({
        brokers: config.source.brokers,
        clientId: 'ln-e2e-secured',
        security: connections.kafka,
      }).admin();
      try {
        await admin.connect();
        expect(await admin.listTopics(), mechanism).toContain('monolith.public.listings');
      } finally {
        await admin.disconnect();
      }
    }
  });

  it('exits 3 with one line when Kafka refuses the password', async () => {
    const config = securedConfig(uniqueGroupId('wrong-password'), {
      ...scram512(),
      sasl: { mechanism: 'scram-sha-512', username: secured.username, passwordEnv: 'LN_TEST_KAFKA_PASSWORD' },
    });
    const result = await failingStart(config, { LN_TEST_KAFKA_PASSWORD: 'not-the-password' });
    expect(result.code).toBe(3);
    expect(result.lines).toEqual([
      expect.stringMatching(
        /^listing-notifier: could not start: Kafka refused the SASL credentials: .*SCRAM/,
      ),
    ]);
    expect(result.all).not.toContain('not-the-password');
  });

  it('exits 4 with one line when the CA file does not trust the broker', async () => {
    const config = securedConfig(uniqueGroupId('wrong-ca'), {
      ...scram512(),
      tls: { caFile: secured.untrustedCaFile },
    });
    const result = await failingStart(config);
    expect(result.code).toBe(4);
    expect(result.lines).toEqual([
      `listing-notifier: could not start: TLS handshake with Kafka broker ${secured.brokers[0]} failed: self-signed certificate in certificate chain`,
    ]);
  });

  it("exits 4 when the broker's certificate does not carry the expected server name", async () => {
    const config = securedConfig(uniqueGroupId('wrong-name'), {
      ...scram512(),
      tls: { caFile: secured.caFile, serverName: 'kafka.example.com' },
    });
    const result = await failingStart(config);
    expect(result.code).toBe(4);
    expect(result.lines).toEqual([expect.stringContaining("does not match certificate's altnames")]);
  });

  it('tells a plaintext listener from an unreachable broker before kafkajs retries either', async () => {
    const ssl = { ca: [readFileSync(secured.caFile, 'utf8')], rejectUnauthorized: true as const };
    await expect(checkBrokerTls(stack.kafkaBrokers, ssl)).rejects.toMatchObject({
      code: 'KAFKA_TLS',
      message: expect.stringContaining('(is this a TLS listener?)'),
    });
    // Nobody listening is not a TLS problem: kafkajs waits for the broker and reports it.
    await expect(checkBrokerTls([`127.0.0.1:${await closedPort()}`], ssl)).resolves.toBeUndefined();
    await expect(checkBrokerTls(secured.brokers, ssl)).resolves.toBeUndefined();
  });

  it('exits 2 naming the path and the file when the CA file holds no certificate', async () => {
    const notACa = join(dir, 'not-a-ca.pem');
    await writeFile(notACa, 'this is not a certificate\n');
    const config = securedConfig(uniqueGroupId('bad-ca-file'), { ...scram512(), tls: { caFile: notACa } });
    const result = await failingStart(config);
    expect(result.code).toBe(2);
    expect(result.all).toContain(`source.tls.caFile: "${notACa}" holds no PEM certificate`);
  });

  it('exits 5 with one line when the schema registry is unreachable', async () => {
    const port = await closedPort();
    const config = securedConfig(uniqueGroupId('no-registry'), {
      ...scram512(),
      registryUrl: `http://127.0.0.1:${port}`,
      registryAuth: { username: 'ln', passwordEnv: 'LN_TEST_REGISTRY_PASSWORD' },
    });
    const result = await failingStart(config, { LN_TEST_REGISTRY_PASSWORD: 'registry-secret-123' });
    expect(result.code).toBe(5);
    expect(result.lines).toEqual([
      expect.stringMatching(
        new RegExp(
          `^listing-notifier: could not start: schema registry at http://127.0.0.1:${port} is not usable: .*ECONNREFUSED`,
        ),
      ),
    ]);
    expect(result.all).not.toContain('registry-secret-123');
  });
});
