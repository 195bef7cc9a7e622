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
import { createCommitTracker } from '../delivery/commit-tracker.ts';
import { type RetryPolicy, retrying } from '../delivery/retry-policy.ts';
import type { ChangeEvent } from '../domain/change.ts';
import { asRecordFailure, describeError, dispositionOf } from '../domain/errors.ts';
import type { OutboundMessage } from '../domain/message.ts';
import { type Outcome, rendered } from '../domain/outcome.ts';
import { partitionKey as keyOf, type SourceRecord, type TopicPartition } from '../domain/record.ts';
import type {
  Clock,
  DeadLetterSink,
  Deliverer,
  Logger,
  Metrics,
  RecordPipeline,
  RecordSource,
  SourceBatch,
  SourceHandlers,
} from '../ports/index.ts';
import { noopLogger, noopMetrics } from '../ports/index.ts';
import { type AdmissionLimits, admitOutcome, admitRecord } from './admission.ts';
import { createBackpressure } from './backpressure.ts';
import { createCommitter } from './committer.ts';
import { createFoldRun, type FoldRun, intern } from './fold-run.ts';
import type { LastValuesEdge } from './last-values.ts';
import { acceptsOrAdmits, type Completion, deadLetterWithRetry, startRecordWork } from './record-work.ts';

export interface RecordLoopOptions {
  pipeline: RecordPipeline;
  deliverer: Deliverer;
  deadLetter: DeadLetterSink;
  source: Pick<RecordSource, 'pause' | 'resume' | 'commit'>;
  clock: Clock;
  metrics?: Metrics;
  logger?: Logger;
  /** Bounds on what is held in flight (admission.ts). */
  limits: AdmissionLimits;
  /** A lane's bound for messages of their own (delivery.maxQueuedPerChannel). */
  maxQueuedPerChannel: number;
  /** Backoff for pipeline, dead-letter and commit retries (delivery.retry). */
  retry: RetryPolicy;
  /** Default Math.random; tests pass a fixed one. */
  random?: () => number;
  /** How often to heartbeat while the handler itself waits. Default 3000 (kafkajs's heartbeatInterval). */
  heartbeatEveryMs?: number;
  /**
   * Runs after a taken record's work and before it counts as finished (its offset committable): the
   * last-values store writes here (last-values.ts track). Must not keep `outcome`. Default: none.
   */
  afterWork?: (outcome: Outcome, done: Promise<Completion>) => Promise<Completion>;
  /**
   * afterWork for fold runs (fold-run.ts): `hold` a taken record's learned values while it waits,
   * `release` a run's once it ended (written when finished). Without it, and with afterWork given,
   * records are not folded into runs (each waits on its own). Default: none.
   */
  runValues?: Pick<LastValuesEdge, 'hold' | 'writeNow' | 'release'>;
  /** Called once when the service must stop (a 'stop' error, a consumer that gave up). */
  onFatal(error: unknown): void;
}

export interface LoopStatus {
  joined: boolean;
  stopping: boolean;
  /** Records taken and not finished (holding bytes or folded into digests). */
  inFlight: number;
  /** Of those, folded into digests (coordinates only). */
  folded: number;
  inFlightBytes: number;
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
  const { pipeline, deliverer, deadLetter, source, clock, retry, limits } = options;
  const metrics = options.metrics ?? noopMetrics;
  const logger = options.logger ?? noopLogger;
  const random = options.random ?? Math.random;
  const heartbeatEveryMs = options.heartbeatEveryMs ?? 3000;

