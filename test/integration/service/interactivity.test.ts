/**
 * Issue 17, item 2 on the real stack: "Mute this listing" clicked in the Slack stand-in (a signed
 * block_actions payload, POST /_standin/click's way) on one replica's interactivity endpoint stops the
 * listing's messages on the replica that consumes them (two replicas in process, one group, the Redis
 * store with a key prefix of their own), confirms in the message's thread, and a forged signature is
 * refused (401, counted, nothing muted).
 *
 * Listing ids 824001-824099 belong to this file.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createRedisStore, type RedisStore } from '../../../src/adapters/redis-store.ts';
import type { Config } from '../../../src/config/index.ts';
import { noopLogger } from '../../../src/ports/index.ts';
import { defaultStandinSigningSecret } from '../../../tools/slack-standin/options.ts';
import { connectPg } from '../../support/stack.ts';
import {
  deleteListings,
  type InProcessService,
  insertListings,
  messagesFor,
  metricSum,
  type SlackStandin,
  seedGroupAtEnd,
  startInProcess,
  startSlackStandin,
  testConfig,
  uniqueGroupId,
  waitUntil,
} from './harness.ts';

const MUTED = 824_001;
const OTHER = 824_002;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const SECRET_ENV = 'LN_E2E_INTERACTIVITY_SECRET';

describe('service: mute from the message (interactivity)', () => {
  const stack = inject('stack');
  const keyPrefix = `ln-e2e-interact-${randomUUID().slice(0, 8)}`;
  let db: pg.Client | undefined;
  let standin: SlackStandin | undefined;
  let store: RedisStore | undefined;
  const replicas: InProcessService[] = [];

  beforeAll(async () => {
    process.env[SECRET_ENV] = defaultStandinSigningSecret;
    db = await connectPg(stack.databaseUrl);
    standin = await startSlackStandin({ pace: { perSecond: 5, burst: 5 } });
    await insertListings(
      db,
      stack,
      [MUTED, OTHER].map((id) => ({ id, price: '100.00', status: 'A' as const, stock: 50 })),
    );
    const groupId = uniqueGroupId('interactivity');
    await seedGroupAtEnd(stack, groupId);
    const base = testConfig(stack, standin, {
      groupId,
      pace: { perSecond: 5, burst: 5 },
      store: { url: REDIS_URL, keyPrefix },
    });
    const config: Config = { ...base, slack: { ...base.slack, signingSecretEnv: SECRET_ENV } };
    for (let i = 0; i < 2; i += 1) replicas.push(await startInProcess(config, standin));
    await waitUntil('both replicas to join the group', async () =>
      replicas.every((r) => r.service.readiness().ready) ? true : undefined,
    );
    store = createRedisStore({ url: REDIS_URL, keyPrefix, ledgerRetentionMs: 60_000, logger: noopLogger });
    if (!(await store.whenReady(5000))) throw new Error(`Redis at ${REDIS_URL} did not answer`);
  });

  afterAll(async () => {
    for (const r of replicas) await r.stop();
    await store?.close();
    if (db !== undefined) {
      await deleteListings(db, [MUTED, OTHER]);
      await db.end();
    }
    await standin?.close();
    delete process.env[SECRET_ENV];
  });

  it('a click mutes the listing on every replica and confirms in the thread; a forged click is refused', async () => {
    if (db === undefined || standin === undefined || store === undefined) throw new Error('setup failed');
    const client = db;
    const slack = standin;
    const finished = (id: number) =>
      replicas.flatMap((r, replica) =>
        r
          .logs()
          .filter((l) => l.msg === 'record finished' && String(l.listingId) === String(id))
          .map((l): Record<string, unknown> & { replica: number } => ({ ...l, replica })),
      );
    let price = 100;
    const change = async (id: number) => {
      const before = finished(id).length;
      price = Math.round(price * 95) / 100;
      await client.query('UPDATE public.listings SET prc_amt = $2 WHERE lst_id = $1', [id, price.toFixed(2)]);
      return waitUntil(`the change of ${id} to ${price} decided`, async () => finished(id)[before]);
    };

    // A message of the listing, with the mute menu.
    const decided = await change(MUTED);
    expect(decided.outcome).toBe('notify');
    const message = await waitUntil('the listing’s message', async () => messagesFor(slack, MUTED)[0]);
    expect(JSON.stringify(message.blocks)).toContain('"type":"overflow"');
    // Click on the replica that does not consume the listing: the mute must reach the other one.
    const consumer = decided.replica;
    const clicked = replicas[1 - consumer];
    if (clicked === undefined) throw new Error('no second replica');
    const url = `${clicked.service.httpUrl}/slack/interactivity`;

    // Forged: signed with another secret. Refused, counted, nothing muted.
    const forgedBody = new URLSearchParams({ payload: JSON.stringify({ type: 'block_actions' }) }).toString();
    const ts = String(Math.floor(Date.now() / 1000));
    const forged = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': ts,
        'x-slack-signature': `v0=${'0'.repeat(64)}`,
      },
      body: forgedBody,
    });
    expect(forged.status).toBe(401);
    expect(
      await metricSum(clicked.service.httpUrl, 'listing_notifier_interactions_total', 'outcome="forged"'),
    ).toBe(1);
    expect(await store.mutes.list(Date.now())).toEqual([]);

    // The click, as Slack sends it (signed by the stand-in): 200 within Slack's 3 s.
    const value = JSON.stringify(['m', '24h', 'sales-alerts', String(MUTED)]);
    const click = await slack.click({
      url,
      channel: message.channel,
      ts: message.ts,
      actionId: 'listing_menu',
      value,
      user: { id: 'U0ANA', name: 'ana' },
    });
    expect(click).toMatchObject({ status: 200, timedOut: false });
    const [mute] = await waitUntil('the mute in the shared store', async () => {
      const mutes = await store?.mutes.list(Date.now());
      return mutes !== undefined && mutes.length > 0 ? mutes : undefined;
    });
    expect(mute).toMatchObject({
      scope: 'listing',
      listingId: String(MUTED),
      channel: 'sales-alerts',
      by: 'ana',
    });
    expect(mute?.until).toBeGreaterThan(Date.now() + 86_000_000);
    const confirmation = await waitUntil('the confirmation in the thread', async () =>
      slack.messages().find((m) => m.threadTs === message.ts && m.text.includes('muted')),
    );
    expect(confirmation.text).toMatch(
      new RegExp(`^@ana muted \\*listing #${MUTED}\\* in sales-alerts until `),
    );

    // The consuming replica drops the listing's changes as muted (its snapshot is at most 2 s old).
    const dropped = await waitUntil('a change of the muted listing dropped as muted', async () => {
      const line = await change(MUTED);
      return String(line.reason).startsWith('muted: by @ana') ? line : undefined;
    });
    expect(dropped).toMatchObject({ outcome: 'dropped', replica: consumer });
    const heard = messagesFor(slack, MUTED).length;
    expect(String((await change(MUTED)).reason)).toMatch(/^muted: by @ana until/);
    // Another listing still arrives; the muted one has no new message.
    expect((await change(OTHER)).outcome).toBe('notify');
    await waitUntil('the other listing delivered', async () =>
      messagesFor(slack, OTHER).length > 0 ? true : undefined,
    );
    expect(messagesFor(slack, MUTED).length).toBe(heard);
    expect(
      await metricSum(clicked.service.httpUrl, 'listing_notifier_interactions_total', 'outcome="muted"'),
    ).toBe(1);
  });
});
