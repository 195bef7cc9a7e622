import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createCommitTracker, type Ticket } from '../../../src/delivery/commit-tracker.ts';

const tp = { topic: 'monolith.public.listings', partition: 0 };
const at = (offset: string | number, overrides: Partial<typeof tp> = {}) => ({
  ...tp,
  ...overrides,
  offset: String(offset),
});

describe('commit tracker', () => {
  it('commits offset + 1 once a record is finished', () => {
    const tracker = createCommitTracker();
    const ticket = tracker.take(at(41));
    expect(tracker.committable()).toEqual([]);
    tracker.finish(ticket);
    expect(tracker.committable()).toEqual([{ ...tp, offset: '42' }]);
  });

  it('holds a later finished record back until every earlier one is finished', () => {
    const tracker = createCommitTracker();
    const [a, b, c] = [10, 11, 12].map((o) => tracker.take(at(o))) as [Ticket, Ticket, Ticket];
    tracker.finish(c);
    tracker.finish(b);
    expect(tracker.committable()).toEqual([]);
    expect(tracker.pendingCount(tp)).toBe(1);
    tracker.finish(a);
    expect(tracker.committable()).toEqual([{ ...tp, offset: '13' }]);
    expect(tracker.pendingCount(tp)).toBe(0);
  });

  it('treats offsets with gaps (compaction, transaction markers) as contiguous in taking order', () => {
    const tracker = createCommitTracker();
    const a = tracker.take(at(5));
    const b = tracker.take(at(9));
    tracker.finish(a);
    expect(tracker.committable()).toEqual([{ ...tp, offset: '6' }]);
    tracker.finish(b);
    expect(tracker.committable()).toEqual([{ ...tp, offset: '10' }]);
  });

  it('offers nothing again once the broker accepted the commit, and never moves backwards', () => {
    const tracker = createCommitTracker();
    tracker.finish(tracker.take(at(1)));
    tracker.markCommitted([{ ...tp, offset: '2' }]);
    expect(tracker.committable()).toEqual([]);
    // A slow acknowledgement of an older commit arriving late does not lower the position.
    tracker.finish(tracker.take(at(2)));
    tracker.markCommitted([{ ...tp, offset: '3' }]);
    tracker.markCommitted([{ ...tp, offset: '2' }]);
    expect(tracker.position(tp)).toBe('3');
    expect(tracker.committable()).toEqual([]);
  });

  it('keeps partitions independent', () => {
    const tracker = createCommitTracker();
    const p0 = tracker.take(at(100));
    const p1 = tracker.take(at(7, { partition: 1 }));
    tracker.finish(p1);
    expect(tracker.committable()).toEqual([{ ...tp, partition: 1, offset: '8' }]);
    expect(tracker.pendingCount()).toBe(1);
    tracker.finish(p0);
    expect(tracker.committable()).toHaveLength(2);
  });

  it('forgets a revoked partition: its pending work is not counted and late finishes are ignored', () => {
    const tracker = createCommitTracker();
    const old = tracker.take(at(3));
    tracker.revoke(tp);
    expect(tracker.pendingCount()).toBe(0);
    expect(tracker.partitions()).toEqual([]);
    expect(tracker.hasTaken(at(3))).toBe(false);

    // Reassigned later: the same offset is taken again in the new assignment.
    const again = tracker.take(at(3));
    tracker.finish(old);
    expect(tracker.committable()).toEqual([]);
    tracker.finish(again);
    expect(tracker.committable()).toEqual([{ ...tp, offset: '4' }]);
  });

  it('knows which offsets were already taken (redelivery after a rejoin that kept the partition)', () => {
    const tracker = createCommitTracker();
    tracker.take(at(20));
    tracker.take(at(21));
    expect(tracker.hasTaken(at(20))).toBe(true);
    expect(tracker.hasTaken(at(21))).toBe(true);
    expect(tracker.hasTaken(at(22))).toBe(false);
    expect(tracker.hasTaken(at(20, { partition: 3 }))).toBe(false);
  });

  it('refuses to take offsets out of order', () => {
    const tracker = createCommitTracker();
    tracker.take(at(8));
    expect(() => tracker.take(at(8))).toThrow(RangeError);
    expect(() => tracker.take(at(2))).toThrow(RangeError);
  });

  it('handles 64-bit offsets beyond 2^53', () => {
    const tracker = createCommitTracker();
    tracker.finish(tracker.take(at('9007199254740993')));
    expect(tracker.committable()).toEqual([{ ...tp, offset: '9007199254740994' }]);
  });

  it('reports the position for lag: first offset taken before any commit, then the committed one', () => {
    const tracker = createCommitTracker();
    expect(tracker.position(tp)).toBeUndefined();
    tracker.finish(tracker.take(at(50)));
    expect(tracker.position(tp)).toBe('50');
    tracker.markCommitted(tracker.committable());
    expect(tracker.position(tp)).toBe('51');
  });

  it('a ticket finished twice counts once', () => {
    const tracker = createCommitTracker();
    const a = tracker.take(at(1));
    tracker.take(at(2));
    tracker.finish(a);
    tracker.finish(a);
    expect(tracker.pendingCount()).toBe(1);
  });

  it('property: the committable offset is one past the longest finished prefix, whatever the finishing order', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 10_000 }), { minLength: 1, maxLength: 60 }),
        fc.func(fc.integer()),
        fc.integer({ min: 0, max: 60 }),
        (rawOffsets, order, finishCount) => {
          const offsets = [...rawOffsets].sort((x, y) => x - y);
          const tracker = createCommitTracker();
          const tickets = offsets.map((o) => tracker.take(at(o)));
          const shuffled = tickets
            .map((t, i) => ({ t, k: order(i) }))
            .sort((x, y) => x.k - y.k)
            .map((x) => x.t);
          const finished = new Set(shuffled.slice(0, finishCount).map((t) => t.offset));
          for (const t of shuffled.slice(0, finishCount)) tracker.finish(t);

          let prefix = -1;
          for (const o of offsets) {
            if (!finished.has(String(o))) break;
            prefix = o;
          }
          const expected = prefix < 0 ? [] : [{ ...tp, offset: String(prefix + 1) }];
          expect(tracker.committable()).toEqual(expected);
          expect(tracker.pendingCount()).toBe(offsets.length - finished.size);
        },
      ),
    );
  });

  it('keeps committing correctly across compaction of the finished head', () => {
    const tracker = createCommitTracker();
    for (let o = 0; o < 5000; o += 1) tracker.finish(tracker.take(at(o)));
    expect(tracker.committable()).toEqual([{ ...tp, offset: '5000' }]);
    expect(tracker.pendingCount()).toBe(0);
  });
});
