import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, redactDeep } from '../../../src/adapters/logger.ts';
import { NotifierError } from '../../../src/domain/errors.ts';

const token = 'xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp';

/** A logger writing into an array of parsed JSON lines. */
function capture(level = 'debug') {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger({ level, destination });
  return { logger, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('createLogger', () => {
  it('writes one JSON line per call with level label, message and fields', () => {
    const { logger, parsed } = capture('info');
    logger.info({ topic: 'pg.public.listings', partition: 2, offset: '41', listingId: 'L-7' }, 'delivered');
    logger.debug({}, 'not at info');
    expect(parsed()).toEqual([
      expect.objectContaining({
        level: 'info',
        msg: 'delivered',
        topic: 'pg.public.listings',
        partition: 2,
        offset: '41',
        listingId: 'L-7',
        service: 'listing-notifier',
      }),
    ]);
  });

  it('redacts secret keys at any depth, in fields and child bindings', () => {
    const { logger, lines, parsed } = capture();
    logger.child({ slack: { token } }).info(
      {
        token,
        headers: { Authorization: `Bearer ${token}`, accept: 'json' },
        config: {
          slack: { tokenEnv: 'SLACK_BOT_TOKEN' },
          db: { nested: { deeper: { password: 'hunter2' } } },
        },
        list: [{ clientSecret: 's3cr3t' }, { apiKey: 'k' }, { api_key: 'k2' }],
      },
      'configured',
    );
    expect(lines.join('\n')).not.toContain(token);
    expect(lines.join('\n')).not.toContain('hunter2');
    expect(lines.join('\n')).not.toContain('s3cr3t');
    const [line] = parsed();
    expect(line).toMatchObject({
      slack: { token: '[Redacted]' },
      token: '[Redacted]',
      headers: { Authorization: '[Redacted]', accept: 'json' },
      config: { db: { nested: { deeper: { password: '[Redacted]' } } } },
      list: [{ clientSecret: '[Redacted]' }, { apiKey: '[Redacted]' }, { api_key: '[Redacted]' }],
    });
  });

  it('masks Slack tokens inside messages, error texts and error causes', () => {
    const { logger, lines } = capture();
    const cause = new Error(`fetch failed for Bearer ${token}`);
    const err = new NotifierError('SLACK_TRANSIENT', `call with ${token} failed`, {
      cause,
      details: { url: `https://x/?token=${token}` },
    });
    logger.error({ err }, `oops ${token}`);
    logger.error(err as never);
    logger.warn({ note: `app token xapp-1-A0-123-abc and refresh xoxe-1-abc` }, 'plain');
    const out = lines.join('\n');
    expect(out).not.toMatch(/xox[a-z]-|xapp-/);
    expect(lines).toHaveLength(3);
    const first = JSON.parse(lines[0] ?? '{}') as { err: { code: string; details: unknown } };
    expect(first.err.code).toBe('SLACK_TRANSIENT');
  });

  it('survives cycles and deep objects', () => {
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    let deep: Record<string, unknown> = { password: 'p' };
    for (let i = 0; i < 20; i++) deep = { inner: deep };
    expect(redactDeep({ a, deep })).toMatchObject({ a: { name: 'a', self: '[Circular]' } });
    expect(JSON.stringify(redactDeep(deep))).not.toContain('"p"');
  });
});

describe('createLogger with the secrets read at startup', () => {
  const password = 'Kafka-pa55word"with\\quote';
  const key = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n';

  it('masks the exact secret values under any key, in messages and in errors, also JSON-escaped', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    const logger = createLogger({ level: 'debug', destination, secrets: [password] });
    logger
      .child({ sasl: { mechanism: 'scram-sha-512', user: 'svc', pw: password } })
      .info(
        { connectString: `svc:${password}@kafka:9094`, nested: [{ note: password }] },
        `connecting with ${password}`,
      );
    logger.error({ err: new Error(`auth failed for "${password}"`) }, 'failed');
    logger.warn({ pem: key, keyFile: '/run/secrets/client.key' }, `loaded ${key}`);
    const out = lines.join('\n');
    expect(out).not.toContain('pa55word');
    expect(out).not.toContain('MIIEvQIBADANBgkqhkiG9w0BAQEFAASC');
    expect(lines).toHaveLength(3);
    const [first, second, third] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(first).toMatchObject({
      sasl: { mechanism: 'scram-sha-512', user: 'svc', pw: '[Redacted]' },
      connectString: 'svc:[Redacted]@kafka:9094',
      nested: [{ note: '[Redacted]' }],
      msg: 'connecting with [Redacted]',
    });
    expect(second).toMatchObject({ err: { message: 'auth failed for "[Redacted]"' } });
    // Paths to secrets are fine to log; PEM keys are masked even when nobody registered them.
    expect(third).toMatchObject({
      pem: '[Redacted]\n',
      keyFile: '/run/secrets/client.key',
      msg: 'loaded [Redacted]\n',
    });
  });

  it('does not mask secrets too short to tell from ordinary text', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    createLogger({ destination, secrets: ['abc'] }).info({ word: 'abcdef' }, 'abc');
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ word: 'abcdef', msg: 'abc' });
  });
});

describe('finding 7 (issue 19): the logger masks passwords inside URLs', () => {
  it('masks the password of any scheme, in fields, messages and error texts, and keeps the rest', () => {
    const { logger, lines, parsed } = capture();
    logger.info(
      { store: 'redis://app:s3cr3t-pw@redis.store.svc:6379/2' },
      'store at rediss://:only-pw@r:6380',
    );
    logger.warn(
      { error: new Error('connect ECONNREFUSED postgres://monolith:pg-p%40ss@db:5432/monolith') },
      'failed',
    );
    logger.info(
      { dsn: 'amqp://u:we@ird:pw@mq/vhost', plain: 'http://host:8080/path?x=1', mail: 'a:b c@d' },
      'x',
    );
    const text = lines.join('\n');
    for (const secret of ['s3cr3t-pw', 'only-pw', 'pg-p%40ss', 'we@ird:pw'])
      expect(text).not.toContain(secret);
    const [first, second, third] = parsed();
    expect(first).toMatchObject({
      store: 'redis://app:[Redacted]@redis.store.svc:6379/2',
      msg: 'store at rediss://:[Redacted]@r:6380',
    });
    expect(JSON.stringify(second)).toContain('postgres://monolith:[Redacted]@db:5432/monolith');
    // URLs without a password, and text that only looks a little like one, are left alone.
    expect(third).toMatchObject({
      dsn: 'amqp://u:[Redacted]@mq/vhost',
      plain: 'http://host:8080/path?x=1',
      mail: 'a:b c@d',
    });
  });

  it('masks a URL password in redactDeep as well (what check-config and the CLI print through)', () => {
    expect(redactDeep({ url: 'redis://default:hunter2@localhost:6379' })).toEqual({
      url: 'redis://default:[Redacted]@localhost:6379',
    });
  });
});
