/**
 * PaceGate adapters that live in this process (src/ports/store.ts):
 * - createMemoryPaceGate: today's token buckets (pace.ts) by key; the embedded default for one replica.
 * - createFallbackPaceGate: a shared gate (Redis) that, when the store cannot answer, falls back to a
 *   conservative local share of each bucket (its pace divided by the replicas expected, no burst), so
 *   that N replicas cut off from the store together still stay within the pace. It goes back to the
 *   shared gate as soon as the store answers again. A metric and one log line per switch say so.
 *   Which failures fall back is the error table's 'degrade' (src/domain/errors.ts): anything else
 *   the shared gate throws is thrown on.
 */
import { degradeOrThrow, describeError } from '../domain/errors.ts';
import type { Clock, Logger, Metrics, PaceBucket, PaceGate } from '../ports/index.ts';
import { createPaceWindow, type PaceWindow } from './pace.ts';

export function createMemoryPaceGate(clock: Clock): PaceGate {
  const windows = new Map<string, PaceWindow>();
  const windowOf = (b: PaceBucket): PaceWindow => {
    let w = windows.get(b.key);
    if (w === undefined) {
      w = createPaceWindow({ cap: b.cap, intervalMs: b.intervalMs, burst: b.burst });
      windows.set(b.key, w);
    }
    return w;
  };
  return {
    async acquire(buckets) {
      const now = clock.now();
      const delay = Math.max(0, ...buckets.map((b) => windowOf(b).delayAt(now)));
      if (delay > 0) return delay;
      for (const b of buckets) windowOf(b).record(now);
      return 0;
    },
    async answered(bucket) {
      windowOf(bucket).answered(clock.now());
    },
    async block(bucket, ms) {
      windowOf(bucket).blockUntil(clock.now() + ms);
    },
  };
}

/** A bucket's share when `replicas` replicas pace without each other: cap / replicas, no burst. */
export function localShare(bucket: PaceBucket, replicas: number): PaceBucket {
  return { ...bucket, intervalMs: bucket.intervalMs * Math.max(1, replicas), burst: 1 };
}

export interface FallbackPaceGateOptions {
  shared: PaceGate;
  clock: Clock;
  /** Replicas expected to run (config store.expectedReplicas): the local share is 1/replicas. */
  replicas: number;
  logger: Logger;
  metrics: Metrics;
  /** Told when the gate switches (for /readyz). */
  onFallback?(active: boolean): void;
}

export function createFallbackPaceGate(o: FallbackPaceGateOptions): PaceGate & { inFallback(): boolean } {
  const local = createMemoryPaceGate(o.clock);
  let fallback = false;
  const switchTo = (active: boolean, error?: unknown): void => {
    if (active === fallback) return;
    fallback = active;
    o.onFallback?.(active);
    if (active) {
      o.logger.warn(
        { error: describeError(error), replicas: o.replicas },
        'shared store unreachable: pacing on a local share (pace / expected replicas) until it answers',
      );
    } else {
      o.logger.info({}, 'shared store answers again: pacing on the shared gates');
    }
  };
  const shares = (buckets: readonly PaceBucket[]) => buckets.map((b) => localShare(b, o.replicas));
  return {
    inFallback: () => fallback,
    async acquire(buckets) {
      try {
        const wait = await o.shared.acquire(buckets);
        switchTo(false);
        return wait;
      } catch (error) {
        const failure = degradeOrThrow(error, 'pace');
        o.metrics.storeFallback('pace');
        switchTo(true, failure);
        return local.acquire(shares(buckets));
      }
    },
    async answered(bucket) {
      // The local share learns every answer too, so a switch finds it warm.
      await local.answered(localShare(bucket, o.replicas));
      await o.shared.answered(bucket).catch((error: unknown) => {
        degradeOrThrow(error, 'pace');
      });
    },
    block(bucket, ms) {
      // Sent before anything else is awaited: the retry right after a 429 must find the block in place.
      const shared = o.shared.block(bucket, ms).catch((error: unknown) => {
        degradeOrThrow(error, 'pace');
      });
      void local.block(localShare(bucket, o.replicas), ms);
      return shared;
    },
  };
}
