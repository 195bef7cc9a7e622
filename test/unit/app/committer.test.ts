// The committer (src/app/committer.ts): retries what the error table says to retry, with the policy's
// backoff; a stop (an INTERNAL bug) is reported once and not retried.
import { describe, expect, it } from 'vitest';
import { type CommitterOptions, createCommitter } from '../../../src/app/committer.ts';
import { type CommitOffset, createCommitTracker } from '../../../src/delivery/commit-tracker.ts';
import { testRetryPolicy } from '../../../src/delivery/retry-policy.ts';
import { NotifierError } from '../../../src/domain/errors.ts';
import { createCapturingLogger, createManualClock, settled } from '../../support/fakes.ts';

const tp = { topic: 'monolith.public.listings', partition: 0 };
const refused = () => new NotifierError('KAFKA_COMMIT_FAILED', 'commit refused: rebalancing');

/** A committer over a tracker with offset 0 finished; `failures` are thrown by the first commits. */
function setup(failures: unknown[], overrides: Partial<CommitterOptions> = {}) {
  const tracker = createCommitTracker();
  tracker.finish(tracker.take({ ...tp, offset: '0' }));
  const clock = createManualClock();
  const logger = createCapturingLogger();
  const attempts: CommitOffset[][] = [];
  const committed: CommitOffset[][] = [];
  const fatal: unknown[] = [];
  const abort = new AbortController();
  const committer = createCommitter({
    tracker,
    source: {
      async commit(offsets) {
        attempts.push([...offsets]);
        const failure = failures.shift();
        if (failure !== undefined) throw failure;
      },
    },
    clock,
    logger,
    retry: testRetryPolicy,
    random: () => 0.5,
    canCommit: () => true,
    signal: abort.signal,
    onCommitted: (offsets) => committed.push(offsets),
    onFatal: (error) => fatal.push(error),
    ...overrides,
  });
  return { tracker, clock, logger, attempts, committed, fatal, abort, committer };
}

describe('committer', () => {
  it('commits what is finished', async () => {
    const t = setup([]);
    await t.committer.schedule();
    expect(t.committed).toEqual([[{ ...tp, offset: '1' }]]);
  });

  it('retries a transient commit error (KAFKA_COMMIT_FAILED) after the policy backoff', async () => {
    const t = setup([refused(), refused()]);
    await t.committer.schedule(); // resolves once the first round failed
    expect(t.attempts).toHaveLength(1);
    expect(t.committed).toEqual([]);
    await settled(() => t.clock.sleeping() === 1, 'the first backoff');
    await t.clock.advance(9);
    expect(t.attempts).toHaveLength(1); // the first backoff is testRetryPolicy.minDelayMs: 10 ms
    await t.clock.advance(1);
    await settled(() => t.attempts.length === 2 && t.clock.sleeping() === 1, 'the first retry, failed');
    await t.clock.advance(19);
    expect(t.attempts).toHaveLength(2); // then 20 ms
    await t.clock.advance(1);
    await settled(() => t.committed.length === 1, 'the second retry to commit');
    expect(t.committed).toEqual([[{ ...tp, offset: '1' }]]);
    expect(t.fatal).toEqual([]);
    expect(t.logger.lines.filter((l) => l.msg === 'commit failed; will retry')).toHaveLength(2);
    expect(t.clock.sleeping()).toBe(0);
  });

  it('stops on an INTERNAL error: reported once through onFatal, never retried', async () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'offset')");
    const t = setup([bug]);
    await t.committer.schedule();
    await settled(() => t.fatal.length === 1, 'the stop to be reported');
    expect(t.fatal).toEqual([bug]);
    expect(t.clock.sleeping()).toBe(0); // no backoff is waiting
    expect(t.logger.lines.map((l) => l.msg)).not.toContain('commit failed; will retry');
    await t.clock.advance(60_000);
    expect(t.attempts).toHaveLength(1);
    expect(t.logger.lines.map((l) => [l.level, l.msg])).toContainEqual([
      'error',
      'commit failed and will not be retried',
    ]);
    // A later request still commits (a drain commits what finished).
    await t.committer.flush();
    expect(t.committed).toEqual([[{ ...tp, offset: '1' }]]);
  });

  it('a request during the backoff commits at once instead of waiting it out', async () => {
    const t = setup([refused()]);
    await t.committer.schedule();
    await settled(() => t.clock.sleeping() === 1, 'the backoff');
    await t.committer.schedule();
    expect(t.committed).toEqual([[{ ...tp, offset: '1' }]]);
    await settled(() => t.clock.sleeping() === 0, 'the backoff to be cancelled');
  });

  it('flush after a failed commit on the wire tries again at once', async () => {
    const t = setup([refused()]);
    void t.committer.schedule();
    await t.committer.flush();
    expect(t.attempts).toHaveLength(2);
    expect(t.committed).toEqual([[{ ...tp, offset: '1' }]]);
  });

  it('shutdown (the signal aborted) cancels a pending retry without reporting a stop', async () => {
    const t = setup([refused()]);
    await t.committer.schedule();
    await settled(() => t.clock.sleeping() === 1, 'the backoff');
    t.abort.abort(new Error('stopping'));
    await settled(() => t.clock.sleeping() === 0, 'the backoff to be cancelled');
    await t.clock.advance(60_000);
    expect(t.attempts).toHaveLength(1);
    expect(t.fatal).toEqual([]);
  });
});
