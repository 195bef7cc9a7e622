/**
 * A lane's items and the shares they carry. An item is what one chat message (or one digest with its
 * file or thread) carries: the shares of the records it conveys. It stays open to folding (buffer.ts)
 * until its turn comes; then it is frozen, sent (sender.ts) and every share it carries is settled with
 * the outcome. A record is finished only when all its shares are (src/app/record-work.ts).
 */
import type { ChangeEvent } from '../../domain/change.ts';
import type { Priority, SlackPayload } from '../../domain/message.ts';
import type { Fate, Share } from '../../ports/index.ts';

interface ItemBase {
  id: string;
  status: 'queued' | 'sending' | 'settled';
  priority: Priority;
  shares: Set<Share>;
  /**
   * The item's shares by the signal that gives them up, with the one listener the item keeps on it
   * (a partition's signal: one listener per item and signal, removed when the item settles; one per
   * share made the signal's listener list, walked on every add, grow with the bulk: issue 16).
   */
  bySignal: Map<AbortSignal, { shares: Set<Share>; listener: () => void }>;
  /** Aborts the item's sleeps once no share is left to deliver for. */
  abort: AbortController;
}

/** A message of its own: one listing's (net) change, or a message sent as it is. */
export interface SingleItem extends ItemBase {
  kind: 'single';
  /** The listing's identity in the channel; null when the change has none (never folded). */
  listingKey: string | null;
  /**
   * The net change so far (slim, first before -> last after): a later change nets against it.
   * Absent for a message sent as it is (no event: nothing folds into it).
   */
  net: ChangeEvent | undefined;
  payload: SlackPayload;
  /** Edits the listing's earlier message in the channel (update in place: sender.ts) instead of posting. */
  inPlace?: boolean;
}

/** One listing's line in a digest. */
export interface DigestEntry {
  first: ChangeEvent;
  /** The net change so far (composer.net of every change joined: slim changes carry only what changed). */
  last: ChangeEvent;
  shares: Share[];
}

/** The channel's digest: the listings folded into it, by listing key (a second line: `key\u0000n`). */
export interface DigestItem extends ItemBase {
  kind: 'digest';
  entries: Map<string, DigestEntry>;
  /** The source times of the changes in it (the digest's "from ... to"); ±Infinity while none had one. */
  fromMs: number;
  toMs: number;
  /** clock.now() when the digest opened, and when a change last joined it (window.ts). */
  openedAt: number;
  lastAddAt: number;
  /** Ends the digest's collecting wait once it is closed. */
  windowEnd?: AbortController;
  /**
   * Overflow joined it, not only throttled listings (lane.ts addToDigest): only such a digest is a
   * flood. One a throttled listing opened pulls no other listing's change in (they follow the budget),
   * and cut by its window it does not make the next overflow a digest (buffer.ts viewOf, closeOpen).
   */
  overflow: boolean;
}

export type Item = SingleItem | DigestItem;

const base = (id: string, priority: Priority): ItemBase => ({
  id,
  status: 'queued',
  priority,
  shares: new Set(),
  bySignal: new Map(),
  abort: new AbortController(),
});

export const newSingle = (
  id: string,
  priority: Priority,
  listingKey: string | null,
  net: ChangeEvent | undefined,
  payload: SlackPayload,
): SingleItem => ({ ...base(id, priority), kind: 'single', listingKey, net, payload });

/** `overflow`: opened by overflow (default), not by a throttled listing. */
export const newDigest = (id: string, now: number, overflow = true): DigestItem => ({
  ...base(id, 'normal'),
  kind: 'digest',
  entries: new Map(),
  fromMs: Number.POSITIVE_INFINITY,
  toMs: Number.NEGATIVE_INFINITY,
  openedAt: now,
  lastAddAt: now,
  overflow,
});

/** The records' coordinates a share carries (one, or a fold run's). */
export const originsOf = (share: Share): readonly string[] =>
  share.origins?.() ?? (share.origin === undefined ? [] : [share.origin]);

/** How a delivered item carried its records (Fate.folded). */
export const foldedOf = (item: Item): 'no' | 'coalesced' | 'digest' =>
  item.kind === 'digest' ? 'digest' : item.shares.size > 1 ? 'coalesced' : 'no';

/** Ties a share to an item: aborting the share takes it off, and an item with no share left is not sent. */
export function attach(item: Item, share: Share): void {
  if (item.shares.has(share)) return;
  item.shares.add(share);
  share.joined();
  const { signal } = share;
  let group = item.bySignal.get(signal);
  if (group === undefined) {
    const shares = new Set<Share>();
    const listener = (): void => {
      item.bySignal.delete(signal);
      let removed = false;
      for (const s of shares) removed = item.shares.delete(s) || removed;
      shares.clear();
      if (removed && item.shares.size === 0) item.abort.abort(signal.reason);
    };
    group = { shares, listener };
    item.bySignal.set(signal, group);
    signal.addEventListener('abort', listener, { once: true });
  }
  group.shares.add(share);
}

/** Removes the item's abort listeners (it is settled or moved on: nothing to give up any more). */
export function detach(item: Item): void {
  for (const [signal, group] of item.bySignal) signal.removeEventListener('abort', group.listener);
  item.bySignal.clear();
}

/** Settles every share the item carries with `fate`, once. */
export function settle(item: Item, fate: Fate): void {
  if (item.status === 'settled') return;
  item.status = 'settled';
  detach(item);
  const listing = item.kind === 'single' && item.listingKey !== null ? item.listingKey : undefined;
  for (const share of item.shares) share.settle(fate, listing);
  item.shares.clear();
}
