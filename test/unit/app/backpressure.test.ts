import { describe, expect, it } from 'vitest';
import { createBackpressure } from '../../../src/app/backpressure.ts';
import { noopLogger } from '../../../src/ports/index.ts';

function setup(overrides: { holding?: number; queued?: Record<string, number> } = {}) {
  const calls: string[] = [];
  const state = { holding: overrides.holding ?? 0, queued: overrides.queued ?? {}, stopping: false };
  const backpressure = createBackpressure({
    source: {
      pause: (tp) => calls.push(`pause ${tp.partition}`),
      resume: (tp) => calls.push(`resume ${tp.partition}`),
    },
    deliverer: { waitForRoom: () => new Promise(() => {}), pendingByChannel: () => state.queued },
    logger: noopLogger,
    limits: { maxInFlightRecords: 8, maxInFlightBytes: 1_000_000, maxFoldedRecords: 1_000 },
    maxQueuedPerChannel: 4,
    state: () => ({ stopping: state.stopping, holding: state.holding, heldBytes: 0, folded: 0 }),
  });
  return { backpressure, calls, state };
}

describe('backpressure', () => {
  it('pauses a partition once however often it is asked, keeping only its coordinates', () => {
    const { backpressure, calls } = setup();
    const batch = { topic: 't', partition: 1, records: ['a big record'] };
    backpressure.pause(batch, { kind: 'in-flight' });
    backpressure.pause(batch, { kind: 'in-flight' });
    expect(calls).toEqual(['pause 1']);
    expect(backpressure.paused()).toEqual([{ topic: 't', partition: 1 }]);
  });

  it('resumes an in-flight pause only below 3/4 of the bound', () => {
    const { backpressure, calls, state } = setup({ holding: 6 });
    backpressure.pause({ topic: 't', partition: 0 }, { kind: 'in-flight' });
    backpressure.resumeWhatFits();
    expect(backpressure.isPaused({ topic: 't', partition: 0 })).toBe(true);
    state.holding = 5;
    backpressure.resumeWhatFits();
    expect(calls).toEqual(['pause 0', 'resume 0']);
    expect(backpressure.paused()).toEqual([]);
  });

  it('keeps a channel pause while that channel is still at 3/4 of its queue bound, and never resumes when stopping', () => {
    const { backpressure, calls, state } = setup({ queued: { '#deals': 3 } });
    backpressure.pause({ topic: 't', partition: 0 }, { kind: 'channel', channel: '#deals' });
    backpressure.resumeWhatFits();
    expect(calls).toEqual(['pause 0']);
    state.queued = { '#deals': 2 };
    state.stopping = true;
    backpressure.resumeWhatFits();
    expect(calls).toEqual(['pause 0']);
    state.stopping = false;
    backpressure.resumeWhatFits();
    expect(calls).toEqual(['pause 0', 'resume 0']);
  });

  it('forgets a revoked partition without resuming it', () => {
    const { backpressure, calls } = setup();
    backpressure.pause({ topic: 't', partition: 2 }, { kind: 'in-flight' });
    backpressure.forget({ topic: 't', partition: 2 });
    backpressure.resumeWhatFits();
    expect(calls).toEqual(['pause 2']);
    expect(backpressure.paused()).toEqual([]);
  });
});