  const tracker = createCommitTracker();
  const everything = new AbortController();
  // One controller per owned partition and its signal joined with the loop's: built once per assignment,
  // not once per record (the per-record path is hot, and every composite signal is tracked by its sources).
  const partitionAborts = new Map<string, { controller: AbortController; signal: AbortSignal }>();
  const highWatermarks = new Map<string, string>();
  let assigned: TopicPartition[] = [];
  let joined = false;
  let stopping = false;
  let fatalSeen = false;
  // Records taken and not finished: all of them, those folded into digests, and the bytes the rest hold.
  let inFlight = 0;
  let folded = 0;
  let inFlightBytes = 0;
  let lastProgressAt = clock.now();
  let idleWaiters: Array<() => void> = [];
  /** Per partition, the fold run that may still grow (fold-run.ts). */
  const openRuns = new Map<string, FoldRun>();
  const runsAllowed = options.afterWork === undefined || options.runValues !== undefined;
  const workDeps = { deliverer, deadLetter, clock, metrics, logger, retry, random };

  const fatal = (error: unknown): void => {
    if (fatalSeen) return;
    fatalSeen = true;
    stopping = true;
    options.onFatal(error);
  };

  const signalFor = (tp: TopicPartition): AbortSignal => {
    const key = keyOf(tp);
    let entry = partitionAborts.get(key);
    if (entry === undefined) {
      const controller = new AbortController();
      entry = { controller, signal: AbortSignal.any([everything.signal, controller.signal]) };
      partitionAborts.set(key, entry);
    }
    return entry.signal;
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

  const backpressure = createBackpressure({
    source,
    deliverer,
    logger,
    limits,
    maxQueuedPerChannel: options.maxQueuedPerChannel,
    state: () => ({ stopping, inFlight: inFlight - folded, inFlightBytes, folded }),
  });

  // --- one record -------------------------------------------------------------------------------
  /** What the "record finished" line says of the outcome: not the outcome itself (it holds the event). */
  type Summary = Pick<Outcome, 'kind' | 'reason' | 'listingId'> & { error?: unknown };
  const summaryOf = (outcome: Outcome): Summary => ({
    kind: outcome.kind,
    reason: outcome.reason,
    ...(outcome.listingId === undefined ? {} : { listingId: outcome.listingId }),
    ...(outcome.kind === 'dead-letter' ? { error: outcome.error } : {}),
  });

  const logFinished = (record: SourceRecord, outcome: Summary, completion: Completion): void => {
    const fields = {
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      listingId: outcome.listingId,
    };
    if (completion.kind === 'finished') {
      metrics.recordOutcome(outcome.kind, reasonClass(outcome.reason));
      const error = outcome.error === undefined ? undefined : describeError(outcome.error);
      // Drops are most records (noise) and need no action: at debug, a backlog is not a log flood
      // (one line per record cost ~10% of draining one; the outcome metric still counts them).
      const log = outcome.kind === 'dropped' ? logger.debug : logger.info;
      log.call(
        logger,
        {
          ...fields,
          outcome: outcome.kind,
          reason: outcome.reason,
          ...(completion.delivered.length > 0 ? { channels: completion.delivered } : {}),
          ...(completion.dropped.length > 0 ? { foldedAway: completion.dropped } : {}),
          ...(completion.deadLettered.length > 0 ? { deadLettered: completion.deadLettered } : {}),
          ...(error === undefined ? {} : { error }),
        },
        'record finished',
      );
    } else if (completion.kind === 'abandoned') {
      logger.debug({ ...fields, outcome: outcome.kind }, 'record abandoned (will be read again)');
    } else {
      logger.error({ ...fields, error: describeError(completion.error) }, 'record hit a stop error');
    }
  };

  /** After records finished, were abandoned or hit a stop: commit, resume, wake drain. */
  const afterSettled = (): void => {
    backpressure.resumeWhatFits();
    if (inFlight === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const w of waiters) w();
    }
  };

  /**
   * The digests the messages fold into (Deliverer.foldTarget), as one key; undefined when one of them
   * would not go into a digest, or would open one and `opening` is false.
   */
  const foldKey = (
    messages: readonly OutboundMessage[],
    event: ChangeEvent,
    opening: boolean,
  ): string | undefined => {
    let key = '';
    for (const m of messages) {
      const target = deliverer.foldTarget(m, event);
      if (target === undefined || (target === '+' && !opening)) return undefined;
      key = key === '' ? target : `${key}\u0000${target}`;
    }
    return key;
  };

