/**
 * The Slack app's signing secret, read once at the edge from what slack.signingSecretEnv or
 * slack.signingSecretFile names (as connections.ts reads passwords, but trimmed: a signing secret is
 * hex, so surrounding whitespace is never part of it). Never part of Config; the
 * caller hands the value to createLogger's `secrets`, so it is masked wherever it might appear.
 * Problems are CONFIG_INVALID naming the config path and the variable or file, never the value.
 *
 * Nothing calls this yet: the interactivity endpoint (issue 17) will, and a null answer means
 * interactivity is off.
 */
import { readFile } from 'node:fs/promises';
import { NotifierError } from '../domain/errors.ts';
import type { ReadText } from './connections.ts';
import type { Config } from './index.ts';

const readUtf8: ReadText = (file) => readFile(file, 'utf8');

/** The signing secret, or null when the config names none. */
export async function resolveSigningSecret(
  slack: Pick<Config['slack'], 'signingSecretEnv' | 'signingSecretFile'>,
  env: Record<string, string | undefined>,
  read: ReadText = readUtf8,
): Promise<string | null> {
  const fail = (message: string): never => {
    throw new NotifierError('CONFIG_INVALID', `slack signing secret: ${message}`, {
      details: { errors: [message] },
    });
  };
  if (slack.signingSecretEnv !== undefined) {
    const value = env[slack.signingSecretEnv];
    if (value === undefined || value.trim() === '') {
      return fail(
        `slack.signingSecretEnv: ${slack.signingSecretEnv} is not set (export the app's signing secret in it)`,
      );
    }
    return value.trim();
  }
  if (slack.signingSecretFile !== undefined) {
    let text: string;
    try {
      text = await read(slack.signingSecretFile);
    } catch (error) {
      return fail(
        `slack.signingSecretFile: cannot read ${JSON.stringify(slack.signingSecretFile)}: ${(error as Error).message}`,
      );
    }
    // Slack's signing secrets are hex: surrounding whitespace (echo's newline) is never part of one.
    const value = text.trim();
    if (value === '')
      return fail(`slack.signingSecretFile: ${JSON.stringify(slack.signingSecretFile)} is empty`);
    return value;
  }
  return null;
}
