/**
 * kill -9 after a digest's message went out and before its file did (issue 16, item 4), with the Redis
 * store: the restarted member reads the digest's records again (nothing of them was committed) and
 * their digest goes on in the first message's thread, its file there, instead of posting the digest a
 * second time. Every listing is conveyed once: a message of its own, or a row of that file.
 *
 * The stand-in hangs every call from the moment the digest's message is accepted, so the file upload
 * that follows it (at the service's pace, 200 ms later at the earliest) never lands; the kill comes
 * once that upload was asked for (the lane is past the message, and past remembering it).
 * The restarted member gets the partitions once the killed member's session times out (30 s).
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Config } from '../../../src/config/index.ts';
import { connectPg } from '../../support/stack.ts';
import {
  type ChildService,
  conveyedListings,
  deleteListings,
  insertListings,
  type SlackStandin,
  seedGroupAtEnd,
  startChild,
  startJoinedChild,
  startSlackStandin,
  testConfig,
  uniqueGroupId,
  waitUntil,
} from './harness.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const IDS = Array.from({ length: 200 }, (_, i) => 819_000 + i);
const pace = { perSecond: 5, burst: 3 };
const servicePace = { perSecond: 5, burst: 1 };

const isDigestHead = (m: { text: string; threadTs?: string }) =>
  m.threadTs === undefined && m.text.startsWith('Digest');

describe('service: kill -9 between a digest message and its file, with the Redis store', () => {
  const stack = inject('stack');
  let db: pg.Client;
  let standin: SlackStandin;
  const children: ChildService[] = [];

  beforeAll(async () => {
    db = await connectPg(stack.databaseUrl);
    standin = await startSlackStandin({ pace });
    await insertListings(
      db,
      stack,
      IDS.map((id) => ({ id, price: '100.00' })),
    );
  });

  afterAll(async () => {
    for (const child of children) await child.cleanup();
    await standin?.close();
    await deleteListings(db, IDS);
    await db?.end();
  });

  it('posts the digest once: its file goes into the first message thread after the restart', {
    timeout: 180_000,
  }, async () => {
    const groupId = uniqueGroupId('digest-kill');
    await seedGroupAtEnd(stack, groupId);
    const keyPrefix = `ln-e2e-digest-kill-${randomUUID().slice(0, 8)}`;
    const config = (): Config => {
      const base = testConfig(stack, standin, {
        groupId,
        pace: servicePace,
        flood: { enabled: true, budgetMs: 2000 },
      });
      return { ...base, store: { ...base.store, url: REDIS_URL, keyPrefix } };
    };
    const { child: first } = await startJoinedChild(config(), standin, children);

    await db.query('UPDATE public.listings SET prc_amt = 75.00 WHERE lst_id = ANY($1::bigint[])', [IDS]);
    const head = await waitUntil(
      "the digest's message accepted",
      async () => standin.messages('sales-alerts').find(isDigestHead),
      { timeoutMs: 60_000, intervalMs: 10 },
    );
    const calls = standin.stats().calls;
    standin.fail({ mode: 'hang', forMs: 120_000 });
    // Killed once the lane asked for the file's upload (hung): it is past the digest's message.
    await waitUntil('the upload after the digest message asked for', async () =>
      standin.stats().calls > calls ? true : undefined,
    );
    first.child.kill('SIGKILL');
    await first.exited;
    standin.clearFailures();
    const before = standin.messages('sales-alerts');
    expect(before.some((m) => (m.files ?? []).length > 0)).toBe(false);

    const second = await startChild(config(), standin);
    children.push(second);
    const all = await waitUntil(
      'every listing conveyed after the restart',
      async () => {
        const seen = conveyedListings(standin, 'sales-alerts');
        return IDS.every((id) => seen.has(id)) ? seen : undefined;
      },
      { timeoutMs: 150_000, intervalMs: 250 },
    );
    const messages = standin.messages('sales-alerts');
    expect(messages.filter(isDigestHead).map((m) => m.ts)).toEqual([head.ts]);
    const files = messages.filter((m) => (m.files ?? []).length > 0);
    expect(files.length).toBeGreaterThan(0);
    expect(files.every((m) => m.threadTs === head.ts)).toBe(true);
    const twice = IDS.filter((id) => (all.get(id) ?? []).length > 1);
    expect(twice).toEqual([]);
    console.log(
      `[digest kill -9] ${IDS.length} changed; the digest message out before the kill, its file after the ` +
        `restart in its thread; ${messages.filter((m) => m.threadTs === undefined).length} top-level messages, 0 twice`,
    );
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });
});
