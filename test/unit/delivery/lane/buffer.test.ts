import { describe, expect, it } from 'vitest';
import {
  closeOpen,
  digestChanges,
  emptyBuffer,
  freeze,
  joinDigest,
  type NetOf,
  takeEntry,
  viewOf,
} from '../../../../src/delivery/lane/buffer.ts';
import { newDigest, newSingle } from '../../../../src/delivery/lane/item.ts';
import type { ChangeEvent } from '../../../../src/domain/change.ts';
import type { Share } from '../../../../src/ports/index.ts';
import { makeEvent } from '../../../support/events.ts';

const share = (): Share => ({
  joined: () => {},
  settle: () => {},
  signal: new AbortController().signal,
});

const change = (id: string, price: number, op: ChangeEvent['op'] = 'update', tsMs = 1000): ChangeEvent =>
  makeEvent({ op, listingId: id, after: { prc_amt: price }, source: { tsMs } });

/** Updates net (first's before, last's after); a create or delete does not combine. */
const net: NetOf = (first, last) =>
  first.op === 'update' && last.op === 'update' ? { ...last, before: first.before } : null;

const priceOf = (event: ChangeEvent | undefined) => event?.after?.prc_amt;

describe('folding buffer', () => {
  it('joins a listing’s later change into its entry as the net change, one share reference per run', () => {
    const buffer = emptyBuffer();
    const digest = newDigest('digest-1', 0);
    buffer.open = digest;
    const run = share();
    joinDigest(
      buffer,
      digest,
      { listingKey: '1', event: change('1', 10), share: run, now: 5 },
      net,
      () => 'x',
    );
    joinDigest(
      buffer,
      digest,
      { listingKey: '1', event: change('1', 20), share: run, now: 7 },
      net,
      () => 'x',
    );
    expect(digest.entries.size).toBe(1);
    expect(priceOf(digest.entries.get('1')?.last)).toBe(20);
    expect(digest.entries.get('1')?.shares).toEqual([run]);
    expect(buffer.inDigest.get('1')).toBe(digest);
    expect(digest.lastAddAt).toBe(7);
    expect(priceOf(digestChanges(digest, net)[0])).toBe(20);
  });

  it('gives a change that does not combine (a delete after an update) a line of its own', () => {
    const buffer = emptyBuffer();
    const digest = newDigest('digest-1', 0);
    joinDigest(
      buffer,
      digest,
      { listingKey: '1', event: change('1', 10), share: share(), now: 1 },
      net,
      () => '9',
    );
    joinDigest(
      buffer,
      digest,
      { listingKey: '1', event: change('1', 0, 'delete'), share: share(), now: 2 },
      net,
      () => '9',
    );
    expect([...digest.entries.keys()]).toEqual(['1', '1\u00009']);
    // Freezing the digest forgets both lines' listing.
    freeze(buffer, digest);
    expect(buffer.inDigest.size).toBe(0);
  });

  it('keeps the digest’s source time span', () => {
    const buffer = emptyBuffer();
    const digest = newDigest('digest-1', 0);
    for (const [id, ts] of [
      ['1', 3000],
      ['2', 1000],
      ['3', 2000],
    ] as const) {
      joinDigest(
        buffer,
        digest,
        { listingKey: id, event: change(id, 1, 'update', ts), share: share(), now: 0 },
        net,
        () => 'x',
      );
    }
    expect([digest.fromMs, digest.toMs]).toEqual([1000, 3000]);
  });

  it('lifts a listing out of its digest: the entry leaves it, the listing is no longer in a digest', () => {
    const buffer = emptyBuffer();
    const digest = newDigest('digest-1', 0);
    joinDigest(
      buffer,
      digest,
      { listingKey: '1', event: change('1', 10), share: share(), now: 0 },
      net,
      () => 'x',
    );
    const entry = takeEntry(buffer, '1');
    expect(priceOf(entry?.last)).toBe(10);
    expect(digest.entries.size).toBe(0);
    expect(buffer.inDigest.has('1')).toBe(false);
    expect(takeEntry(buffer, '1')).toBeUndefined();
  });

  it('tells decideFold where a listing is, and counts a flood as going on for a window after a cut', () => {
    const buffer = emptyBuffer();
    const single = newSingle('single-1', 'normal', '7', change('7', 1), { text: '', blocks: [] });
    buffer.queued.set('7', single);
    const digest = newDigest('digest-2', 0);
    buffer.open = digest;
    joinDigest(
      buffer,
      digest,
      { listingKey: '1', event: change('1', 10), share: share(), now: 0 },
      net,
      () => 'x',
    );

    let view = viewOf(buffer, 3, 1000, 30_000);
    expect(view.queued('7')).toEqual({ id: 'single-1', priority: 'normal' });
    expect(view.inDigest('1')).toBe('open');
    expect([view.digestOpen, view.flooding, view.pending]).toEqual([true, false, 3]);

    // Cut by its window: the next overflow is a digest too, for a window.
    expect(closeOpen(buffer, digest, true, 1000)).toBe(true);
    expect(closeOpen(buffer, digest, true, 1000)).toBe(false);
    view = viewOf(buffer, 3, 2000, 30_000);
    expect([view.inDigest('1'), view.digestOpen, view.flooding]).toEqual(['closed', false, true]);
    // Closed quiet later: the flood still counts as going on until a window after the cut.
    const next = newDigest('digest-3', 2000);
    buffer.open = next;
    closeOpen(buffer, next, false, 5000);
    expect(viewOf(buffer, 0, 30_999, 30_000).flooding).toBe(true);
    expect(viewOf(buffer, 0, 31_000, 30_000).flooding).toBe(false);

    // Its turn came: nothing folds into the single any more.
    freeze(buffer, single);
    expect(viewOf(buffer, 0, 0, 30_000).queued('7')).toBeUndefined();
  });
});
