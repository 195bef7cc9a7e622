/**
 * The stack's SASL_SSL listener as tests see it (scripts/stack.sh: second listener, throw-away CA,
 * client certificate and SCRAM user under <state>/tls). With a stack from the environment, set
 * KAFKA_SASL_SSL_BROKERS and KAFKA_TLS_DIR (a folder laid out like <state>/tls) too.
 */
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { readVersionsEnv, type StackEndpoints } from './stack.ts';

export interface SecuredListener {
  brokers: string[];
  /** The CA that signed the broker's certificate. */
  caFile: string;
  /** A CA that signed nothing the broker uses. */
  untrustedCaFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  username: string;
  /** Holds the user's password (PLAIN and SCRAM-SHA-256/512). */
  passwordFile: string;
  password(): string;
}

const reachable = (host: string, port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(2000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });

/** Finds the listener and its material; throws saying what to do when it is not there (never skips). */
export async function securedListener(
  stack: StackEndpoints,
  env: NodeJS.ProcessEnv = process.env,
): Promise<SecuredListener> {
  let brokers: string[];
  let dir: string;
  if (stack.source === 'native') {
    const port = readVersionsEnv().KAFKA_SASL_SSL_PORT ?? '9094';
    brokers = [`127.0.0.1:${port}`];
    dir = join(env.LISTING_NOTIFIER_STACK_DIR ?? join(homedir(), '.local/state/listing-notifier'), 'tls');
  } else {
    if (!env.KAFKA_SASL_SSL_BROKERS || !env.KAFKA_TLS_DIR) {
      throw new Error(
        `the ${stack.source} stack: set KAFKA_SASL_SSL_BROKERS and KAFKA_TLS_DIR (ca.pem, untrusted-ca.pem, client.pem, client.key, sasl-username, sasl-password) for the SASL_SSL tests`,
      );
    }
    brokers = env.KAFKA_SASL_SSL_BROKERS.split(',').map((b) => b.trim());
    dir = env.KAFKA_TLS_DIR;
  }
  if (!existsSync(join(dir, 'ca.pem'))) {
    throw new Error(
      `no ${join(dir, 'ca.pem')}: scripts/stack.sh up (or restart kafka) makes the SASL_SSL material`,
    );
  }
  const [host = '127.0.0.1', port = '9094'] = (brokers[0] ?? '').split(':');
  if (!(await reachable(host, Number(port)))) {
    throw new Error(
      `nothing listens on ${brokers[0]} (the SASL_SSL listener): the broker was started from an older scripts/stack/server.properties; 'scripts/stack.sh restart kafka' adds it`,
    );
  }
  const passwordFile = join(dir, 'sasl-password');
  return {
    brokers,
    caFile: join(dir, 'ca.pem'),
    untrustedCaFile: join(dir, 'untrusted-ca.pem'),
    clientCertFile: join(dir, 'client.pem'),
    clientKeyFile: join(dir, 'client.key'),
    username: readFileSync(join(dir, 'sasl-username'), 'utf8').trim(),
    passwordFile,
    password: () => readFileSync(passwordFile, 'utf8').trim(),
  };
}
