/**
 * Memory under a backlog of large records is bounded by configuration (delivery.maxInFlightBytes and
 * the fetch size), not by the backlog: kafkajs hands out record values as views of the whole fetch
 * response, so a record kept while its message waits for Slack must not pin that response.
 *
 * The source here behaves like kafkajs: each fetch is one 16 MiB buffer holding sixteen 1 MiB records
 * (the first one to notify, the rest noise), and nothing but the records refers to it once handed
 * out. Slack never answers, so notified records stay in flight until the bytes bound pauses fetching;
 * then, after a GC, no fetch buffer may still be alive (WeakRefs watch them; process-wide memory
 * counters would also see the other test files running in this process).
 */

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { createRecordLoop } from '../../../src/app/record-loop.ts';
import type { SourceRecord } from '../../../src/domain/record.ts';
import type { RecordSource, SourceHandlers, TopicPartition } from '../../../src/ports/index.ts';
import { createFakeDeadLetter } from '../../support/fake-dead-letter.ts';
import {
  createCapturingLogger,
  createManualClock,
  createManualDeliverer,
  createScriptedPipeline,
  flush,
  loopTestRetryPolicy,
  outcomeFor,
  script,
} from '../../support/fakes.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const MiB = 1024 * 1024;
const RECORD_BYTES = MiB;
const RECORDS_PER_FETCH = 16;

/** A kafkajs-like source: every poll fetches a fresh buffer and hands out views of it. */
function createFetchingSource() {
  /** Each fetch's memory, watched without keeping it alive. */
  const fetched: WeakRef<ArrayBufferLike>[] = [];
  let handlers: SourceHandlers | undefined;
  let offset = 0;
  let paused = false;
  const tp: TopicPartition = { topic: 'monolith.public.listings', partition: 0 };
  const source: RecordSource & {
    poll(): Promise<boolean>;
    paused(): boolean;
    /** Fetch buffers still alive (call after a GC). */
    alive(): number;
  } = {
    async start(h) {
      handlers = h;
      h.onAssigned([tp]);
    },
    pause: () => {
      paused = true;
    },
    resume: () => {
      paused = false;
    },
    commit: async () => {},
    stop: async () => {},
    paused: () => paused,
    alive: () => fetched.filter((f) => f.deref() !== undefined).length,
    /** One fetch round; false when the partition is paused. */
    async poll() {
      if (paused || handlers === undefined) return false;
      const fetch = Buffer.alloc(RECORDS_PER_FETCH * RECORD_BYTES, 0x20);
      fetched.push(new WeakRef(fetch.buffer));
      const records: SourceRecord[] = [];
      for (let i = 0; i < RECORDS_PER_FETCH; i += 1) {
        const view = fetch.subarray(i * RECORD_BYTES, (i + 1) * RECORD_BYTES);
        view.write(script({ kind: i === 0 ? 'notify' : 'dropped', channels: ['#deals'] }));
        records.push({
          ...tp,
          offset: String(offset++),
          key: null,
          value: view,
          headers: { origin: view.subarray(RECORD_BYTES - 4) },
          timestamp: '0',
        });
      }
      await handlers.onBatch({
        ...tp,
        highWatermark: String(offset + 1000),
        records,
        take: () => {},
        heartbeat: async () => {},
        isActive: () => true,
      });
      return true;
    },
  };
  return source;
}

describe('record loop memory under a backlog of large records', () => {
  it('holds at most maxInFlightBytes of record bytes, not the fetch buffers they came in', async () => {
    const maxInFlightBytes = 8 * MiB;
    const source = createFetchingSource();
    const deliverer = createManualDeliverer();
    // Only the head of each value is the script; the trailing spaces are the rest of a 1 MiB record.
    const pipeline = createScriptedPipeline((r) =>
      outcomeFor({ ...r, value: Buffer.from((r.value as Buffer).toString('latin1', 0, 200).trim()) }),
    );
    const loop = createRecordLoop({
      pipeline,
      deliverer,
      deadLetter: createFakeDeadLetter(),
      source,
      clock: createManualClock(),
      logger: createCapturingLogger(),
      limits: { maxInFlightRecords: 1000, maxInFlightBytes, maxFoldedRecords: 1000 },
      maxQueuedPerChannel: 1000,
      retry: loopTestRetryPolicy,
      onFatal: (e) => {
        throw e;
      },
    });
    await source.start(loop);

    // A backlog of 64 fetches (1 GiB) would be there to read; the bound pauses long before.
    let fetches = 0;
    while (fetches < 64 && (await source.poll())) {
      fetches += 1;
      await flush();
    }
    expect(source.paused()).toBe(true);
    const status = loop.status();
    expect(status.inFlightBytes).toBeLessThanOrEqual(maxInFlightBytes);
    // Records being handled count too until they settle, so a few fewer may wait for Slack.
    expect(status.inFlight).toBeGreaterThanOrEqual(maxInFlightBytes / RECORD_BYTES - 2);
    expect(deliverer.pending('#deals')).toBe(status.inFlight);

    // WeakRef targets stay alive until the current job ends: collect between turns.
    for (let i = 0; i < 3; i += 1) {
      await flush();
      gc();
    }
    // Each waiting record kept its own 1 MiB, not the 16 MiB fetch it came in (which would be
    // 8 x 16 MiB for 8 MiB of records); the last fetch may still be referenced by the finished batch.
    expect(fetches).toBeGreaterThanOrEqual(status.inFlight);
    expect(source.alive()).toBeLessThanOrEqual(1);
    loop.abortAll(new Error('test over'));
    await flush();
  });
});