  /**
   * A record whose messages all go into the digests its partition's open run folds into joins that run;
   * one whose messages all go into digests starts a run. Anything else waits on its own (take).
   */
  const joinRun = (batch: SourceBatch, record: SourceRecord, outcome: Outcome): boolean => {
    if (!runsAllowed || outcome.kind !== 'notify' || outcome.messages.length === 0) return false;
    const offset = Number(record.offset);
    if (!Number.isSafeInteger(offset)) return false;
    const { event, messages } = outcome;
    if (event === undefined) return false;
    const key = foldKey(messages, event, true);
    if (key === undefined) return false;
    const pk = keyOf(batch);
    let run = openRuns.get(pk);
    if (run === undefined || !run.open() || run.key !== key || !tracker.extend(run.ticket, record)) {
      const started = createFoldRun(
        batch,
        tracker.take(record),
        signalFor(batch),
        messages.map((m) => m.channel),
      );
      run = started;
      openRuns.set(pk, started);
      if (inFlight === 0) lastProgressAt = clock.now();
      void started.done.then((end) => finishRun(started, end));
    }
    batch.take(record.offset);
    inFlight += 1;
    folded += 1;
    run.offsets.push(offset);
    run.listingIds.push(outcome.listingId);
    run.reasons.push(intern(outcome.reason));
    run.sourceTsMs.push(outcome.sourceTsMs ?? Number.NaN);
    const { learned } = outcome;
    const values = options.runValues;
    if (learned === undefined || values === undefined) run.learned.push(undefined);
    else if (outcome.ownBefore === true) {
      // It carries its own before image: read again after a crash it needs nothing from the store.
      values.writeNow(learned);
      run.learned.push(undefined);
    } else run.learned.push(values.hold(learned));
    for (const m of messages) deliverer.submitShared(m, event, run.share);
    // Still one run with the next record only while every message sits in the same open digest.
    run.key = run.open() ? foldKey(messages, event, false) : undefined;
    return true;
  };

