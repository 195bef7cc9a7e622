/**
 * A fix for kafkajs 2.2.4's idle timer loop, applied to its RequestQueue once per process.
 *
 * Upstream, `scheduleCheckPendingRequests` arms a timer even when nothing is pending and the client is
 * not throttled; its delay (`throttledUntil - Date.now()`) is then negative, Node runs it after 1 ms, the
 * check finds nothing and arms the next one: a 1 ms timer loop per broker connection for as long as the
 * connection is open. Measured here: an idle service used 1.9 CPU-seconds per 30 s (about 6 % of a
 * core), and Node 24 prints a TimeoutNegativeWarning for it. Reported as tulios/kafkajs#1704 and #1751;
 * the fix below is the one proposed in PR #1768, never released (kafkajs is unmaintained).
 *
 * With nothing pending and no throttle there is nothing to check: a new request that cannot be sent at
 * once is pushed to `pending` and schedules its own check, and every fulfilled request checks the queue.
 */
import { createRequire } from 'node:module';

interface QueueState {
  pending: unknown[];
  throttledUntil: number;
}

type Schedule = (this: QueueState) => void;

const patchedMark = Symbol.for('listing-notifier.kafkajs-idle-loop');

/** Wraps `proto.scheduleCheckPendingRequests`; returns false (and changes nothing) if the shape is not kafkajs 2.2's. */
export function patchScheduleCheck(
  proto: Record<PropertyKey, unknown>,
  now: () => number = Date.now,
): boolean {
  const original = proto.scheduleCheckPendingRequests;
  if (typeof original !== 'function') return false;
  if (proto[patchedMark] === true) return true;
  const schedule = original as Schedule;
  proto.scheduleCheckPendingRequests = function (this: QueueState): void {
    if (this.pending.length === 0 && this.throttledUntil - now() <= 0) return;
    schedule.call(this);
  };
  proto[patchedMark] = true;
  return true;
}

/** Applies the fix to the installed kafkajs; false when its internals are not where 2.2.4 keeps them. */
export function fixKafkajsIdleLoop(): boolean {
  try {
    const require = createRequire(import.meta.url);
    const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as { prototype?: object };
    if (RequestQueue.prototype === undefined) return false;
    return patchScheduleCheck(RequestQueue.prototype as Record<PropertyKey, unknown>);
  } catch {
    return false;
  }
}
