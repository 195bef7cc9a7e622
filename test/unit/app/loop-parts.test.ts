/**
 * The record loop's parts on their own (issue 20): the assignment plan, settling an entry (where an
 * offset becomes committable) and draining, over a plain loop state.
 */
import { describe, expect, it } from 'vitest';
import { drainLoop } from '../../../src/app/drain.ts';
import { createLoopState } from '../../../src/app/loop-state.ts';
import { planAssignment } from '../../../src/app/rebalance.ts';
import { settle } from '../../../src/app/settle.ts';
import { createCommitTracker } from '../../../src/delivery/commit-tracker.ts';
import { noopLogger } from '../../../src/ports/index.ts';
import { createManualClock, settled } from '../../support/fakes.ts';

const tp = (partition: number) => ({ topic: 't', partition });

describe('planAssignment', () => {
  it('revokes what is no longer owned and keeps paused what admission paused', () => {
    const plan = planAssignment([tp(0), tp(1), tp(1), tp(2)], [tp(1), tp(2), tp(3)], {
      stopping: false,
      isPaused: (p) => p.partition === 2,
    });
    expect(plan).toEqual({ revoke: [tp(0)], pause: [tp(2)], resume: [tp(1), tp(3)] });
  });

  it('pauses everything owned while stopping', () => {
    expect(planAssignment([], [tp(0), tp(1)], { stopping: true, isPaused: () => false })).toEqual({
      revoke: [],
      pause: [tp(0), tp(1)],
      resume: [],
    });
  });
});

describe('settle', () => {
  const setup = () => {
    const clock = createManualClock();
    const state = createLoopState(clock);
    const tracker = createCommitTracker();
    const calls: string[] = [];
    const fatals: unknown[] = [];
    const deps = {
      state,
      tracker,
      clock,
      committer: { schedule: async () => void calls.push('commit') },
      backpressure: { resumeWhatFits: () => void calls.push('resume') },
      fatal: (e: unknown) => void fatals.push(e),
    };
    return { clock, state, tracker, calls, fatals, deps };
  };
  const record = (offset: string) => ({ ...tp(0), offset });

  it('a finished entry makes its offsets committable and gives its counts back', async () => {
    const { state, tracker, calls, deps, clock } = setup();
    const first = tracker.take(record('5'));
    const second = tracker.take(record('6'));
    state.taken = 3;
    state.folded = 2;
    state.heldBytes = 100;
    await clock.advance(1000);
    settle(
      deps,
      { ticket: second, records: 2, folded: 2, bytes: 0 },
      {
        kind: 'finished',
        delivered: ['#a'],
        deadLettered: [],
        dropped: [],
      },
    );
    // Not past the unfinished offset 5.
    expect(tracker.committable()).toEqual([]);
    settle(
      deps,
      { ticket: first, records: 1, folded: 0, bytes: 100 },
      {
        kind: 'finished',
        delivered: [],
        deadLettered: [],
        dropped: [],
      },
    );
    expect(tracker.committable()).toEqual([{ topic: 't', partition: 0, offset: '7' }]);
    expect(state).toMatchObject({ taken: 0, folded: 0, heldBytes: 0, lastProgressAt: clock.now() });
    expect(calls).toEqual(['commit', 'resume', 'commit', 'resume']);
  });

  it('an abandoned entry commits nothing; a fatal one stops the service; both wake a drain', async () => {
    const { state, tracker, calls, fatals, deps } = setup();
    const a = tracker.take(record('1'));
    const b = tracker.take(record('2'));
    state.taken = 2;
    let woken = false;
    state.idleWaiters.push(() => {
      woken = true;
    });
    settle(deps, { ticket: a, records: 1, folded: 0, bytes: 0 }, { kind: 'abandoned' });
    expect(woken).toBe(false);
    settle(deps, { ticket: b, records: 1, folded: 0, bytes: 0 }, { kind: 'fatal', error: 'boom' });
    expect(tracker.committable()).toEqual([]);
    expect(fatals).toEqual(['boom']);
    expect(calls).toEqual(['resume', 'resume']);
    expect(woken).toBe(true);
  });
});

describe('drainLoop', () => {
  const setup = () => {
    const clock = createManualClock();
    const state = createLoopState(clock);
    state.assigned = [tp(0), tp(1)];
    const calls: string[] = [];
    const deps = {
      state,
      clock,
      logger: noopLogger,
      source: { pause: (p: { partition: number }) => void calls.push(`pause ${p.partition}`) },
      deliverer: { flush: () => void calls.push('flush digests') },
      committer: { flush: async () => void calls.push('commit') },
    };
    return { clock, state, calls, deps };
  };

  it('idle at once: pauses, flushes the digests and commits', async () => {
    const { calls, deps, state } = setup();
    expect(await drainLoop(deps, 10_000)).toEqual({ unfinished: 0 });
    expect(state.stopping).toBe(true);
    expect(calls).toEqual(['pause 0', 'pause 1', 'flush digests', 'commit']);
  });

  it('waits for in-flight work until the deadline, then aborts it and gives the wire a grace', async () => {
    const { clock, state, calls, deps } = setup();
    state.taken = 2;
    let result: { unfinished: number } | undefined;
    void drainLoop(deps, 10_000, 2000).then((r) => {
      result = r;
    });
    await settled(() => clock.sleeping() === 1, 'the drain waits for the deadline');
    await clock.advance(10_000);
    await settled(() => state.everything.signal.aborted, 'the deadline aborts the rest');
    // One record settles within the grace, the other never does.
    state.taken = 1;
    await clock.advance(2000);
    await settled(() => result !== undefined, 'the drain ends after the grace');
    expect(result).toEqual({ unfinished: 2 });
    expect(calls.at(-1)).toBe('commit');
  });
});
