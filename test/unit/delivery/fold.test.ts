import { describe, expect, it } from 'vitest';
import { capacityOf, decideFold, type FoldPolicy, type LaneView } from '../../../src/delivery/fold.ts';

const policy: FoldPolicy = { enabled: true, coalesce: true, capacity: 10 };

function view(
  overrides: Partial<LaneView> & {
    queuedListings?: Record<string, 'normal' | 'urgent'>;
    digest?: Record<string, 'open' | 'closed'>;
  } = {},
): LaneView {
  const { queuedListings = {}, digest = {}, ...rest } = overrides;
  return {
    queued: (key) => {
      const priority = queuedListings[key];
      return priority === undefined ? undefined : { id: `single-${key}`, priority };
    },
    inDigest: (key) => digest[key],
    digestOpen: Object.values(digest).includes('open'),
    flooding: false,
    pending: 0,
    ...rest,
  };
}

describe('decideFold', () => {
  it('queues a change of its own while the channel is within its budget', () => {
    expect(decideFold(view({ pending: 8 }), { listingKey: '1', priority: 'normal' }, policy)).toEqual({
      kind: 'queue',
    });
  });

  it('folds into a digest once the budget is used, keeping one slot for the digest itself', () => {
    expect(decideFold(view({ pending: 9 }), { listingKey: '1', priority: 'normal' }, policy)).toEqual({
      kind: 'digest',
    });
  });

  it('folds every normal change into the open digest, even once messages have left the queue', () => {
    const v = view({ pending: 0, digest: { other: 'open' } });
    expect(decideFold(v, { listingKey: '1', priority: 'normal' }, policy)).toEqual({ kind: 'digest' });
  });

  it('while a flood goes on past a digest’s window, the next overflow goes straight into the next digest', () => {
    expect(
      decideFold(view({ pending: 1, flooding: true }), { listingKey: '1', priority: 'normal' }, policy),
    ).toEqual({
      kind: 'digest',
    });
  });

  it('never folds an urgent change into a digest', () => {
    const v = view({ pending: 50, digest: { other: 'open' } });
    expect(decideFold(v, { listingKey: '1', priority: 'urgent' }, policy)).toEqual({ kind: 'queue' });
  });

  it('coalesces a later change of a listing into its queued message (urgent or not)', () => {
    const v = view({ queuedListings: { '1': 'normal' } });
    expect(decideFold(v, { listingKey: '1', priority: 'normal' }, policy)).toEqual({
      kind: 'coalesce',
      into: 'single-1',
    });
    expect(decideFold(v, { listingKey: '1', priority: 'urgent' }, policy)).toEqual({
      kind: 'coalesce',
      into: 'single-1',
    });
  });

  it('without coalescing, an urgent change promotes the listing’s queued normal message so it cannot overtake it', () => {
    const v = view({ queuedListings: { '1': 'normal' } });
    expect(decideFold(v, { listingKey: '1', priority: 'urgent' }, { ...policy, coalesce: false })).toEqual({
      kind: 'queue',
      promote: 'single-1',
    });
    expect(decideFold(v, { listingKey: '1', priority: 'normal' }, { ...policy, coalesce: false })).toEqual({
      kind: 'queue',
    });
  });

  it('keeps a listing in its open digest, and lifts it out (open or closed) for an urgent change', () => {
    expect(
      decideFold(view({ digest: { '1': 'open' } }), { listingKey: '1', priority: 'normal' }, policy),
    ).toEqual({ kind: 'digest' });
    expect(
      decideFold(view({ digest: { '1': 'open' } }), { listingKey: '1', priority: 'urgent' }, policy),
    ).toEqual({ kind: 'lift' });
    expect(
      decideFold(view({ digest: { '1': 'closed' } }), { listingKey: '1', priority: 'urgent' }, policy),
    ).toEqual({ kind: 'lift' });
  });

  it('a normal change of a listing in a closed digest follows the budget (it queues behind that digest)', () => {
    expect(
      decideFold(view({ digest: { '1': 'closed' } }), { listingKey: '1', priority: 'normal' }, policy),
    ).toEqual({ kind: 'queue' });
  });

  it('with flood control off, or without a listing id, every change is a message of its own', () => {
    const v = view({ pending: 500, queuedListings: { '1': 'normal' }, digest: { '1': 'open' } });
    expect(decideFold(v, { listingKey: '1', priority: 'normal' }, { ...policy, enabled: false })).toEqual({
      kind: 'queue',
    });
    expect(decideFold(v, { listingKey: null, priority: 'normal' }, policy)).toEqual({ kind: 'queue' });
  });
});

describe('decideFold with a throttled listing (throttle.ts)', () => {
  const throttled = { listingKey: '1', priority: 'normal', throttled: true } as const;

  it('sends a throttled listing’s normal change to the digest while the channel is well within its budget', () => {
    expect(decideFold(view({ pending: 0 }), throttled, policy)).toEqual({ kind: 'digest', throttled: true });
    // The same change of a listing that is not throttled is a message of its own.
    expect(decideFold(view({ pending: 0 }), { ...throttled, throttled: false }, policy)).toEqual({
      kind: 'queue',
    });
  });

  it('never throttles an urgent change', () => {
    expect(decideFold(view(), { ...throttled, priority: 'urgent' }, policy)).toEqual({ kind: 'queue' });
    expect(
      decideFold(view({ digest: { '1': 'open' } }), { ...throttled, priority: 'urgent' }, policy),
    ).toEqual({ kind: 'lift' });
  });

  it('coalesces into the listing’s queued message first (that costs the channel no message)', () => {
    expect(decideFold(view({ queuedListings: { '1': 'normal' } }), throttled, policy)).toEqual({
      kind: 'coalesce',
      into: 'single-1',
    });
    // Without coalescing, the throttled change goes to the digest, after the queued message.
    expect(
      decideFold(view({ queuedListings: { '1': 'normal' } }), throttled, { ...policy, coalesce: false }),
    ).toEqual({ kind: 'digest', throttled: true });
  });

  it('opens a new digest for a throttled listing whose last digest is closed and unsent', () => {
    expect(decideFold(view({ digest: { '1': 'closed' } }), throttled, policy)).toEqual({
      kind: 'digest',
      throttled: true,
    });
  });

  it('does nothing with flood control off (the digest is flood control’s)', () => {
    expect(decideFold(view(), throttled, { ...policy, enabled: false })).toEqual({ kind: 'queue' });
  });
});

describe('capacityOf', () => {
  it('is what the pace sends within the budget, at least 2', () => {
    expect(capacityOf(10_000, { cap: 1, intervalMs: 1000 })).toBe(10);
    expect(capacityOf(10_000, { cap: 50, intervalMs: 1000 })).toBe(500);
    expect(capacityOf(100, { cap: 1, intervalMs: 1000 })).toBe(2);
  });
});