  /** A run ended: dead-letter it if its digest was refused for good, then finish, abandon or stop. */
  const finishRun = async (run: FoldRun, end: Awaited<FoldRun['done']>): Promise<void> => {
    const pk = keyOf(run.tp);
    if (openRuns.get(pk) === run) openRuns.delete(pk);
    deliverer.forget(run.share);
    const records = run.offsets.length;
    let completion: Completion;
    if (end.kind === 'failed') {
      completion = run.share.signal.aborted ? { kind: 'abandoned' } : { kind: 'fatal', error: end.error };
    } else {
      completion = { kind: 'finished', delivered: [], deadLettered: [], dropped: [] };
      const { fate, failedListings } = end;
      if (fate.kind === 'delivered') completion.delivered.push(...run.channels);
      if (fate.kind === 'dropped') completion.dropped.push(...run.channels);
      // A refused digest fails every record of the run; a refused message of its own (a listing
      // lifted out of the digest) only that listing's records.
      const failed = (i: number) => {
        if (fate.kind === 'failed') return fate;
        const listingId = run.listingIds[i];
        return listingId === undefined ? undefined : failedListings.get(listingId);
      };
      // The channel the refusal came from, for `dlq redrive` and --reroute (one channel per run).
      const channel = run.channels.length === 1 ? run.channels[0] : undefined;
      const codes = new Set<string>();
      for (let i = 0; i < records; i += 1) {
        const refused = failed(i);
        if (refused === undefined) continue;
        // Coordinates only, as kept for any record folded into a digest (record-work.ts coordinatesOf;
        // a run keeps neither key nor timestamp: redrive reads the record again from its offset).
        const coordinates: SourceRecord = {
          ...run.tp,
          offset: String(run.offsets[i]),
          key: null,
          value: null,
          headers: {},
          timestamp: '',
        };
        const sent = await deadLetterWithRetry(
          coordinates,
          refused.error,
          channel,
          workDeps,
          run.share.signal,
        );
        if (sent !== 'sent') {
          completion = sent;
          break;
        }
        codes.add(refused.error.code);
      }
      if (completion.kind === 'finished') {
        for (const code of codes)
          completion.deadLettered.push(channel === undefined ? { code } : { channel, code });
      }
    }
    if (options.runValues !== undefined) {
      await options.runValues.release(run.listingIds, run.learned, completion);
    }
    inFlight -= records;
    folded -= records;
    const from = run.offsets[0];
    const to = run.offsets[records - 1];
    const fields = { topic: run.tp.topic, partition: run.tp.partition };
    if (completion.kind === 'finished') {
      const now = clock.now();
      for (let i = 0; i < records; i += 1) {
        metrics.recordOutcome('notify', reasonClass(run.reasons[i] ?? ''));
        const ts = run.sourceTsMs[i] ?? Number.NaN;
        if (completion.delivered.length > 0 && !Number.isNaN(ts)) {
          metrics.observeEndToEndLatency(Math.max(0, now - ts) / 1000);
        }
      }
      if (logger.isLevelEnabled?.('debug') ?? false) {
        for (let i = 0; i < records; i += 1) {
          logger.debug(
            {
              ...fields,
              offset: String(run.offsets[i]),
              listingId: run.listingIds[i],
              outcome: 'notify',
              reason: run.reasons[i],
              folded: 'run',
            },
            'record finished',
          );
        }
      }
      // One line for the run: every offset from..to is finished now (the run's records, and the
      // records between them that finished on their own, e.g. noise).
      logger.info(
        {
          ...fields,
          fromOffset: String(from),
          toOffset: String(to),
          records,
          outcome: 'notify',
          ...(completion.delivered.length > 0 ? { channels: completion.delivered } : {}),
          ...(completion.dropped.length > 0 ? { foldedAway: completion.dropped } : {}),
          ...(completion.deadLettered.length > 0 ? { deadLettered: completion.deadLettered } : {}),
        },
        'records finished',
      );
      tracker.finish(run.ticket);
      lastProgressAt = clock.now();
      void committer.schedule();
    } else if (completion.kind === 'abandoned') {
      logger.debug(
        { ...fields, fromOffset: String(from), toOffset: String(to), records },
        'run abandoned (will be read again)',
      );
    } else {
      logger.error(
        { ...fields, fromOffset: String(from), error: describeError(completion.error) },
        'run hit a stop error',
      );
      fatal(completion.error);
    }
    afterSettled();
  };

  const take = (batch: SourceBatch, record: SourceRecord, decided: Outcome): void => {
    if (joinRun(batch, record, decided)) return;
    // Folded into a run, its messages were never rendered (digests draw their own lines); a record
    // that waits on its own is rendered now, and dead-lettered if it cannot be.
    const outcome = rendered(decided);
    const ticket = tracker.take(record);
    batch.take(record.offset);
    if (inFlight === 0) lastProgressAt = clock.now();
    // record-work keeps what a waiting record needs, as bytes of its own (record-work.ts).
    const work = startRecordWork(record, outcome, workDeps, signalFor(batch));
    // Only coordinates are kept for records folded into digests; the others hold their bytes.
    const bytes = work.folded ? 0 : (record.value?.length ?? 0) + (record.key?.length ?? 0);
    const wasFolded = work.folded;
    inFlight += 1;
    inFlightBytes += bytes;
    if (wasFolded) folded += 1;
    // Neither the record nor the outcome is referenced from here on: a record folded into a digest
    // waits for it with only what logging needs (the outcome holds the whole decoded event).
    const coordinates = { ...record, key: null, value: null, headers: {} };
    const summary = summaryOf(outcome);
    const settle = (completion: Completion): void => {
      inFlight -= 1;
      inFlightBytes -= bytes;
      if (wasFolded) folded -= 1;
      logFinished(coordinates, summary, completion);
      if (completion.kind === 'finished') {
        tracker.finish(ticket);
        lastProgressAt = clock.now();
        void committer.schedule();
      } else if (completion.kind === 'fatal') {
        fatal(completion.error);
      }
      afterSettled();
    };
    // startRecordWork resolves on every path; a rejection is a bug and stops the service.
    const done = options.afterWork?.(outcome, work.done) ?? work.done;
    done.then(settle, (error: unknown) => settle({ kind: 'fatal', error }));
  };

