import { describe, expect, it } from 'vitest';
import { createRecordLoop, type RecordLoopOptions } from '../../../src/app/record-loop.ts';
import { NotifierError } from '../../../src/domain/errors.ts';
import { createFakeDeadLetter } from '../../support/fake-dead-letter.ts';
import { createFakeSource } from '../../support/fake-source.ts';
import {
  createCapturingLogger,
  createManualClock,
  createManualDeliverer,
  createRecordingMetrics,
  createScriptedPipeline,
  flush,
  loopTestRetryPolicy,
  script,
  settled,
} from '../../support/fakes.ts';

interface SetupOptions extends Partial<RecordLoopOptions> {
  partitions?: number;
  /** The in-flight bound (delivery.maxInFlightRecords); default 100. */
  maxInFlightRecords?: number;
  /** The fake deliverer's own queue bound, for waitForRoom. */
  deliverQueueBound?: number;
}

async function setup(options: SetupOptions = {}) {
  const { partitions, deliverQueueBound, maxInFlightRecords, ...overrides } = options;
  const source = createFakeSource({ partitions: partitions ?? 1 });
  const clock = createManualClock();
  const pipeline = createScriptedPipeline();
  const deliverer = createManualDeliverer(deliverQueueBound);
  const deadLetter = createFakeDeadLetter();
  const logger = createCapturingLogger();
  const metrics = createRecordingMetrics();
  const fatals: unknown[] = [];
  const loop = createRecordLoop({
    pipeline,
    deliverer,
    deadLetter,
    source,
    clock,
    logger,
    metrics,
    limits: {
      maxInFlightRecords: maxInFlightRecords ?? 100,
      maxInFlightBytes: 1 << 30,
      maxFoldedRecords: 1000,
    },
    maxQueuedPerChannel: 50,
    retry: loopTestRetryPolicy,
    random: () => 0.5,
    onFatal: (e) => fatals.push(e),
    ...overrides,
  });
  await source.start(loop);
  const pollAndSettle = async () => {
    await source.poll();
    await flush();
  };
  return { source, clock, pipeline, deliverer, deadLetter, logger, metrics, fatals, loop, pollAndSettle };
}

const notify = (...channels: string[]) => script({ kind: 'notify', channels, listingId: '7' });

