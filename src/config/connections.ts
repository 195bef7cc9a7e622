/**
 * The secured connections' material, read once at the edge from what the rules file names: passwords
 * from environment variables or files (mounted Secrets), CA bundles, client certificates and keys.
 * Nothing here is ever part of Config (which is safe to print); problems are CONFIG_INVALID with the
 * config path and the env var or file concerned, never the secret.
 *
 * Files are checked for what they must hold (a PEM certificate, a private key matching the
 * certificate) so that a wrong mount fails here, naming the file, instead of as a TLS error later.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { NotifierError } from '../domain/errors.ts';
import type { KafkaSecurity } from '../ports/kafka.ts';
import type { Config } from './index.ts';
import type { PasswordRef } from './service.ts';

export interface RegistryConnection {
  auth?: { username: string; password: string };
  /** PEM CA bundle for an https registry. */
  ca?: string[];
}

export interface Connections {
  kafka: KafkaSecurity;
  registry: RegistryConnection;
  /** The Redis password from store.passwordEnv or store.passwordFile, when one is named. */
  store: { password?: string };
  /**
   * The Slack app's signing secret from slack.signingSecretEnv or slack.signingSecretFile, when one is
   * named: what the interactivity endpoint verifies Slack's requests with (src/adapters/slack-signature.ts).
   */
  slack: { signingSecret?: string };
  /** Every secret value read (passwords, private keys), for the logger to mask wherever it appears. */
  secrets: string[];
}

export type ReadText = (file: string) => Promise<string>;

const readUtf8: ReadText = (file) => readFile(file, 'utf8');

/**
 * Reads what config.source names. `env` is the process environment (passed in, so tests need not
 * touch process.env); `read` reads a file as text.
 */
