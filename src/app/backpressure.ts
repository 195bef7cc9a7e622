/**
 * Backpressure for the record loop: which partitions are paused and why, and when they may fetch
 * again. A partition pauses when the records in flight reach delivery.maxInFlightRecords, or when a
 * channel it routes to has delivery.maxQueuedPerChannel messages queued; it resumes below a low
 * watermark (3/4 of the bound), so that a resumed partition takes a useful run of records instead of one
 * record per fetch. Memory stays flat whatever the backlog: the backlog stays in Kafka.
 */
import type { TopicPartition } from '../delivery/commit-tracker.ts';
import type { Logger } from '../ports/index.ts';
import type { Deliverer } from './complete-record.ts';
import type { RecordSource } from './record-source.ts';

export type PauseReason = { kind: 'in-flight' } | { kind: 'channel'; channel: string };

export interface BackpressureOptions {
  source: Pick<RecordSource, 'pause' | 'resume'>;
  deliverer: Pick<Deliverer, 'waitForRoom' | 'pendingByChannel'>;
  logger: Logger;
  maxInFlightRecords: number;
  maxQueuedPerChannel: number;
  /** Records taken and not finished right now. */
  inFlight(): number;
  /** true once the loop is stopping: nothing resumes then. */
  stopping(): boolean;
}

export interface Backpressure {
  /** Pauses fetching for the partition of `from` (a batch will do: only its coordinates are kept). */
  pause(from: TopicPartition, reason: PauseReason): void;
  /** Resumes every paused partition whose reason no longer holds. */
  resumeWhatFits(): void;
  isPaused(tp: TopicPartition): boolean;
  /** Forgets a revoked partition without touching the source. */
  forget(tp: TopicPartition): void;
  paused(): TopicPartition[];
}

export const keyOf = (tp: TopicPartition): string => `${tp.topic}\u0000${tp.partition}`;

export function createBackpressure(options: BackpressureOptions): Backpressure {
  const { source, deliverer, logger } = options;
  const resumeInFlightBelow = Math.max(1, Math.floor((options.maxInFlightRecords * 3) / 4));
  const resumeQueuedBelow = Math.max(1, Math.floor((options.maxQueuedPerChannel * 3) / 4));
  const paused = new Map<string, { tp: TopicPartition; reason: PauseReason }>();

  const resumeWhatFits = (): void => {
    if (options.stopping() || paused.size === 0 || options.inFlight() >= resumeInFlightBelow) return;
    const queued = deliverer.pendingByChannel();
    for (const [key, { tp, reason }] of paused) {
      if (reason.kind === 'channel' && (queued[reason.channel] ?? 0) >= resumeQueuedBelow) continue;
      paused.delete(key);
      source.resume(tp);
      logger.debug({ topic: tp.topic, partition: tp.partition }, 'resumed fetching');
    }
  };

  return {
    pause(from, reason) {
      // Keep only the coordinates: callers pass the batch itself, and holding it here would keep its
      // records alive (and put them on /readyz) for as long as the partition stays paused.
      const tp: TopicPartition = { topic: from.topic, partition: from.partition };
      const key = keyOf(tp);
      if (!paused.has(key)) source.pause(tp);
      paused.set(key, { tp, reason });
      logger.debug({ topic: tp.topic, partition: tp.partition, reason }, 'paused fetching');
      if (reason.kind === 'channel') deliverer.waitForRoom(reason.channel).then(resumeWhatFits, () => {});
    },
    resumeWhatFits,
    isPaused: (tp) => paused.has(keyOf(tp)),
    forget: (tp) => {
      paused.delete(keyOf(tp));
    },
    paused: () => [...paused.values()].map((p) => p.tp),
  };
}