  /** Sleeps `ms` in the handler, heartbeating; rejects when a stop or a stale batch cuts it short. */
  const sleepWithHeartbeat = async (batch: SourceBatch, ms: number): Promise<void> => {
    let remaining = ms;
    while (remaining > 0) {
      const step = Math.min(remaining, heartbeatEveryMs);
      await clock.sleep(step, everything.signal);
      remaining -= step;
      await batch.heartbeat().catch(() => {});
      if (stopping || !batch.isActive()) throw new Error('batch no longer active');
    }
  };

  /** The pipeline's outcome, retrying 'retry' errors in place; undefined when the batch went stale meanwhile. */
  const process = async (batch: SourceBatch, record: SourceRecord): Promise<Outcome | undefined> => {
    try {
      return await retrying(() => pipeline.process(record), {
        policy: retry,
        random,
        sleep: (ms) => sleepWithHeartbeat(batch, ms),
        verdict: (error) => (dispositionOf(error) === 'retry' ? 'backoff' : 'throw'),
        onRetry: (error, _, delayMs) =>
          logger.warn(
            {
              topic: record.topic,
              partition: record.partition,
              offset: record.offset,
              delayMs,
              error: describeError(error),
            },
            'pipeline failed transiently; retrying',
          ),
      });
    } catch (error) {
      if (stopping || !batch.isActive()) return undefined;
      // The pipeline should have returned this as an outcome; honour the table all the same. Anything
      // not coded is this record's failure, never the service's (issue 19): PROCESSING_FAILED.
      const e = asRecordFailure(error, 'pipeline');
      if (e.disposition === 'dead-letter') return { kind: 'dead-letter', reason: e.code, error: e };
      throw error;
    }
  };

  const handleBatch = async (batch: SourceBatch): Promise<void> => {
    highWatermarks.set(keyOf(batch), batch.highWatermark);
    updateLag(batch, batch.records[0]?.offset);
    for (const record of batch.records) {
      const admission = admitRecord(
        {
          stopping,
          batchActive: batch.isActive(),
          taken: tracker.hasTaken(record),
          inFlight: inFlight - folded,
          inFlightBytes,
          folded,
        },
        limits,
      );
      if (admission.kind === 'leave') return;
      if (admission.kind === 'skip') {
        // Redelivered after a rejoin that kept this partition: the first copy is still on its way.
        batch.take(record.offset);
        continue;
      }
      if (admission.kind === 'pause') {
        backpressure.pause(batch, admission.reason);
        return;
      }
      const outcome = await process(batch, record);
      if (outcome === undefined || stopping || !batch.isActive()) return;
      const room = admitOutcome(outcome, (m) =>
        acceptsOrAdmits(deliverer, m, outcome.kind === 'notify' ? outcome.event : undefined),
      );
      if (room.kind === 'pause') {
        backpressure.pause(batch, room.reason);
        return;
      }
      take(batch, record, outcome);
    }
  };

  const revoke = (tp: TopicPartition): void => {
    const key = keyOf(tp);
    tracker.revoke(tp);
    openRuns.delete(key);
    partitionAborts.get(key)?.controller.abort(new Error(`partition ${tp.topic}[${tp.partition}] revoked`));
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
      void committer.schedule();
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
      // Digests still collecting go out now rather than at the end of their window.
      deliverer.flush();
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
        folded,
        inFlightBytes,
        assigned: [...assigned],
        paused: backpressure.paused(),
        stalledForMs: inFlight > 0 ? Math.max(0, clock.now() - lastProgressAt) : 0,
      };
    },
  };
}
