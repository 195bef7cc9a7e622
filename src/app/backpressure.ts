/**
 * Which partitions are paused and why, and resuming them when admission (admission.ts) says their
 * reason no longer holds. Only coordinates are kept: holding a batch here would keep its records alive
 * (and put them on /readyz) for as long as the partition stays paused.
 */
import { partitionKey as keyOf, type TopicPartition } from '../domain/record.ts';
import type { Deliverer, Logger, RecordSource } from '../ports/index.ts';
import { type AdmissionLimits, type AdmissionState, mayResume, type PauseReason } from './admission.ts';

export interface BackpressureOptions {
  source: Pick<RecordSource, 'pause' | 'resume'>;
  deliverer: Pick<Deliverer, 'waitForRoom' | 'pendingByChannel'>;
  logger: Logger;
  limits: AdmissionLimits;
  /** A lane's bound (delivery.maxQueuedPerChannel): a channel pause resumes below 3/4 of it. */
  maxQueuedPerChannel: number;
  /** The loop's counters right now. */
  state(): Pick<AdmissionState, 'stopping' | 'holding' | 'heldBytes' | 'folded'>;
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

export function createBackpressure(options: BackpressureOptions): Backpressure {
  const { source, deliverer, logger } = options;
  const resumeQueuedBelow = Math.max(1, Math.floor((options.maxQueuedPerChannel * 3) / 4));
  const paused = new Map<string, { tp: TopicPartition; reason: PauseReason }>();

  const resumeWhatFits = (): void => {
    if (paused.size === 0) return;
    const state = options.state();
    const queued = deliverer.pendingByChannel();
    const laneHasRoom = (channel: string): boolean => (queued[channel] ?? 0) < resumeQueuedBelow;
    for (const [key, { tp, reason }] of paused) {
      if (!mayResume(reason, state, options.limits, laneHasRoom)) continue;
      paused.delete(key);
      source.resume(tp);
      logger.debug({ topic: tp.topic, partition: tp.partition }, 'resumed fetching');
    }
  };

  return {
    pause(from, reason) {
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
