/**
 * The per-record loop: source batch -> pipeline -> delivery / dead-letter -> commit.
 *
 * Records of a partition are taken in order and handed to the delivery scheduler in that order (its
 * per-channel queues keep it), but they finish out of order; the commit tracker commits only past the
 * contiguous finished run. The batch handler never waits on Slack: when the bound on in-flight records
 * or a channel's queue is reached, it pauses that partition and returns, because kafkajs fetches the next
 * round for every partition of a broker only after all handlers of the last round returned (one slow
 * partition would otherwise hold up the others, and a handler stuck past sessionTimeout costs a
 * rebalance). The only waits inside the handler are the pipeline's own retries, which heartbeat.
 */
import { createCommitTracker, type TopicPartition } from '../delivery/commit-tracker.ts';
import { backoffDelay, type RetryPolicy } from '../delivery/retry-policy.ts';
import type { NotifierError } from '../domain/errors.ts';
import type { Outcome } from '../domain/outcome.ts';
import type { SourceRecord } from '../domain/record.ts';
import type { Clock, DeadLetterSink, Logger, Metrics } from '../ports/index.ts';
import { noopLogger, noopMetrics } from '../ports/index.ts';
import { createBackpressure, keyOf } from './backpressure.ts';
import { createCommitter } from './committer.ts';
import { type Completion, completeRecord, type Deliverer } from './complete-record.ts';
import { describeError, dispositionOf } from './disposition.ts';
import type { RecordSource, SourceBatch, SourceHandlers } from './record-source.ts';

/** src/pipeline/index.ts's Pipeline: never throws for a record problem; rethrows 'retry' and 'stop' errors. */
export interface RecordPipeline {
  process(record: SourceRecord): Promise<Outcome>;
}

export interface RecordLoopOptions {
  pipeline: RecordPipeline;
  deliverer: Deliverer;
  deadLetter: DeadLetterSink;
  source: Pick<RecordSource, 'pause' | 'resume' | 'commit'>;
  clock: Clock;
  metrics?: Metrics;
  logger?: Logger;
  /** Records taken and not finished, over all partitions (delivery.maxInFlightRecords). */
  maxInFlightRecords: number;
  /** A channel's queue length at which partitions routing to it pause (delivery.maxQueuedPerChannel). */
  maxQueuedPerChannel: number;
  /** Backoff for pipeline, dead-letter and commit retries (delivery.retry). */
  retry: RetryPolicy;
  /** Default Math.random; tests pass a fixed one. */
  random?: () => number;
  /** How often to heartbeat while the handler itself waits. Default 3000 (kafkajs's heartbeatInterval). */
  heartbeatEveryMs?: number;
  /** Called once when the service must stop (a 'stop' error, a consumer that gave up). */
  onFatal(error: unknown): void;
}

export interface LoopStatus {
  joined: boolean;
  stopping: boolean;
  inFlight: number;
  assigned: TopicPartition[];
  paused: TopicPartition[];
  /** Time since the last finished record while records are in flight; 0 when idle. */
  stalledForMs: number;
}

export interface RecordLoop extends SourceHandlers {
  /** Stop taking records, pause fetching, wait up to `deadlineMs` for in-flight records, abort the rest, commit what is finished. */
  drain(deadlineMs: number): Promise<{ unfinished: number }>;
  /** Abort everything in flight now (fatal stop); nothing unfinished is committed. */
  abortAll(reason: unknown): void;
  /** Commit whatever is finished and not yet committed; resolves when done (or failed, logged). */
  commitNow(): Promise<void>;
  status(): LoopStatus;
}

/**
 * The metric label of a reason: the pipeline writes reasons as `<class>: <detail>` with a small fixed
 * set of classes; the detail (field names, channels, error text) would make the label unbounded.
 */
export const reasonClass = (reason: string): string => {
  const colon = reason.indexOf(':');
  return (colon < 0 ? reason : reason.slice(0, colon)).trim() || 'unknown';
};

