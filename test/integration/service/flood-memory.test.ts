/**
 * Flood control inside the Deployment's memory limit (issue 16): the service runs as a child process
 * in a memory cgroup capped at k8s/app/deployment.yaml's `limits.memory`, with its NODE_OPTIONS, the
 * default flood settings and the stand-in at Slack's pace (1/s per channel, burst 3). 30,000 listings
 * are repriced in one UPDATE through Debezium, more than `flood.maxFoldedRecords` (24,000) holds, so
 * the partitions pause and resume while digest parts go out; then one unrelated unpublish.
 *
 * Asserted: the process is never killed (no OOM kill in the cgroup, still running at the end), every
 * listing is conveyed exactly once (its own message, a digest line or a CSV row), the unpublish
 * arrives, and #sales-alerts gets no more top-level messages than flood control allows: the budget's
 * messages of their own (with the burst) and one digest per window, later parts in its thread.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { capacityOf } from '../../../src/delivery/fold.ts';
import {
  cgroupAvailable,
  createMemoryCgroup,
  deployedEnv,
  deployedMemoryLimitBytes,
  deployedNodeOptions,
  type MemoryCgroup,
} from '../../support/cgroup.ts';
import { connectPg } from '../../support/stack.ts';
import {
  type ChildService,
  conveyedListings,
  deleteListingsStreamed,
  insertListings,
  listingIdOf,
  type SlackStandin,
  seedGroupAtEnd,
  startJoinedChild,
  startSlackStandin,
  testConfig,
  uniqueGroupId,
  waitUntil,
} from './harness.ts';

const N = 30_000;
const IDS = Array.from({ length: N }, (_, i) => 700_000 + i); // 700000-729999: no other test's ids
const UNPUBLISHED = 699_999;
const slackPace = { perSecond: 1, burst: 3 };

describe('service: a bulk larger than flood.maxFoldedRecords inside the Deployment memory limit', () => {
  const stack = inject('stack');
  let db: pg.Client;
  let standin: SlackStandin;
  let cgroup: MemoryCgroup | undefined;
  const children: ChildService[] = [];

  beforeAll(async () => {
    // Root and the cgroup v1 memory controller are part of this machine (README, prerequisites).
    if (!cgroupAvailable())
      throw new Error('needs root and /sys/fs/cgroup/memory (cgroup v1) to enforce the limit');
    db = await connectPg(stack.databaseUrl);
    standin = await startSlackStandin({ pace: slackPace });
    await insertListings(db, stack, [
      ...IDS.map((id) => ({ id, price: '100.00' })),
      { id: UNPUBLISHED, status: 'A' as const },
    ]);
  }, 900_000);

  afterAll(async () => {
    for (const child of children) await child.cleanup();
    await cgroup?.remove();
    await standin?.close();
    if (db !== undefined) await deleteListingsStreamed(db, stack, [...IDS, UNPUBLISHED]);
    await db?.end();
  });

  it('is never killed, conveys every listing once, and the unpublish arrives', {
    timeout: 300_000,
  }, async () => {
    const groupId = uniqueGroupId('flood-memory');
    await seedGroupAtEnd(stack, groupId);
    const limitBytes = deployedMemoryLimitBytes();
    cgroup = await createMemoryCgroup(`ln-e2e-flood-memory-${process.pid}`, limitBytes);
    const config = testConfig(stack, standin, { groupId, pace: slackPace, flood: { enabled: true } });
    expect(N).toBeGreaterThan(config.delivery.flood.maxFoldedRecords);
    const { child: started } = await startJoinedChild(config, standin, children, {
      cgroupProcsFile: cgroup.procsFile,
      env: deployedEnv(),
    });

    const t0 = Date.now();
    await db.query('UPDATE public.listings SET prc_amt = 85.00 WHERE lst_id = ANY($1::bigint[])', [IDS]);
    await db.query(`UPDATE public.listings SET "LST_STAT_CD" = 'U' WHERE lst_id = $1`, [UNPUBLISHED]);

    const seen = await waitUntil(
      'every repriced listing conveyed in #sales-alerts',
      async () => {
        if (started.child.exitCode !== null || started.child.signalCode !== null) {
          throw new Error(`the service exited (${started.child.signalCode ?? started.child.exitCode})`);
        }
        const all = conveyedListings(standin, 'sales-alerts');
        return IDS.every((id) => all.has(id)) ? all : undefined;
      },
      { timeoutMs: 240_000, intervalMs: 500 },
    );
    const conveyedSeconds = (Date.now() - t0) / 1000;
    await waitUntil('the unpublish in #support-heads-up', async () =>
      standin.messages('support-heads-up').find((m) => listingIdOf(m) === UNPUBLISHED),
    );

    const twice = IDS.filter((id) => (seen.get(id)?.length ?? 0) !== 1);
    expect(twice, 'listings conveyed other than exactly once').toEqual([]);
    const all = standin.messages('sales-alerts');
    const topLevel = all.filter((m) => m.threadTs === undefined && m.files === undefined).length;
    // Messages of their own: the pending bound (one slot kept for the digest) plus what the burst
    // sent at once (no longer pending); then one top-level digest per window the bulk spanned, later
    // parts going in its thread. 9 + 3 + 1 = 13 at the defaults for a bulk within one window.
    const { flood, perChannel, burst } = config.delivery;
    const windows = 1 + Math.floor((conveyedSeconds * 1000) / flood.digestWindowMs);
    const bound = capacityOf(flood.budgetMs, perChannel) - 1 + burst + windows;
    expect(topLevel).toBeLessThanOrEqual(bound);
    const stats = await cgroup.stats();
    expect(stats.oomKills).toBe(0);
    expect(started.child.exitCode).toBeNull();
    expect(started.child.signalCode).toBeNull();
    console.log(
      `[flood memory] ${N} listings under ${limitBytes / 1048576} MiB (${deployedNodeOptions()}): ` +
        `all conveyed ${conveyedSeconds.toFixed(1)} s after the UPDATE; ${topLevel} top-level messages ` +
        `in #sales-alerts (bound ${bound}); cgroup max ${(stats.maxUsageBytes / 1048576).toFixed(0)} MB, failcnt ${stats.failcnt}, ` +
        `OOM kills ${stats.oomKills}`,
    );
    started.child.kill('SIGTERM');
    expect(await started.exited).toBe(0);
  });
});
