/**
 * A broker restart in the middle of a steady stream of updates loses nothing: the consumer and the
 * dead-letter producer reconnect, uncommitted work is not lost, and every expected message arrives.
 * The broker is restarted with `scripts/stack.sh restart kafka` (TERM, then start on the same data).
 * Other users of the shared stack see the broker go away for the ~10 s this takes.
 *
 * Duplicates come two ways, told apart by the record offsets in the service's log:
 * - Debezium's: after the restart Connect may write a change again (at-least-once), as a new record
 *   with its own offset. Measured here, not bounded: the service cannot tell it from a new change.
 * - the service's (issue 9, finding 6, bounded): one record delivered twice, because it finished but
 *   its offset was not committed before the group went back. Records are taken only while fewer than
 *   delivery.maxInFlightRecords are unfinished, and none can be fetched while the broker is away, so
 *   at most MAX_IN_FLIGHT today (none once offsets are kept beside the deliveries, the scale-out
 *   issue's ledger).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { keyListingId, type TopicReader } from '../../support/stack.ts';
import {
  committedOffsets,
  type InProcessService,
  listingIdOf,
  type Scenario,
  type SlackStandin,
  startScenario,
  waitUntil,
} from './harness.ts';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const IDS = Array.from({ length: 120 }, (_, i) => 815_000 + i);
const standinPace = { perSecond: 20, burst: 5 };
const servicePace = { perSecond: 20, burst: 3 };
/** Well below the 120 updates, so that the bound on duplicates below can fail. */
const MAX_IN_FLIGHT = 20;

function restartBroker(): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['scripts/stack.sh', 'restart', 'kafka'], { cwd: repoRoot });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe('service: a broker restart mid-stream', () => {
  const stack = inject('stack');
  let scenario: Scenario | undefined;
  let db: pg.Client;
  let standin: SlackStandin;
  let running: InProcessService;
  let dlq: TopicReader;
  let groupId: string;

  beforeAll(async () => {
    scenario = await startScenario(stack, {
      name: 'broker',
      listings: IDS.map((id) => ({ id, price: '100.00' })),
      standin: { pace: standinPace },
      config: { pace: servicePace, maxInFlightRecords: MAX_IN_FLIGHT },
    });
    ({ db, standin, running, dlq, groupId } = scenario);
  });

  afterAll(() => scenario?.close());

  it('loses nothing', { timeout: 240_000 }, async () => {
    let restart: Promise<{ code: number | null; output: string }> | undefined;
    // A steady 10 updates per second; the broker goes down after 4 s and the stream goes on.
    for (const [i, id] of IDS.entries()) {
      if (i === 40) restart = restartBroker();
      await db.query('UPDATE public.listings SET prc_amt = 55.00 WHERE lst_id = $1', [id]);
      await new Promise((resolve) => setTimeout(resolve, 100)); // pacing the load, not waiting on a condition
    }
    const restarted = await restart;
    expect(restarted?.code, restarted?.output).toBe(0);
    expect(restarted?.output).toContain('kafka: stopping pid');

    const ours = new Set(IDS);
    const delivered = () => standin.messages().filter((m) => ours.has(listingIdOf(m) ?? -1));
    await waitUntil(
      'every listing notified',
      async () => {
        const seen = new Set(delivered().map(listingIdOf));
        return IDS.every((id) => seen.has(id)) ? true : undefined;
      },
      { timeoutMs: 150_000, intervalMs: 500 },
    );
    // Redelivered copies come before the last update on their partition: once the group has
    // committed past every record of ours, no more can come (short of another rebalance). Offsets
    // here are far below 2^53, so Number is exact.
    const lastOfOurs = new Map<number, number>();
    for (const l of running.logs()) {
      if (l.msg !== 'record finished' || !ours.has(Number(l.listingId))) continue;
      const partition = Number(l.partition);
      lastOfOurs.set(partition, Math.max(lastOfOurs.get(partition) ?? -1, Number(l.offset)));
    }
    await waitUntil(
      'the commit past every record of ours',
      async () => {
        const committed = new Map(
          (await committedOffsets(stack, groupId)).map((p) => [p.partition, Number(p.offset)]),
        );
        return [...lastOfOurs].every(([partition, last]) => (committed.get(partition) ?? -1) > last)
          ? true
          : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(delivered().every((m) => m.channelName === 'sales-alerts')).toBe(true);
    const duplicates = delivered().length - IDS.length;
    // Each record of ours (one price change each) is one message; more messages than records are the
    // service's duplicates, more records than listings are Debezium's.
    const records = new Set(
      running
        .logs()
        .filter((l) => l.msg === 'record finished' && ours.has(Number(l.listingId)))
        .map((l) => `${l.topic}/${l.partition}/${l.offset}`),
    );
    const sourceDuplicates = records.size - IDS.length;
    const serviceDuplicates = delivered().length - records.size;
    expect(sourceDuplicates).toBeGreaterThanOrEqual(0);
    expect(serviceDuplicates).toBeGreaterThanOrEqual(0);
    // Finding 6 (issue 9): the service's own duplicates stay within the in-flight bound.
    expect(serviceDuplicates, `${serviceDuplicates} record(s) delivered twice`).toBeLessThanOrEqual(
      MAX_IN_FLIGHT,
    );

    expect(running.logs().filter((l) => l.outcome === 'dead-letter' || l.deadLettered !== undefined)).toEqual(
      [],
    );
    expect(dlq.received().filter((r) => ours.has(Number(keyListingId(r))))).toEqual([]);
    // The service did notice: its Kafka clients complained while the broker was away.
    const troubles = running.logs().filter((l) => l.level === 'warn' || l.level === 'error');
    expect(troubles.length).toBeGreaterThan(0);
    console.log(
      `[broker restart] ${troubles.length} warn/error log lines while the broker was away, e.g. ` +
        `${JSON.stringify(troubles.slice(0, 3).map((l) => l.msg))}`,
    );
    console.log(
      `[broker restart] ${IDS.length} expected, ${delivered().length} delivered (${duplicates} duplicate(s): ` +
        `${sourceDuplicates} written twice by Debezium, ${serviceDuplicates} delivered twice by the service, ` +
        `bound ${MAX_IN_FLIGHT}); ` +
        `joins: ${running.logs().filter((l) => l.msg === 'joined the consumer group').length}`,
    );
  });
});
