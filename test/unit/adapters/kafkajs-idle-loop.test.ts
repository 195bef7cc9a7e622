import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { fixKafkajsIdleLoop, patchScheduleCheck } from '../../../src/adapters/kafkajs-idle-loop.ts';

function makeQueue() {
  const scheduled: string[] = [];
  const proto: Record<PropertyKey, unknown> = {
    scheduleCheckPendingRequests(this: { pending: unknown[] }) {
      scheduled.push(`check with ${this.pending.length} pending`);
    },
  };
  return { proto, scheduled };
}

describe('kafkajs idle loop fix (tulios/kafkajs#1704)', () => {
  it('schedules no check when nothing is pending and the client is not throttled', () => {
    const { proto, scheduled } = makeQueue();
    expect(patchScheduleCheck(proto, () => 1000)).toBe(true);
    const schedule = proto.scheduleCheckPendingRequests as (this: object) => void;
    schedule.call({ pending: [], throttledUntil: -1 });
    expect(scheduled).toEqual([]);
  });

  it('still schedules when requests are pending or a throttle is running', () => {
    const { proto, scheduled } = makeQueue();
    patchScheduleCheck(proto, () => 1000);
    const schedule = proto.scheduleCheckPendingRequests as (this: object) => void;
    schedule.call({ pending: ['request'], throttledUntil: -1 });
    schedule.call({ pending: [], throttledUntil: 1500 });
    expect(scheduled).toEqual(['check with 1 pending', 'check with 0 pending']);
  });

  it('wraps once however often it is applied, and leaves an unknown shape alone', () => {
    const { proto, scheduled } = makeQueue();
    patchScheduleCheck(proto, () => 1000);
    patchScheduleCheck(proto, () => 1000);
    (proto.scheduleCheckPendingRequests as (this: object) => void).call({
      pending: ['r'],
      throttledUntil: 0,
    });
    expect(scheduled).toHaveLength(1);
    expect(patchScheduleCheck({}, () => 0)).toBe(false);
  });

  it('finds the RequestQueue of the installed kafkajs', () => {
    expect(fixKafkajsIdleLoop()).toBe(true);
    const require = createRequire(import.meta.url);
    const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as {
      prototype: Record<symbol, unknown>;
    };
    expect(RequestQueue.prototype[Symbol.for('listing-notifier.kafkajs-idle-loop')]).toBe(true);
  });
});
