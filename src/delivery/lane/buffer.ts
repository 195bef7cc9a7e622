/**
 * The folding buffer of one channel: which listing's message is queued (a later change coalesces into
 * it), which listing sits in which digest, the digest still collecting, and whether a flood is going on.
 * Plain data and functions over it: no clock (times are passed in), no I/O, no sending. The lane
 * (lane.ts) asks fold.ts's decideFold over `viewOf` and applies the answer here.
 *
 * What waits is what a net change needs: per listing the first before and the last after (slim events,
 * composer.slim), never whole change events.
 */
import type { ChangeEvent } from '../../domain/change.ts';
import type { Share } from '../../ports/index.ts';
import type { LaneView } from '../fold.ts';
import type { DigestEntry, DigestItem, Item, SingleItem } from './item.ts';

/** One listing's net change (first before -> last after), or null when they do not combine (composer.net). */
export type NetOf = (first: ChangeEvent, last: ChangeEvent) => ChangeEvent | null;

export interface FoldBuffer {
  /** Each listing's message of its own that is queued and not yet sending. */
  readonly queued: Map<string, SingleItem>;
  /** Each listing's digest: the open one or a closed one not yet sent. */
  readonly inDigest: Map<string, DigestItem>;
  /** The digest collecting now. */
  open: DigestItem | undefined;
  /** The last digest was cut by its window or size (fold.ts LaneView.flooding). */
  flooding: boolean;
  /**
   * When a digest was last cut by its size or window. The flood counts as going on for a window after
   * that, even when a digest closes quiet in between: a source paused by the records digests hold goes
   * quiet too, and its next records are the same bulk, not news to post one by one (issue 16: a
   * 100,000-row bulk got seven messages of their own after every part).
   */
  lastCutAt: number | undefined;
}

export const emptyBuffer = (): FoldBuffer => ({
  queued: new Map(),
  inDigest: new Map(),
  open: undefined,
  flooding: false,
  lastCutAt: undefined,
});

/** What decideFold sees of the lane; `pending` is its top-level messages queued or sending. */
export function viewOf(buffer: FoldBuffer, pending: number, now: number, windowMs: number): LaneView {
  const { queued, inDigest } = lookupsOf(buffer);
  return {
    queued,
    inDigest,
    // A digest only throttled listings joined is no flood: other listings follow the budget.
    digestOpen: buffer.open?.overflow === true,
    flooding: buffer.flooding || (buffer.lastCutAt !== undefined && now - buffer.lastCutAt < windowMs),
    pending,
  };
}

/** The view's lookups read the buffer as it is when called: made once per buffer, not per view (issue 16). */
const lookups = new WeakMap<FoldBuffer, Pick<LaneView, 'queued' | 'inDigest'>>();
function lookupsOf(buffer: FoldBuffer): Pick<LaneView, 'queued' | 'inDigest'> {
  let known = lookups.get(buffer);
  if (known === undefined) {
    known = {
      queued: (key) => {
        const item = buffer.queued.get(key);
        return item === undefined ? undefined : { id: item.id, priority: item.priority };
      },
      inDigest: (key) => {
        const digest = buffer.inDigest.get(key);
        if (digest === undefined) return undefined;
        return digest === buffer.open ? 'open' : 'closed';
      },
    };
    lookups.set(buffer, known);
  }
  return known;
}

/**
 * Joins one listing's change to `digest` (the open one): into the listing's entry as its net change, as
 * a line of its own under `secondKey()` when it does not combine (a create or delete after an update),
 * or as the listing's first entry. Keeps the digest's times; `now` is when the change joined.
 */
export function joinDigest(
  buffer: FoldBuffer,
  digest: DigestItem,
  change: { listingKey: string; event: ChangeEvent; share: Share; now: number },
  net: NetOf,
  secondKey: () => string,
): void {
  const { listingKey, event, share } = change;
  const entry = digest.entries.get(listingKey);
  if (entry !== undefined && net(entry.first, event) !== null) {
    entry.last = net(entry.last, event) ?? event;
    // A run's records share one share: one reference per listing is enough.
    if (entry.shares[entry.shares.length - 1] !== share) entry.shares.push(share);
  } else if (entry !== undefined) {
    digest.entries.set(`${listingKey}\u0000${secondKey()}`, { first: event, last: event, shares: [share] });
  } else {
    digest.entries.set(listingKey, { first: event, last: event, shares: [share] });
    buffer.inDigest.set(listingKey, digest);
  }
  digest.lastAddAt = change.now;
  const at = event.source.tsMs;
  if (at !== undefined) {
    digest.fromMs = Math.min(digest.fromMs, at);
    digest.toMs = Math.max(digest.toMs, at);
  }
}

/**
 * Takes the listing out of its digest (an urgent change lifts it): its entry, if it had one. The
 * entry's shares stay on the digest as well: a share may carry other listings of it (a fold run), and
 * each share settles once per item it joined, so it finishes when both went out.
 */
export function takeEntry(buffer: FoldBuffer, listingKey: string): DigestEntry | undefined {
  const digest = buffer.inDigest.get(listingKey);
  const entry = digest?.entries.get(listingKey);
  buffer.inDigest.delete(listingKey);
  if (entry !== undefined) digest?.entries.delete(listingKey);
  return entry;
}

/**
 * Ends the open digest's collecting; false when `digest` is not the open one (closed already).
 * `flooding`: cut by its window or size while changes keep coming (the next overflow is a digest too).
 */
export function closeOpen(buffer: FoldBuffer, digest: DigestItem, flooding: boolean, now: number): boolean {
  if (buffer.open !== digest) return false;
  buffer.open = undefined;
  // Cut while only throttled listings joined it: no flood follows.
  buffer.flooding = flooding && digest.overflow;
  if (buffer.flooding) buffer.lastCutAt = now;
  return true;
}

/** The item's turn came: nothing folds into it any more. */
export function freeze(buffer: FoldBuffer, item: Item): void {
  if (item.kind === 'single') {
    if (item.listingKey !== null && buffer.queued.get(item.listingKey) === item) {
      buffer.queued.delete(item.listingKey);
    }
    return;
  }
  for (const key of item.entries.keys()) {
    const listingKey = key.split('\u0000')[0] ?? key;
    if (buffer.inDigest.get(listingKey) === item) buffer.inDigest.delete(listingKey);
  }
}

/** An entry's net change on its own (first before -> last after). */
export const entryChange = (entry: DigestEntry, net: NetOf): ChangeEvent =>
  net(entry.first, entry.last) ?? entry.last;

/** The digest's lines: each entry's net change, in the order they joined. */
export const digestChanges = (digest: DigestItem, net: NetOf): ChangeEvent[] =>
  [...digest.entries.values()].map((entry) => entryChange(entry, net));
