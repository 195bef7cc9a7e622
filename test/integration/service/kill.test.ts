/**
 * kill -9 of the consumer in the middle of a burst, then a restart with the same group: every expected
 * message arrives at least once. Messages delivered after the last commit before the kill are sent
 * again after the restart (at-least-once); the test reports how many.
 *
 * The service runs as a child process (`listing-notifier run --config FILE`), configured through the
 * environment like a deployment. The restarted member gets the partition once the killed member's
 * session times out (kafkajs's default 30 s), which is most of this test's time.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  connectPg,
  keyListingId,
  LISTINGS_TOPIC,
  openTopicReader,
  type TopicReader,
} from '../../support/stack.ts';
import {
  type ChildService,
  committedOffsets,
  deleteListings,
  insertListings,
  listingIdOf,
  opOf,
  type SlackStandin,
  seedGroupAtEnd,
  startChild,
  startJoinedChild,
  startSlackStandin,
  testConfig,
  uniqueGroupId,
  waitUntil,
} from './harness.ts';

const IDS = Array.from({ length: 400 }, (_, i) => 812_000 + i);
const standinPace = { perSecond: 50, burst: 5 };
const servicePace = { perSecond: 50, burst: 3 };
const maxInFlightRecords = 100;

describe('service: kill -9 mid-burst, then restart', () => {
  const stack = inject('stack');
  let db: pg.Client;
  let standin: SlackStandin;
  const children: ChildService[] = [];
  let reader: TopicReader | undefined;

  beforeAll(async () => {
    db = await connectPg(stack.databaseUrl);
    standin = await startSlackStandin({ pace: standinPace });
    await insertListings(
      db,
      stack,
      IDS.map((id) => ({ id, price: '100.00' })),
    );
  });

  afterAll(async () => {
    for (const child of children) await child.cleanup();
    await reader?.close();
    await standin?.close();
    await deleteListings(db, IDS);
    await db?.end();
  });

  it('delivers every expected message at least once and reports the duplicates', {
    timeout: 180_000,
  }, async () => {
    const groupId = uniqueGroupId('kill');
    await seedGroupAtEnd(stack, groupId);
    const config = testConfig(stack, standin, { groupId, pace: servicePace, maxInFlightRecords });
    const ours = new Set(IDS);
    const delivered = () => standin.messages().filter((m) => ours.has(listingIdOf(m) ?? -1));

    const { child: first } = await startJoinedChild(config, standin, children);

    reader = await openTopicReader({ brokers: stack.kafkaBrokers, topics: [LISTINGS_TOPIC] });
    await db.query('UPDATE public.listings SET prc_amt = 70.00 WHERE lst_id = ANY($1::bigint[])', [IDS]);
    await waitUntil(
      'a third of the burst delivered',
      async () => (delivered().length >= 130 ? true : undefined),
      {
        timeoutMs: 60_000,
        intervalMs: 20,
      },
    );
    first.child.kill('SIGKILL');
    await first.exited;
    const atKill = delivered().length;
    expect(atKill).toBeLessThan(IDS.length);

    const second = await startChild(config, standin);
    children.push(second);
    await waitUntil(
      'every listing notified at least once',
      async () => {
        const seen = new Set(delivered().map((m) => listingIdOf(m)));
        return IDS.every((id) => seen.has(id)) ? true : undefined;
      },
      { timeoutMs: 150_000, intervalMs: 250 },
    );

    const perListing = new Map<number, number>();
    for (const m of delivered())
      perListing.set(listingIdOf(m) ?? -1, (perListing.get(listingIdOf(m) ?? -1) ?? 0) + 1);
    const duplicates = [...perListing.values()].reduce((sum, n) => sum + (n - 1), 0);
    for (const id of IDS) expect(perListing.get(id)).toBeGreaterThanOrEqual(1);
    expect(delivered().every((m) => m.channelName === 'sales-alerts' && m.text.includes('70.00'))).toBe(true);
    // Only records delivered but not yet committed at the kill come again; commits follow deliveries
    // closely, so that is a handful, never more than the in-flight bound.
    expect(duplicates).toBeLessThanOrEqual(maxInFlightRecords);
    console.log(
      `[kill -9] ${IDS.length} expected, ${atKill} delivered before the kill, ${delivered().length} in all: ` +
        `${duplicates} duplicate(s)`,
    );
    // A graceful stop of the second process: SIGTERM, exit 0, everything finished is committed.
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    const updates = await reader.take(
      (r) => ours.has(Number(keyListingId(r))) && opOf(r) === 'u',
      IDS.length,
    );
    // Per partition (the topic is keyed by listing id), the committed position passed its last update.
    const committed = await committedOffsets(stack, groupId);
    const lastByPartition = new Map<number, bigint>();
    for (const r of updates) {
      const offset = BigInt(r.offset);
      if (offset > (lastByPartition.get(r.partition) ?? -1n)) lastByPartition.set(r.partition, offset);
    }
    for (const [partition, last] of lastByPartition) {
      const c = committed.find((p) => p.partition === partition);
      expect(BigInt(c?.offset ?? -1), `partition ${partition}`).toBeGreaterThan(last);
    }
    expect(second.output.join('\n')).toContain('"msg":"stopped"');
    expect(second.output.join('\n')).not.toContain(standin.token);
    expect(first.output.join('\n')).not.toContain(standin.token);
  });
});
