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
 *
 * The loop applies decisions made elsewhere, over one state object (loop-state.ts): admission.ts
 * (take, skip, leave or pause), run-join.ts (which records wait together as a fold run), settle.ts
 * (where a record's offset becomes committable), run-end.ts (what a run's end means), rebalance.ts
 * and drain.ts; committer.ts commits.
 */
import { createCommitTracker } from '../delivery/commit-tracker.ts';
import type { RetryPolicy } from '../delivery/retry-policy.ts';
import { describeError } from '../domain/errors.ts';
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
import { decide } from './decide.ts';
import { ABORT_GRACE_MS, drainLoop } from './drain.ts';
import type { FoldRun, RunEnd } from './fold-run.ts';
import type { LastValuesEdge } from './last-values.ts';
import { createLoopState, holding, noteStart, signalFor } from './loop-state.ts';
import { planAssignment, revokePartition } from './rebalance.ts';
import { logRecordEnd, logRunEnd, summaryOf } from './record-log.ts';
import { acceptsOrAdmits, type Completion, startRecordWork } from './record-work.ts';
import { completeRun } from './run-end.ts';
import { joinRun } from './run-join.ts';
import { type SettleDeps, settle } from './settle.ts';

export { reasonClass } from './record-log.ts';

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
  /** After the shutdown deadline, how long a request on the wire may still settle (drain.ts). */
  abortGraceMs?: number;
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

