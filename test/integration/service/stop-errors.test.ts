/**
 * 'stop' conditions end the service with a clear message and a non-zero exit instead of
 * dead-lettering everything: a bad token at startup (auth.test fails fast, before any record is read),
 * and a token revoked while running (nothing unfinished is committed, so a restart with a good token
 * delivers it).
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectPg } from '../../support/stack.ts';
import {
  committedOffsets,
  deleteListings,
  insertListings,
  messagesFor,
  type SlackStandin,
  seedGroupAtEnd,
  startChild,
  startInProcess,
  startSlackStandin,
  testConfig,
  uniqueGroupId,
  waitUntil,
} from './harness.ts';

const ID = 817_001;

describe('service: stop errors', () => {
  const stack = inject('stack');
  let db: pg.Client;
  let standin: SlackStandin;

  beforeAll(async () => {
    db = await connectPg(stack.databaseUrl);
    standin = await startSlackStandin({ token: 'xoxb-the-right-one' });
    await insertListings(db, stack, [{ id: ID, price: '100.00' }]);
  });

  afterAll(async () => {
    await standin?.close();
    await deleteListings(db, [ID]);
    await db?.end();
  });

  it('exits 1 at startup with a clear message when Slack rejects the token, never printing it', async () => {
    const config = testConfig(stack, standin, {
      groupId: uniqueGroupId('badtoken'),
      pace: { perSecond: 1, burst: 3 },
    });
    const child = await startChild(config, { ...standin, token: 'xoxb-wrong-token-123' });
    try {
      expect(await child.exited).toBe(1);
      const output = child.output.join('\n');
      expect(output).toContain('Slack rejected the bot token in SLACK_BOT_TOKEN');
      expect(output).toContain('invalid_auth');
      expect(output).not.toContain('xoxb-wrong-token-123');
    } finally {
      await child.cleanup();
    }
  });

  it('stops with exit code 1 when the token is revoked while running, leaving the record uncommitted', async () => {
    const groupId = uniqueGroupId('revoked');
    const starts = await seedGroupAtEnd(stack, groupId);
    const config = testConfig(stack, standin, { groupId, pace: { perSecond: 1, burst: 3 } });
    const running = await startInProcess(config, standin);
    await waitUntil('the service to join', async () =>
      running.service.readiness().ready ? true : undefined,
    );

    standin.fail({ mode: 'error', error: 'token_revoked', forMs: 60_000 });
    await db.query('UPDATE public.listings SET prc_amt = 10.00 WHERE lst_id = $1', [ID]);
    expect(await running.service.done).toBe(1);
    const stopping = running.logs().find((l) => l.level === 'error' && String(l.msg).startsWith('stopping:'));
    expect(String(stopping?.msg)).toContain('token_revoked');
    expect(running.logLines.join('\n')).not.toContain(standin.token);
    expect(messagesFor(standin, ID)).toEqual([]);
    // Nothing past the unfinished record was committed on its partition: a restart reads it again.
    const failed = running
      .logs()
      .find((l) => l.msg === 'record hit a stop error' && String(l.listingId) === String(ID));
    expect(failed).toBeDefined();
    const partition = Number(failed?.partition);
    const committed = (await committedOffsets(stack, groupId)).find((c) => c.partition === partition);
    const start = starts.find((s) => s.partition === partition);
    expect(BigInt(committed?.offset ?? '-1')).toBeGreaterThanOrEqual(BigInt(start?.offset ?? '0'));
    expect(BigInt(committed?.offset ?? '-1')).toBeLessThanOrEqual(BigInt(String(failed?.offset)));

    standin.clearFailures();
    const again = await startInProcess(config, standin);
    try {
      await waitUntil('the record delivered after the restart', async () =>
        messagesFor(standin, ID).length > 0 ? true : undefined,
      );
    } finally {
      await again.stop();
    }
  });
});
