import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/adapters/logger.ts';
import { checkConfig, parseConfig } from '../../../src/config/index.ts';
import { resolveSigningSecret } from '../../../src/config/signing-secret.ts';

// Slack's documentation placeholder, shaped like a real signing secret (32 characters).
const secret = '8f742231b10e8888abcd99yyyzzz85a5';

const slackOf = (slack: Record<string, unknown>) => parseConfig(JSON.stringify({ slack }), 'test.json').slack;

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

describe('slack.signingSecretEnv and slack.signingSecretFile', () => {
  it('default to neither: interactivity off, the section as before', async () => {
    const slack = parseConfig('', 'empty').slack;
    expect(slack).toEqual({ apiUrl: 'https://slack.com/api/', tokenEnv: 'SLACK_BOT_TOKEN' });
    await expect(resolveSigningSecret(slack, { SLACK_SIGNING_SECRET: secret })).resolves.toBeNull();
  });

  it('take an env var name or a file path, never the secret itself', () => {
    expect(slackOf({ signingSecretEnv: 'SLACK_SIGNING_SECRET' })).toMatchObject({
      signingSecretEnv: 'SLACK_SIGNING_SECRET',
    });
    expect(slackOf({ signingSecretFile: '/run/secrets/slack/signing-secret' })).toMatchObject({
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

  it('resolve from the env var or the file (whitespace around it dropped)', async () => {
    const fromEnv = slackOf({ signingSecretEnv: 'NOTIFIER_SIGNING' });
    await expect(resolveSigningSecret(fromEnv, { NOTIFIER_SIGNING: ` ${secret}\n` })).resolves.toBe(secret);
    const fromFile = slackOf({ signingSecretFile: '/run/secrets/signing' });
    await expect(
      resolveSigningSecret(fromFile, {}, files({ '/run/secrets/signing': `${secret}\n` })),
    ).resolves.toBe(secret);
  });

  it('name the unset variable, the unreadable or empty file, never a value', async () => {
    const fromEnv = slackOf({ signingSecretEnv: 'NOTIFIER_SIGNING' });
    expect(await errorsOf(resolveSigningSecret(fromEnv, {}))).toEqual([
      "slack.signingSecretEnv: NOTIFIER_SIGNING is not set (export the app's signing secret in it)",
    ]);
    expect(await errorsOf(resolveSigningSecret(fromEnv, { NOTIFIER_SIGNING: '  ' }))).toHaveLength(1);
    const fromFile = slackOf({ signingSecretFile: '/run/secrets/signing' });
    expect(await errorsOf(resolveSigningSecret(fromFile, {}, files({})))).toEqual([
      `slack.signingSecretFile: cannot read "/run/secrets/signing": ENOENT: no such file or directory, open '/run/secrets/signing'`,
    ]);
    expect(
      await errorsOf(resolveSigningSecret(fromFile, {}, files({ '/run/secrets/signing': '\n' }))),
    ).toEqual(['slack.signingSecretFile: "/run/secrets/signing" is empty']);
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