export function createRecordLoop(options: RecordLoopOptions): RecordLoop {
  const { pipeline, deliverer, deadLetter, source, clock, retry, limits } = options;
  const metrics = options.metrics ?? noopMetrics;
  const logger = options.logger ?? noopLogger;
  const random = options.random ?? Math.random;
  const heartbeatEveryMs = options.heartbeatEveryMs ?? 3000;
  const runValues = options.runValues;
  // Without the runs' own last-values edge, a record with afterWork waits on its own.
  const runsAllowed = options.afterWork === undefined || runValues !== undefined;

  const state = createLoopState(clock);
  const tracker = createCommitTracker();
  const workDeps = { deliverer, deadLetter, clock, metrics, logger, retry, random };

  const fatal = (error: unknown): void => {
    if (state.fatalSeen) return;
    state.fatalSeen = true;
    state.stopping = true;
    options.onFatal(error);
  };

  const updateLag = (tp: TopicPartition, fallbackPosition?: string): void => {
    const hw = state.highWatermarks.get(keyOf(tp));
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
    canCommit: () => state.joined, // onAssigned commits once the membership is settled again
    onFatal: fatal, // a commit error the table says not to retry (an INTERNAL bug) stops the service
    signal: state.everything.signal,
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
    state: () => ({
      stopping: state.stopping,
      holding: holding(state),
      heldBytes: state.heldBytes,
      folded: state.folded,
    }),
  });

  const settleDeps: SettleDeps = { state, tracker, committer, backpressure, clock, fatal };

  /** A run ended: its completion (run-end.ts), its values written or dropped, then settled. */
  const finishRun = async (run: FoldRun, end: RunEnd): Promise<void> => {
    const pk = keyOf(run.tp);
    if (state.openRuns.get(pk) === run) state.openRuns.delete(pk);
    deliverer.forget(run.share);
    const completion = await completeRun(run, end, workDeps);
    if (runValues !== undefined) await runValues.release(run.listingIds, run.learned, completion);
    logRunEnd(logger, metrics, run, completion, clock.now());
    const records = run.offsets.length;
    settle(settleDeps, { ticket: run.ticket, records, folded: records, bytes: 0 }, completion);
  };
  const runDeps = {
    state,
    tracker,
    deliverer,
    clock,
    runValues,
    onEnd: (run: FoldRun, end: RunEnd) => void finishRun(run, end),
  };

  const take = (batch: SourceBatch, record: SourceRecord, decided: Outcome): void => {
    if (runsAllowed && joinRun(runDeps, batch, record, decided)) return;
    // Folded into a run, its messages were never rendered (digests draw their own lines); a record
    // that waits on its own is rendered now, and dead-lettered if it cannot be.
    const outcome = rendered(decided);
    const ticket = tracker.take(record);
    batch.take(record.offset);
    noteStart(state, clock);
    // record-work keeps what a waiting record needs, as bytes of its own (record-work.ts).
    const work = startRecordWork(record, outcome, workDeps, signalFor(state, batch));
    // Only coordinates are kept for records folded into digests; the others hold their bytes.
    const bytes = work.folded ? 0 : (record.value?.length ?? 0) + (record.key?.length ?? 0);
    const entry = { ticket, records: 1, folded: work.folded ? 1 : 0, bytes };
    state.taken += 1;
    state.folded += entry.folded;
    state.heldBytes += bytes;
    // Neither the record nor the outcome is referenced from here on: a record folded into a digest
    // waits for it with only what logging needs (the outcome holds the whole decoded event).
    const coordinates = { topic: record.topic, partition: record.partition, offset: record.offset };
    const summary = summaryOf(outcome);
    const end = (completion: Completion): void => {
      logRecordEnd(logger, metrics, coordinates, summary, completion);
      settle(settleDeps, entry, completion);
    };
    // startRecordWork resolves on every path; a rejection is a bug and stops the service.
    const done = options.afterWork?.(outcome, work.done) ?? work.done;
    done.then(end, (error: unknown) => end({ kind: 'fatal', error }));
  };

  const decideDeps = { pipeline, retry, random, clock, logger, heartbeatEveryMs, state };

  const handleBatch = async (batch: SourceBatch): Promise<void> => {
    state.highWatermarks.set(keyOf(batch), batch.highWatermark);
    updateLag(batch, batch.records[0]?.offset);
    for (const record of batch.records) {
      const admission = admitRecord(
        {
          stopping: state.stopping,
          batchActive: batch.isActive(),
          taken: tracker.hasTaken(record),
          holding: holding(state),
          heldBytes: state.heldBytes,
          folded: state.folded,
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
      const outcome = await decide(decideDeps, batch, record);
      if (outcome === undefined || state.stopping || !batch.isActive()) return;
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
      const known = [...tracker.partitions(), ...state.assigned, ...backpressure.paused()];
      const plan = planAssignment(known, partitions, {
        stopping: state.stopping,
        isPaused: backpressure.isPaused,
      });
      for (const tp of plan.revoke) revokePartition(state, { tracker, backpressure, logger }, tp);
      state.assigned = partitions.map((tp) => ({ topic: tp.topic, partition: tp.partition }));
      state.joined = true;
      logger.info({ assigned: state.assigned }, 'joined the consumer group');
      for (const tp of plan.pause) source.pause(tp);
      for (const tp of plan.resume) source.resume(tp);
      void committer.schedule();
    },

    onUnassigned(reason) {
      state.joined = false;
      if (state.stopping) logger.info({ reason }, 'left the consumer group');
      else logger.warn({ reason }, 'consumer group membership lost; waiting to rejoin');
    },

    onCrash(error, restarting) {
      state.joined = false;
      if (restarting) {
        logger.warn({ error: describeError(error) }, 'consumer crashed; kafkajs restarts it');
        return;
      }
      logger.error({ error: describeError(error) }, 'consumer crashed and will not restart');
      fatal(error);
    },

    drain: (deadlineMs) =>
      drainLoop(
        { state, source, deliverer, committer, clock, logger },
        deadlineMs,
        options.abortGraceMs ?? ABORT_GRACE_MS,
      ),

    abortAll(reason) {
      state.stopping = true;
      state.everything.abort(reason);
    },

    commitNow: () => committer.flush(),

    status() {
      return {
        joined: state.joined,
        stopping: state.stopping,
        inFlight: state.taken,
        folded: state.folded,
        inFlightBytes: state.heldBytes,
        assigned: [...state.assigned],
        paused: backpressure.paused(),
        stalledForMs: state.taken > 0 ? Math.max(0, clock.now() - state.lastProgressAt) : 0,
      };
    },
  };
}
