/**
 * A broker restart in the middle of a steady stream of updates loses nothing: the consumer and the
 * dead-letter producer reconnect, uncommitted work is not lost, and every expected message arrives.
 * The broker is restarted with `scripts/stack.sh restart kafka` (TERM, then start on the same data).
 * Other users of the shared stack see the broker go away for the ~10 s this takes.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { keyListingId, type TopicReader } from '../../support/stack.ts';
import {
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

  beforeAll(async () => {
    scenario = await startScenario(stack, {
      name: 'broker',
      listings: IDS.map((id) => ({ id, price: '100.00' })),
      standin: { pace: standinPace },
      config: { pace: servicePace },
    });
    ({ db, standin, running, dlq } = scenario);
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
    const duplicates = delivered().length - IDS.length;
    expect(delivered().every((m) => m.channelName === 'sales-alerts')).toBe(true);

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
      `[broker restart] ${IDS.length} expected, ${delivered().length} delivered (${duplicates} duplicate(s)); ` +
        `joins: ${running.logs().filter((l) => l.msg === 'joined the consumer group').length}`,
    );
  });
});