export async function resolveConnections(
  config: Config,
  env: Record<string, string | undefined>,
  read: ReadText = readUtf8,
): Promise<Connections> {
  const { source } = config;
  const errors: string[] = [];
  const secrets: string[] = [];

  const file = async (path: string, name: string): Promise<string | undefined> => {
    try {
      return await read(name);
    } catch (error) {
      errors.push(`${path}: cannot read ${JSON.stringify(name)}: ${(error as Error).message}`);
      return undefined;
    }
  };

  /**
   * A secret named by an environment variable (`<path>.<envKey>`) or a file (`<path>.<fileKey>`), read
   * and cleaned (`clean` for a file's text, `cleanEnv` for a variable's value); undefined, with the
   * problem noted, when it is unset, unreadable or empty. Every value read is kept for masking.
   */
  const secret = async (
    path: string,
    from: { envKey: string; env?: string | undefined; fileKey: string; file?: string | undefined },
    what: string,
    clean: (text: string) => string,
    cleanEnv: (text: string) => string = (text) => text,
  ): Promise<string | undefined> => {
    let value: string | undefined;
    if (from.env !== undefined) {
      value = env[from.env];
      value = value === undefined ? undefined : cleanEnv(value);
      if (value === undefined || value === '') {
        errors.push(`${path}.${from.envKey}: ${from.env} is not set (export ${what} in it)`);
        return undefined;
      }
    } else if (from.file !== undefined) {
      const text = await file(`${path}.${from.fileKey}`, from.file);
      if (text === undefined) return undefined;
      value = clean(text);
      if (value === '') {
        errors.push(`${path}.${from.fileKey}: ${JSON.stringify(from.file)} is empty`);
        return undefined;
      }
    }
    if (value !== undefined) secrets.push(value);
    return value;
  };

  const password = (path: string, ref: PasswordRef): Promise<string | undefined> =>
    secret(
      path,
      { envKey: 'passwordEnv', env: ref.passwordEnv, fileKey: 'passwordFile', file: ref.passwordFile },
      'the password',
      // A file written with `echo` ends with a newline that is not part of the password.
      (text) => text.replace(/\r?\n$/, ''),
    );

  const certificates = async (path: string, name: string): Promise<string[] | undefined> => {
    const text = await file(path, name);
    if (text === undefined) return undefined;
    const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    if (blocks.length === 0) {
      errors.push(`${path}: ${JSON.stringify(name)} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
      return undefined;
    }
    for (const [i, block] of blocks.entries()) {
      try {
        new X509Certificate(block);
      } catch (error) {
        errors.push(
          `${path}: certificate ${i + 1} in ${JSON.stringify(name)} is not valid: ${(error as Error).message}`,
        );
        return undefined;
      }
    }
    return blocks;
  };

  const kafka: KafkaSecurity = {};
  if (source.tls !== null) {
    const tls = source.tls;
    const ssl: NonNullable<KafkaSecurity['ssl']> = { rejectUnauthorized: true };
    if (tls.caFile !== null) {
      const ca = await certificates('source.tls.caFile', tls.caFile);
      if (ca !== undefined) ssl.ca = ca;
    }
    if (tls.certFile !== null && tls.keyFile !== null) {
      const [cert] = (await certificates('source.tls.certFile', tls.certFile)) ?? [];
      const key = await file('source.tls.keyFile', tls.keyFile);
      if (key !== undefined) {
        secrets.push(key);
        try {
          const privateKey = createPrivateKey(key);
          if (cert !== undefined && !new X509Certificate(cert).checkPrivateKey(privateKey)) {
            errors.push(
              `source.tls.keyFile: ${JSON.stringify(tls.keyFile)} is not the key of source.tls.certFile`,
            );
          }
        } catch (error) {
          errors.push(
            `source.tls.keyFile: ${JSON.stringify(tls.keyFile)} holds no usable private key (PEM, unencrypted): ${(error as Error).message}`,
          );
        }
        ssl.key = key;
      }
      if (cert !== undefined) ssl.cert = cert;
    }
    if (tls.serverName !== null) ssl.servername = tls.serverName;
    // The chain is still verified against the CAs; only the name check is skipped.
    if (!tls.checkServerName) ssl.checkServerIdentity = () => undefined;
    kafka.ssl = ssl;
  }
  if (source.sasl !== null) {
    const { mechanism, username } = source.sasl;
    const value = await password('source.sasl', source.sasl);
    if (value !== undefined) kafka.sasl = { mechanism, username, password: value };
  }

  const registry: RegistryConnection = {};
  if (source.registryAuth !== null) {
    const value = await password('source.registryAuth', source.registryAuth);
    if (value !== undefined) registry.auth = { username: source.registryAuth.username, password: value };
  }
  if (source.registryCaFile !== null) {
    const ca = await certificates('source.registryCaFile', source.registryCaFile);
    if (ca !== undefined) registry.ca = ca;
  }

  const store: Connections['store'] = {};
  if (config.store.passwordEnv !== undefined || config.store.passwordFile !== undefined) {
    const value = await password('store', config.store);
    if (value !== undefined) store.password = value;
  }

  // The Slack app's signing secret (issue 17's interactivity): hex, so whitespace around it is never
  // part of it, in a file or a variable.
  const slack: Connections['slack'] = {};
  const { signingSecretEnv, signingSecretFile } = config.slack;
  const trim = (text: string): string => text.trim();
  const signingSecret = await secret(
    'slack',
    {
      envKey: 'signingSecretEnv',
      env: signingSecretEnv,
      fileKey: 'signingSecretFile',
      file: signingSecretFile,
    },
    "the app's signing secret",
    trim,
    trim,
  );
  if (signingSecret !== undefined) slack.signingSecret = signingSecret;

  if (errors.length > 0) {
    throw new NotifierError(
      'CONFIG_INVALID',
      `secured connections: cannot use the configured secrets\n${errors.join('\n')}`,
      {
        details: { errors },
      },
    );
  }
  return { kafka, registry, store, slack, secrets };
}