export function createRecordLoop(options: RecordLoopOptions): RecordLoop {
  const { pipeline, deliverer, deadLetter, source, clock, retry, maxInFlightRecords, maxQueuedPerChannel } =
    options;
  const metrics = options.metrics ?? noopMetrics;
  const logger = options.logger ?? noopLogger;
  const random = options.random ?? Math.random;
  const heartbeatEveryMs = options.heartbeatEveryMs ?? 3000;

  const tracker = createCommitTracker();
  const everything = new AbortController();
  const partitionAborts = new Map<string, AbortController>();
  const highWatermarks = new Map<string, string>();
  let assigned: TopicPartition[] = [];
  let joined = false;
  let stopping = false;
  let fatalSeen = false;
  let inFlight = 0;
  let lastProgressAt = clock.now();
  let idleWaiters: Array<() => void> = [];
  const completionDeps = { deliverer, deadLetter, clock, metrics, logger, retry, random };

  const fatal = (error: unknown): void => {
    if (fatalSeen) return;
    fatalSeen = true;
    stopping = true;
    options.onFatal(error);
  };

  const signalFor = (tp: TopicPartition): AbortSignal => {
    const key = keyOf(tp);
    let controller = partitionAborts.get(key);
    if (controller === undefined) {
      controller = new AbortController();
      partitionAborts.set(key, controller);
    }
    return AbortSignal.any([everything.signal, controller.signal]);
  };

  const updateLag = (tp: TopicPartition, fallbackPosition?: string): void => {
    const hw = highWatermarks.get(keyOf(tp));
    const position = tracker.position(tp) ?? fallbackPosition;
    if (hw === undefined || position === undefined) return;
    metrics.setConsumerLag(tp.topic, tp.partition, Math.max(0, Number(BigInt(hw) - BigInt(position))));
  };

  const committer = createCommitter({
    tracker,
    source,
    clock,
    logger,
    retry,
    random,
    canCommit: () => joined, // onAssigned commits once the membership is settled again
    signal: everything.signal,
    onCommitted: (offsets) => {
      for (const o of offsets) updateLag(o);
    },
  });
  const scheduleCommit = committer.schedule;

  // --- backpressure -----------------------------------------------------------------------------
  const backpressure = createBackpressure({
    source,
    deliverer,
    logger,
    maxInFlightRecords,
    maxQueuedPerChannel,
    inFlight: () => inFlight,
    stopping: () => stopping,
  });

  // --- one record -------------------------------------------------------------------------------
  const settle = (record: SourceRecord, outcome: Outcome, ticket: ReturnType<typeof tracker.take>) => {
    return (completion: Completion): void => {
      inFlight -= 1;
      const fields = {
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
        listingId: outcome.listingId,
      };
      if (completion.kind === 'finished') {
        tracker.finish(ticket);
        lastProgressAt = clock.now();
        metrics.recordOutcome(outcome.kind, reasonClass(outcome.reason));
        const error = outcome.kind === 'dead-letter' ? describeError(outcome.error) : undefined;
        logger.info(
          {
            ...fields,
            outcome: outcome.kind,
            reason: outcome.reason,
            ...(completion.delivered.length > 0 ? { channels: completion.delivered } : {}),
            ...(completion.deadLettered.length > 0 ? { deadLettered: completion.deadLettered } : {}),
            ...(error === undefined ? {} : { error }),
          },
          'record finished',
        );
        void scheduleCommit();
      } else if (completion.kind === 'abandoned') {
        logger.debug({ ...fields, outcome: outcome.kind }, 'record abandoned (will be read again)');
      } else {
        logger.error({ ...fields, error: describeError(completion.error) }, 'record hit a stop error');
        fatal(completion.error);
      }
      backpressure.resumeWhatFits();
      if (inFlight === 0) {
        const waiters = idleWaiters;
        idleWaiters = [];
        for (const w of waiters) w();
      }
    };
  };

  const take = (batch: SourceBatch, record: SourceRecord, outcome: Outcome): void => {
    const ticket = tracker.take(record);
    batch.take(record.offset);
    if (inFlight === 0) lastProgressAt = clock.now();
    inFlight += 1;
    completeRecord(record, outcome, completionDeps, signalFor(batch)).then(
      settle(record, outcome, ticket),
      // completeRecord resolves on every path; a rejection is a bug and stops the service.
      (error: unknown) => settle(record, outcome, ticket)({ kind: 'fatal', error }),
    );
  };

  /** Waits `ms` in the handler, heartbeating; false when the wait was cut short by a stop. */
  const waitWithHeartbeat = async (batch: SourceBatch, ms: number): Promise<boolean> => {
    let remaining = ms;
    while (remaining > 0) {
      const step = Math.min(remaining, heartbeatEveryMs);
      try {
        await clock.sleep(step, everything.signal);
      } catch {
        return false;
      }
      remaining -= step;
      await batch.heartbeat().catch(() => {});
      if (stopping || !batch.isActive()) return false;
    }
    return true;
  };

  /** The pipeline's outcome, retrying 'retry' errors in place; undefined when the batch went stale meanwhile. */
  const process = async (batch: SourceBatch, record: SourceRecord): Promise<Outcome | undefined> => {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await pipeline.process(record);
      } catch (error) {
        const disposition = dispositionOf(error);
        if (disposition === 'stop') throw error;
        if (disposition === 'dead-letter') {
          // The pipeline should have returned this as an outcome; honour the table all the same.
          const e = error as NotifierError;
          return { kind: 'dead-letter', reason: e.code, error: e };
        }
        const delayMs = backoffDelay(retry, attempt, random);
        logger.warn(
          {
            topic: record.topic,
            partition: record.partition,
            offset: record.offset,
            delayMs,
            error: describeError(error),
          },
          'pipeline failed transiently; retrying',
        );
        if (!(await waitWithHeartbeat(batch, delayMs))) return undefined;
      }
    }
  };

  const handleBatch = async (batch: SourceBatch): Promise<void> => {
    highWatermarks.set(keyOf(batch), batch.highWatermark);
    updateLag(batch, batch.records[0]?.offset);
    for (const record of batch.records) {
      if (stopping || !batch.isActive()) return;
      if (tracker.hasTaken(record)) {
        // Redelivered after a rejoin that kept this partition: the first copy is still on its way.
        batch.take(record.offset);
        continue;
      }
      if (inFlight >= maxInFlightRecords) {
        backpressure.pause(batch, { kind: 'in-flight' });
        return;
      }
      const outcome = await process(batch, record);
      if (outcome === undefined || stopping || !batch.isActive()) return;
      if (outcome.kind === 'notify') {
        const queued = deliverer.pendingByChannel();
        const full = outcome.messages.find((m) => (queued[m.channel] ?? 0) >= maxQueuedPerChannel);
        if (full !== undefined) {
          backpressure.pause(batch, { kind: 'channel', channel: full.channel });
          return;
        }
      }
      take(batch, record, outcome);
    }
  };

  const revoke = (tp: TopicPartition): void => {
    const key = keyOf(tp);
    tracker.revoke(tp);
    partitionAborts.get(key)?.abort(new Error(`partition ${tp.topic}[${tp.partition}] revoked`));
    partitionAborts.delete(key);
    backpressure.forget(tp);
    highWatermarks.delete(key);
    logger.info(
      { topic: tp.topic, partition: tp.partition },
      'partition revoked; its unfinished work is dropped',
    );
  };

  const idle = (): Promise<void> =>
    inFlight === 0 ? Promise.resolve() : new Promise((resolve) => idleWaiters.push(resolve));

  return {
    async onBatch(batch) {
      try {
        await handleBatch(batch);
      } catch (error) {
        logger.error(
          { topic: batch.topic, partition: batch.partition, error: describeError(error) },
          'stop error while handling a batch',
        );
        fatal(error);
      }
    },

    onAssigned(partitions) {
      const now = new Set(partitions.map(keyOf));
      const known = new Map<string, TopicPartition>();
      for (const tp of [...tracker.partitions(), ...assigned, ...backpressure.paused()]) {
        known.set(keyOf(tp), tp);
      }
      for (const [key, tp] of known) if (!now.has(key)) revoke(tp);
      assigned = partitions.map((tp) => ({ topic: tp.topic, partition: tp.partition }));
      joined = true;
      logger.info({ assigned }, 'joined the consumer group');
      // kafkajs keeps pauses across rebalances (also of partitions that went away and came back) but
      // forgets them on a crash-restart: make its state match ours for every partition we now own.
      for (const tp of assigned) {
        if (stopping || backpressure.isPaused(tp)) source.pause(tp);
        else source.resume(tp);
      }
      void scheduleCommit();
    },

    onUnassigned(reason) {
      joined = false;
      if (stopping) logger.info({ reason }, 'left the consumer group');
      else logger.warn({ reason }, 'consumer group membership lost; waiting to rejoin');
    },

    onCrash(error, restarting) {
      joined = false;
      if (restarting) {
        logger.warn({ error: describeError(error) }, 'consumer crashed; kafkajs restarts it');
        return;
      }
      logger.error({ error: describeError(error) }, 'consumer crashed and will not restart');
      fatal(error);
    },

    async drain(deadlineMs) {
      stopping = true;
      for (const tp of assigned) source.pause(tp);
      if (inFlight > 0) {
        logger.info({ inFlight, deadlineMs }, 'draining in-flight records');
        const deadline = new AbortController();
        await Promise.race([idle(), clock.sleep(deadlineMs, deadline.signal).catch(() => {})]);
        deadline.abort();
      }
      const unfinished = inFlight;
      if (unfinished > 0) {
        logger.warn({ unfinished }, 'shutdown deadline reached; unfinished records will be read again');
        everything.abort(new Error('shutdown deadline reached'));
        // Aborting settles queued deliveries at once; a request already on the wire gets a short grace.
        const grace = new AbortController();
        await Promise.race([idle(), clock.sleep(2000, grace.signal).catch(() => {})]);
        grace.abort();
      }
      await committer.flush();
      return { unfinished };
    },

    abortAll(reason) {
      stopping = true;
      everything.abort(reason);
    },

    commitNow: () => committer.flush(),

    status() {
      return {
        joined,
        stopping,
        inFlight,
        assigned: [...assigned],
        paused: backpressure.paused(),
        stalledForMs: inFlight > 0 ? Math.max(0, clock.now() - lastProgressAt) : 0,
      };
    },
  };
}
