import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/adapters/logger.ts';
import { resolveConnections } from '../../../src/config/connections.ts';
import { type Config, checkConfig, parseConfig } from '../../../src/config/index.ts';

const tlsFile = (name: string): string =>
  fileURLToPath(new URL(`../../fixtures/tls/${name}`, import.meta.url));

const withSource = (source: Record<string, unknown>): Config =>
  parseConfig(JSON.stringify({ source }), 'test.json');

/** Reads only the files a test lists; any other read is a failure. */
const files =
  (contents: Record<string, string>) =>
  async (name: string): Promise<string> => {
    const text = contents[name];
    if (text === undefined) throw new Error(`ENOENT: no such file or directory, open '${name}'`);
    return text;
  };

const errorsOf = async (promise: Promise<unknown>): Promise<string[]> => {
  try {
    await promise;
  } catch (error) {
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', disposition: 'stop' });
    return (error as { details: { errors: string[] } }).details.errors;
  }
  throw new Error('expected CONFIG_INVALID');
};

describe('resolveConnections', () => {
  it('reads nothing for a plaintext config', async () => {
    const read = async (): Promise<string> => {
      throw new Error('no file should be read');
    };
    await expect(resolveConnections(parseConfig('', 'empty'), {}, read)).resolves.toEqual({
      kafka: {},
      registry: {},
      store: {},
      slack: {},
      secrets: [],
    });
  });

  it('takes the SASL password from the env var the config names', async () => {
    const config = withSource({
      sasl: { mechanism: 'scram-sha-512', username: 'svc', passwordEnv: 'KAFKA_PW' },
    });
    const resolved = await resolveConnections(config, { KAFKA_PW: 's3cret-pw' }, files({}));
    expect(resolved.kafka).toEqual({
      sasl: { mechanism: 'scram-sha-512', username: 'svc', password: 's3cret-pw' },
    });
    expect(resolved.secrets).toEqual(['s3cret-pw']);
  });

  it('takes a password from a file, without its trailing newline', async () => {
    const config = withSource({
      sasl: { mechanism: 'plain', username: 'svc', passwordFile: '/run/secrets/kafka' },
      registryUrl: 'https://registry.example.com',
      registryAuth: { username: 'reg', passwordFile: '/run/secrets/registry' },
    });
    const resolved = await resolveConnections(
      config,
      {},
      files({ '/run/secrets/kafka': 'pw-from-file\n', '/run/secrets/registry': 'reg-pw\r\n' }),
    );
    expect(resolved.kafka.sasl?.password).toBe('pw-from-file');
    expect(resolved.registry).toEqual({ auth: { username: 'reg', password: 'reg-pw' } });
    expect(resolved.secrets).toEqual(['pw-from-file', 'reg-pw']);
  });

  it('names the path and the variable or file when a password cannot be had, never a value', async () => {
    const config = withSource({
      sasl: { mechanism: 'plain', username: 'svc', passwordEnv: 'KAFKA_PW' },
      registryUrl: 'https://registry.example.com',
      registryAuth: { username: 'reg', passwordFile: '/run/secrets/registry' },
    });
    expect(await errorsOf(resolveConnections(config, { KAFKA_PW: '' }, files({})))).toEqual([
      'source.sasl.passwordEnv: KAFKA_PW is not set (export the password in it)',
      `source.registryAuth.passwordFile: cannot read "/run/secrets/registry": ENOENT: no such file or directory, open '/run/secrets/registry'`,
    ]);
    const empty = withSource({ sasl: { mechanism: 'plain', username: 'svc', passwordFile: '/pw' } });
    expect(await errorsOf(resolveConnections(empty, {}, files({ '/pw': '\n' })))).toEqual([
      'source.sasl.passwordFile: "/pw" is empty',
    ]);
  });

  it('builds kafkajs ssl options: the CA bundle, the client certificate and key, the name check on', async () => {
    const config = withSource({
      tls: { caFile: tlsFile('ca.pem'), certFile: tlsFile('client.pem'), keyFile: tlsFile('client.key') },
    });
    const { kafka, secrets } = await resolveConnections(config, {});
    expect(kafka.ssl?.ca).toHaveLength(1);
    expect(kafka.ssl?.ca?.[0]).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(kafka.ssl?.cert).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(kafka.ssl?.key).toMatch(/PRIVATE KEY-----/);
    expect(kafka.ssl?.rejectUnauthorized).toBe(true);
    // Left to node:tls's default check, which compares the certificate's names with the host.
    expect(kafka.ssl?.checkServerIdentity).toBeUndefined();
    expect(kafka.ssl?.servername).toBeUndefined();
    expect(secrets).toEqual([kafka.ssl?.key]);
  });

  it('checks a given server name, or only the chain when the name check is turned off', async () => {
    const named = await resolveConnections(withSource({ tls: { serverName: 'kafka.internal' } }), {});
    expect(named.kafka.ssl).toEqual({ rejectUnauthorized: true, servername: 'kafka.internal' });
    const unnamed = await resolveConnections(withSource({ tls: { checkServerName: false } }), {});
    expect(unnamed.kafka.ssl?.rejectUnauthorized).toBe(true);
    expect(unnamed.kafka.ssl?.checkServerIdentity?.()).toBeUndefined();
  });

  it('refuses a CA file without a certificate, and a key that does not belong to the certificate', async () => {
    const config = withSource({
      tls: { caFile: tlsFile('client.key'), certFile: tlsFile('client.pem'), keyFile: tlsFile('other.key') },
      registryUrl: 'https://registry.example.com',
      registryCaFile: '/nope/ca.pem',
    });
    const errors = await errorsOf(resolveConnections(config, {}));
    expect(errors).toEqual([
      `source.tls.caFile: "${tlsFile('client.key')}" holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
      `source.tls.keyFile: "${tlsFile('other.key')}" is not the key of source.tls.certFile`,
      expect.stringMatching(/^source\.registryCaFile: cannot read "\/nope\/ca\.pem": ENOENT/),
    ]);
    expect(errors.join('\n')).not.toContain('PRIVATE KEY');
  });
});

describe('finding 7 (issue 19): a Redis password from an env var or a file, not only inline in store.url', () => {
  const withStore = (store: Record<string, unknown>): Config =>
    parseConfig(JSON.stringify({ store: { url: 'redis://redis.store.svc:6379/0', ...store } }), 'test.json');

  it('reads store.passwordEnv and store.passwordFile, and hands the value to the logger to mask', async () => {
    const fromEnv = await resolveConnections(withStore({ passwordEnv: 'REDIS_PW' }), {
      REDIS_PW: 'r3dis-pw',
    });
    expect(fromEnv.store).toEqual({ password: 'r3dis-pw' });
    expect(fromEnv.secrets).toContain('r3dis-pw');
    const fromFile = await resolveConnections(
      withStore({ passwordFile: '/run/secrets/redis' }),
      {},
      files({ '/run/secrets/redis': 'file-pw\n' }),
    );
    expect(fromFile.store).toEqual({ password: 'file-pw' });
  });

  it('names the unset variable and the unreadable file', async () => {
    expect(await errorsOf(resolveConnections(withStore({ passwordEnv: 'REDIS_PW' }), {}))).toEqual([
      'store.passwordEnv: REDIS_PW is not set (export the password in it)',
    ]);
    const errors = await errorsOf(
      resolveConnections(withStore({ passwordFile: '/nope/redis' }), {}, files({})),
    );
    expect(errors).toEqual([expect.stringMatching(/^store\.passwordFile: cannot read "\/nope\/redis"/)]);
  });

  it('refuses both sources at once, and a password inline in the URL beside one', () => {
    expect(() => withStore({ passwordEnv: 'A', passwordFile: '/b' })).toThrow(/store\.passwordEnv/);
    expect(() =>
      parseConfig(
        JSON.stringify({ store: { url: 'redis://u:inline@h:6379', passwordEnv: 'A' } }),
        'test.json',
      ),
    ).toThrow(/store\.url: expected no password in store\.url/);
  });
});

describe('slack.signingSecretEnv and slack.signingSecretFile', () => {
  // Slack's documentation placeholder, shaped like a real signing secret (32 characters).
  const secret = '8f742231b10e8888abcd99yyyzzz85a5';
  const withSlack = (slack: Record<string, unknown>): Config =>
    parseConfig(JSON.stringify({ slack }), 'test.json');
  const signingSecretOf = async (
    slack: Record<string, unknown>,
    env: Record<string, string | undefined>,
    read = files({}),
  ) => (await resolveConnections(withSlack(slack), env, read)).slack.signingSecret;

  it('default to neither: interactivity off, the section as before', async () => {
    const config = parseConfig('', 'empty');
    expect(config.slack).toEqual({ apiUrl: 'https://slack.com/api/', tokenEnv: 'SLACK_BOT_TOKEN' });
    const resolved = await resolveConnections(config, { SLACK_SIGNING_SECRET: secret }, files({}));
    expect(resolved.slack).toEqual({});
    expect(resolved.secrets).toEqual([]);
  });

  it('take an env var name or a file path, never the secret itself', () => {
    expect(withSlack({ signingSecretEnv: 'SLACK_SIGNING_SECRET' }).slack).toMatchObject({
      signingSecretEnv: 'SLACK_SIGNING_SECRET',
    });
    expect(withSlack({ signingSecretFile: '/run/secrets/slack/signing-secret' }).slack).toMatchObject({
      signingSecretFile: '/run/secrets/slack/signing-secret',
    });
    const check = (slack: Record<string, unknown>) => {
      const result = checkConfig(JSON.stringify({ slack }), 'test.json');
      return result.ok ? [] : result.errors;
    };
    expect(check({ signingSecretEnv: `${secret}!` })).toEqual([
      `slack.signingSecretEnv: expected an environment variable name, got "${secret}!"`,
    ]);
    expect(check({ signingSecretFile: '' })).toEqual([
      'slack.signingSecretFile: expected length >= 1 characters, got ""',
    ]);
    expect(check({ signingSecretEnv: 'SLACK_SIGNING_SECRET', signingSecretFile: '/run/s' })).toEqual([
      'slack.signingSecretEnv: expected at most one of signingSecretEnv or signingSecretFile, got "SLACK_SIGNING_SECRET"',
    ]);
  });

  it('resolve from the env var or the file (whitespace around it dropped), kept for masking', async () => {
    expect(
      await signingSecretOf({ signingSecretEnv: 'NOTIFIER_SIGNING' }, { NOTIFIER_SIGNING: ` ${secret}\n` }),
    ).toBe(secret);
    const fromFile = withSlack({ signingSecretFile: '/run/secrets/signing' });
    const resolved = await resolveConnections(fromFile, {}, files({ '/run/secrets/signing': `${secret}\n` }));
    expect(resolved.slack.signingSecret).toBe(secret);
    expect(resolved.secrets).toEqual([secret]);
  });

  it('name the unset variable, the unreadable or empty file, never a value', async () => {
    const fromEnv = withSlack({ signingSecretEnv: 'NOTIFIER_SIGNING' });
    expect(await errorsOf(resolveConnections(fromEnv, {}, files({})))).toEqual([
      "slack.signingSecretEnv: NOTIFIER_SIGNING is not set (export the app's signing secret in it)",
    ]);
    expect(await errorsOf(resolveConnections(fromEnv, { NOTIFIER_SIGNING: '  ' }, files({})))).toHaveLength(
      1,
    );
    const fromFile = withSlack({ signingSecretFile: '/run/secrets/signing' });
    expect(await errorsOf(resolveConnections(fromFile, {}, files({})))).toEqual([
      `slack.signingSecretFile: cannot read "/run/secrets/signing": ENOENT: no such file or directory, open '/run/secrets/signing'`,
    ]);
    expect(await errorsOf(resolveConnections(fromFile, {}, files({ '/run/secrets/signing': '\n' })))).toEqual(
      ['slack.signingSecretFile: "/run/secrets/signing" is empty'],
    );
  });

  it('reach no log line once handed to the logger, whatever key or message carries them', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = createLogger({ level: 'debug', destination, secrets: [secret] });
    logger.info({ signingSecret: secret, slack: { signingSecretEnv: 'SLACK_SIGNING_SECRET' } }, 'loaded');
    logger.warn({ header: `v0:1531420618:${secret}`, nested: { value: secret } }, `secret is ${secret}`);
    logger.error({ err: new Error(`bad signature with ${secret}`) }, 'refused');
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line).not.toContain(secret);
    // By key even when the value was never registered (a signing secret looks like no token).
    lines.length = 0;
    createLogger({ destination }).info({ signingSecret: 'abcdef0123456789abcdef0123456789' }, 'loaded');
    expect(lines.join('')).not.toContain('abcdef0123456789abcdef0123456789');
  });
});