describe('record loop', () => {
  it('commits a filtered-out record at once: filtered is success', async () => {
    const t = await setup();
    t.source.produce(0, script({ kind: 'dropped', listingId: '7' }));
    await t.pollAndSettle();
    expect(t.source.committed(0)).toBe('1');
    expect(t.deliverer.handed).toEqual([]);
    expect(t.metrics.outcomes).toEqual([['dropped', 'insignificant']]);
  });

  it('commits a notified record only after every routed channel delivered', async () => {
    const t = await setup();
    t.source.produce(0, notify('#deals', '#ops'));
    await t.pollAndSettle();
    expect(t.deliverer.handed.map((m) => m.channel)).toEqual(['#deals', '#ops']);
    t.deliverer.complete('#deals');
    await flush();
    expect(t.source.committed(0)).toBeUndefined();
    t.deliverer.complete('#ops');
    await settled(() => t.source.committed(0) === '1', 't.source.committed(0) to be 1');
    expect(t.source.committed(0)).toBe('1');
  });

  it('writes one log line per outcome with topic, partition, offset, listing id, outcome and reason', async () => {
    const t = await setup();
    t.source.produce(0, notify('#deals'));
    await t.pollAndSettle();
    await t.deliverer.completeAll();
    const finished = t.logger.lines.filter((l) => l.msg === 'record finished');
    expect(finished).toHaveLength(1);
    expect(finished[0]?.fields).toMatchObject({
      topic: 'monolith.public.listings',
      partition: 0,
      offset: '0',
      listingId: '7',
      outcome: 'notify',
      reason: 'notify: price decreased -> sales-alerts',
      channels: ['#deals'],
    });
  });

  it('hands messages to the scheduler in record order, and commits only past the contiguous finished run', async () => {
    const t = await setup();
    t.source.produce(0, notify('#slow'));
    t.source.produce(0, notify('#fast'));
    t.source.produce(0, notify('#slow'));
    await t.pollAndSettle();
    expect(t.deliverer.handed.map((m) => m.payload.text)).toEqual(['offset 0', 'offset 1', 'offset 2']);
    t.deliverer.complete('#fast');
    await flush();
    expect(t.source.committed(0)).toBeUndefined();
    t.deliverer.complete('#slow');
    await settled(() => t.source.committed(0) === '2', 't.source.committed(0) to be 2');
    expect(t.source.committed(0)).toBe('2');
    t.deliverer.complete('#slow');
    await settled(() => t.source.committed(0) === '3', 't.source.committed(0) to be 3');
    expect(t.source.committed(0)).toBe('3');
  });

  it('lets partitions proceed independently', async () => {
    const t = await setup({ partitions: 2 });
    t.source.produce(0, notify('#stuck'));
    t.source.produce(1, notify('#deals'));
    t.source.produce(1, script({ kind: 'dropped' }));
    await t.pollAndSettle();
    t.deliverer.complete('#deals');
    await settled(() => t.source.committed(1) === '2', 't.source.committed(1) to be 2');
    expect(t.source.committed(1)).toBe('2');
    expect(t.source.committed(0)).toBeUndefined();
  });

  it('dead-letters a poison record and keeps reading the partition', async () => {
    const t = await setup();
    const poison = t.source.produce(0, script({ kind: 'dead-letter' }));
    t.source.produce(0, notify('#deals'));
    await t.pollAndSettle();
    await t.deliverer.completeAll();
    expect(t.deadLetter.sent).toHaveLength(1);
    // The same record, with bytes of its own (not a view of the fetch it came in).
    expect(t.deadLetter.sent[0]?.record).toStrictEqual(poison);
    expect(t.deadLetter.sent[0]?.error.code).toBe('DECODE_FAILED');
    expect(t.deadLetter.sent[0]?.channel).toBeUndefined();
    expect(t.source.committed(0)).toBe('2');
    expect(t.metrics.outcomes).toEqual([
      ['dead-letter', 'DECODE_FAILED'],
      ['notify', 'notify'],
    ]);
  });

  it('retries a failed dead-letter write with backoff and commits only once it is written', async () => {
    const t = await setup();
    t.deadLetter.failNext(2);
    t.source.produce(0, script({ kind: 'dead-letter' }));
    await t.pollAndSettle();
    expect(t.deadLetter.calls).toBe(1);
    expect(t.source.committed(0)).toBeUndefined();
    await t.clock.advance(50); // first retry after 100 ms * (1 - 0 jitter)
    expect(t.deadLetter.calls).toBe(1);
    await t.clock.advance(50);
    expect(t.deadLetter.calls).toBe(2);
    await t.clock.advance(200);
    expect(t.deadLetter.calls).toBe(3);
    expect(t.deadLetter.sent).toHaveLength(1);
    expect(t.source.committed(0)).toBe('1');
    expect(t.fatals).toEqual([]);
  });

  it('dead-letters a message that failed permanently for one channel; the record still counts as delivered', async () => {
    const t = await setup();
    t.source.produce(0, notify('#archived', '#deals'));
    await t.pollAndSettle();
    const permanent = new NotifierError('SLACK_PERMANENT', 'is_archived', {
      details: { slackError: 'is_archived' },
    });
    t.deliverer.complete('#archived', { ok: false, error: permanent });
    t.deliverer.complete('#deals');
    await settled(() => t.deadLetter.sent.length === 1, 't.deadLetter.sent to have 1');
    expect(t.deadLetter.sent).toHaveLength(1);
    expect(t.deadLetter.sent[0]).toMatchObject({ channel: '#archived', error: permanent });
    expect(t.source.committed(0)).toBe('1');
    const line = t.logger.lines.find((l) => l.msg === 'record finished');
    expect(line?.fields).toMatchObject({
      channels: ['#deals'],
      deadLettered: [{ channel: '#archived', code: 'SLACK_PERMANENT' }],
    });
  });

  it('stops on an auth failure without committing the record or taking more', async () => {
    const t = await setup();
    t.source.produce(0, notify('#deals'));
    t.source.produce(0, script({ kind: 'dropped' }));
    await t.pollAndSettle();
    const auth = new NotifierError('SLACK_AUTH', 'invalid_auth');
    t.deliverer.complete('#deals', { reject: auth });
    await flush();
    expect(t.fatals).toEqual([auth]);
    expect(t.source.committed(0)).toBe(undefined);
    expect(t.deadLetter.sent).toEqual([]);
    expect(t.loop.status().stopping).toBe(true);
  });

  it('retries a transient pipeline failure in place, heartbeating while it waits', async () => {
    const t = await setup({ heartbeatEveryMs: 40 });
    t.pipeline.throwNext(new NotifierError('REGISTRY_UNAVAILABLE', 'registry down'));
    t.source.produce(0, script({ kind: 'dropped' }));
    const polling = t.source.poll();
    await flush();
    expect(t.source.committed(0)).toBeUndefined();
    await t.clock.advance(100);
    await polling;
    await flush();
    expect(t.source.heartbeats).toBeGreaterThanOrEqual(2);
    expect(t.pipeline.calls).toBe(2);
    expect(t.source.committed(0)).toBe('1');
  });

  it('issue 19: dead-letters a record the pipeline throws on unexpectedly (PROCESSING_FAILED) and goes on', async () => {
    const t = await setup();
    const bug = new RangeError('Maximum call stack size exceeded');
    t.pipeline.throwNext(bug);
    t.source.produce(0, script({ kind: 'dropped' }));
    t.source.produce(0, notify('#deals'));
    await t.pollAndSettle();
    await t.deliverer.completeAll();
    expect(t.fatals).toEqual([]);
    expect(t.deadLetter.sent).toHaveLength(1);
    expect(t.deadLetter.sent[0]?.error).toMatchObject({
      code: 'PROCESSING_FAILED',
      disposition: 'dead-letter',
      details: { stage: 'pipeline', name: 'RangeError' },
    });
    expect(t.deadLetter.sent[0]?.error.message).toContain('Maximum call stack size exceeded');
    expect(t.source.committed(0)).toBe('2');
    expect(t.metrics.outcomes).toEqual([
      ['dead-letter', 'PROCESSING_FAILED'],
      ['notify', 'notify'],
    ]);
  });

  it('still stops on a stop error the pipeline throws (misconfiguration is not a bad record)', async () => {
    const t = await setup();
    const auth = new NotifierError('REGISTRY_AUTH', 'registry refused the credentials');
    t.pipeline.throwNext(auth);
    t.source.produce(0, script({ kind: 'dropped' }));
    await t.pollAndSettle();
    expect(t.fatals).toEqual([auth]);
    expect(t.source.committed(0)).toBeUndefined();
    expect(t.deadLetter.sent).toEqual([]);
  });

  it('issue 19: a fold that throws while a message is handed over dead-letters that channel, not the service', async () => {
    const t = await setup();
    const submit = t.deliverer.submit.bind(t.deliverer);
    t.deliverer.submit = (message, event, signal, origin) => {
      if (message.channel === '#broken') throw new TypeError('fold bug');
      return submit(message, event, signal, origin);
    };
    t.source.produce(0, notify('#broken', '#deals'));
    t.source.produce(0, notify('#deals'));
    await t.pollAndSettle();
    await t.deliverer.completeAll();
    await flush();
    expect(t.fatals).toEqual([]);
    expect(t.deadLetter.sent).toHaveLength(1);
    expect(t.deadLetter.sent[0]).toMatchObject({
      channel: '#broken',
      error: { code: 'PROCESSING_FAILED', details: { stage: 'fold' } },
    });
    expect(t.deliverer.handed.map((m) => m.channel)).toEqual(['#deals', '#deals']);
    expect(t.source.committed(0)).toBe('2');
  });

  it('issue 19: a fold decision that throws in admission admits the record, and handing it over decides', async () => {
    const t = await setup();
    t.deliverer.accepts = () => {
      throw new TypeError('wouldQueue bug');
    };
    t.source.produce(0, notify('#deals'));
    await t.pollAndSettle();
    await t.deliverer.completeAll();
    await flush();
    expect(t.fatals).toEqual([]);
    expect(t.source.committed(0)).toBe('1');
  });

  it('bounds in-flight records: pauses the partition when full and resumes below the low watermark', async () => {
    const t = await setup({ maxInFlightRecords: 4 });
    for (let i = 0; i < 12; i += 1) t.source.produce(0, notify('#deals'));
    await t.pollAndSettle();
    expect(t.deliverer.pending()).toBe(4);
    expect(t.source.isPaused(0)).toBe(true);
    await t.pollAndSettle(); // paused: nothing more is taken
    expect(t.deliverer.handed).toHaveLength(4);

    t.deliverer.complete('#deals');
    await settled(() => t.source.isPaused(0) === true, 't.source.isPaused(0) to be true');
    expect(t.source.isPaused(0)).toBe(true); // 3 in flight is not below 3
    t.deliverer.complete('#deals');
    await settled(() => t.source.isPaused(0) === false, 't.source.isPaused(0) to be false');
    expect(t.source.isPaused(0)).toBe(false);

    let maxPending = 0;
    while (t.source.committed(0) !== '12') {
      await t.pollAndSettle();
      maxPending = Math.max(maxPending, t.deliverer.pending());
      if (t.deliverer.pending() > 0) t.deliverer.complete('#deals');
      await flush();
    }
    expect(maxPending).toBeLessThanOrEqual(4);
    expect(t.deliverer.handed).toHaveLength(12);
  });

  it('pauses a partition whose next record routes to a full channel queue, and resumes when it drains', async () => {
    const t = await setup({ maxQueuedPerChannel: 4, deliverQueueBound: 4 });
    for (let i = 0; i < 8; i += 1) t.source.produce(0, notify('#deals'));
    await t.pollAndSettle();
    expect(t.deliverer.pending('#deals')).toBe(4);
    expect(t.source.isPaused(0)).toBe(true);
    t.deliverer.complete('#deals');
    await settled(() => t.source.isPaused(0) === true, 't.source.isPaused(0) to be true');
    expect(t.source.isPaused(0)).toBe(true); // 3 queued is not below the low watermark of 3
    t.deliverer.complete('#deals');
    await settled(() => t.source.isPaused(0) === false, 't.source.isPaused(0) to be false');
    expect(t.source.isPaused(0)).toBe(false);
    await t.pollAndSettle();
    expect(t.deliverer.pending('#deals')).toBe(4);
    expect(t.deliverer.handed).toHaveLength(6);
    expect(t.source.isPaused(0)).toBe(true);
  });

  it('after a rejoin that keeps the partition, does not take in-flight records a second time', async () => {
    const t = await setup();
    t.source.produce(0, notify('#deals'));
    t.source.produce(0, notify('#deals'));
    await t.pollAndSettle();
    t.source.rebalance([0]); // kafkajs restarts from the committed offset (none yet)
    await t.pollAndSettle();
    expect(t.deliverer.handed).toHaveLength(2);
    await t.deliverer.completeAll();
    expect(t.source.committed(0)).toBe('2');
  });

  it('drops the work of a revoked partition: aborts its deliveries and never commits it', async () => {
    const t = await setup({ partitions: 2 });
    t.source.produce(0, notify('#deals'));
    t.source.produce(1, notify('#ops'));
    await t.pollAndSettle();
    t.source.rebalance([1]);
    await settled(() => t.deliverer.aborted === 1, 't.deliverer.aborted to be 1');
    expect(t.deliverer.aborted).toBe(1);
    expect(t.deliverer.pending('#deals')).toBe(0);
    await t.deliverer.completeAll();
    expect(t.source.committed(0)).toBeUndefined();
    expect(t.source.committed(1)).toBe('1');
    expect(t.loop.status().inFlight).toBe(0);
    expect(t.fatals).toEqual([]);
  });

  it('keeps only topic and partition of a paused batch (regression: /readyz served the held records)', async () => {
    const t = await setup({ maxInFlightRecords: 2 });
    for (let i = 0; i < 5; i += 1) t.source.produce(0, notify('#deals'));
    await t.pollAndSettle();
    expect(t.source.isPaused(0)).toBe(true);
    expect(t.loop.status().paused).toEqual([{ topic: expect.any(String), partition: 0 }]);
  });

  it('does not leave a partition paused when it is revoked while paused and assigned again', async () => {
    const t = await setup({ maxInFlightRecords: 1 });
    t.source.produce(0, notify('#deals'));
    t.source.produce(0, notify('#deals'));
    await t.pollAndSettle();
    expect(t.source.isPaused(0)).toBe(true);
    t.source.rebalance([]);
    t.source.rebalance([0]);
    // The revoked assignment's work is aborted and settles; the partition fetches again.
    await settled(() => t.loop.status().inFlight === 0, 'the revoked record to settle');
    expect(t.source.isPaused(0)).toBe(false);
    await t.pollAndSettle();
    expect(t.deliverer.pending('#deals')).toBe(1);
  });

  it('retries a failed commit after a backoff', async () => {
    const t = await setup();
    t.source.failCommits(1);
    t.source.produce(0, script({ kind: 'dropped' }));
    await t.pollAndSettle();
    expect(t.source.committed(0)).toBeUndefined();
    await t.clock.advance(100);
    await settled(() => t.source.committed(0) === '1', 't.source.committed(0) to be 1');
    expect(t.source.committed(0)).toBe('1');
  });

  it('on shutdown stops taking, lets in-flight records finish, and commits them', async () => {
    const t = await setup();
    t.source.produce(0, notify('#deals'));
    await t.pollAndSettle();
    t.source.produce(0, notify('#deals'));
    const draining = t.loop.drain(25_000);
    await settled(() => t.source.isPaused(0) === true, 't.source.isPaused(0) to be true');
    expect(t.source.isPaused(0)).toBe(true);
    t.deliverer.complete('#deals');
    await expect(draining).resolves.toEqual({ unfinished: 0 });
    expect(t.source.committed(0)).toBe('1');
    expect(t.deliverer.handed).toHaveLength(1);
  });

  it('on shutdown past the deadline aborts what is left and commits only what finished', async () => {
    const t = await setup();
    t.source.produce(0, script({ kind: 'dropped' }));
    t.source.produce(0, notify('#slow'));
    await t.pollAndSettle();
    const draining = t.loop.drain(25_000);
    await flush();
    await t.clock.advance(25_000);
    await expect(draining).resolves.toEqual({ unfinished: 1 });
    expect(t.deliverer.aborted).toBe(1);
    expect(t.source.committed(0)).toBe('1');
  });

  it('reports a stall when records are in flight and nothing finishes', async () => {
    const t = await setup();
    expect(t.loop.status()).toMatchObject({ joined: true, inFlight: 0, stalledForMs: 0 });
    t.source.produce(0, notify('#deals'));
    await t.pollAndSettle();
    await t.clock.advance(90_000);
    expect(t.loop.status()).toMatchObject({ inFlight: 1, stalledForMs: 90_000 });
    t.deliverer.complete('#deals');
    await settled(() => t.loop.status().stalledForMs === 0, 't.loop.status().stalledForMs to be 0');
    expect(t.loop.status().stalledForMs).toBe(0);
  });

  it('observes end-to-end latency from the source timestamp to the delivery', async () => {
    const t = await setup();
    const sourceTsMs = t.clock.now() - 1500;
    t.source.produce(0, script({ kind: 'notify', channels: ['#deals'], sourceTsMs }));
    await t.pollAndSettle();
    t.deliverer.complete('#deals');
    await flush();
    expect(t.metrics.latencies).toEqual([1.5]);
  });

  it('reports consumer lag from the high watermark and the committed position', async () => {
    const t = await setup();
    for (let i = 0; i < 3; i += 1) t.source.produce(0, notify('#deals'));
    await t.pollAndSettle();
    expect(t.metrics.lags.get('monolith.public.listings[0]')).toBe(3);
    t.deliverer.complete('#deals');
    await settled(
      () => t.metrics.lags.get('monolith.public.listings[0]') === 2,
      't.metrics.lags.get(monolith.public.listings[0]) to be 2',
    );
    expect(t.metrics.lags.get('monolith.public.listings[0]')).toBe(2);
  });

  it('a consumer that crashed for good stops the service; one that restarts does not', async () => {
    const t = await setup();
    t.loop.onCrash(new Error('broker went away'), true);
    expect(t.fatals).toEqual([]);
    expect(t.loop.status().joined).toBe(false);
    const gaveUp = new Error('KafkaJSNumberOfRetriesExceeded');
    t.loop.onCrash(gaveUp, false);
    expect(t.fatals).toEqual([gaveUp]);
  });
});
