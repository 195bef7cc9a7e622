/**
 * Thread per listing (config delivery.threads) as the sender uses it: a listing's message replies in
 * the thread of its first message in the channel within the window (port ThreadAnchors, kept in the
 * store or in this process: anchors.ts). Without threads for the channel every message is top-level.
 * A store that fails costs the thread (a top-level message), not the message (store-failure.ts).
 */
import type { ThreadAnchors } from '../../ports/index.ts';
import { anchorKey } from '../anchors.ts';
import { type StoreFailureDeps, storeFailed } from './store-failure.ts';

export interface ListingThreads {
  /** The `ts` the listing's message replies under; undefined: top-level. */
  threadOf(listingKey: string | null): Promise<string | undefined>;
  /** The listing's message went out top-level as `ts`: its later changes in the window reply under it. */
  started(listingKey: string | null, ts: string): Promise<void>;
}

export interface ListingThreadsDeps extends StoreFailureDeps {
  threads: { anchors: ThreadAnchors; windowMs: number } | undefined;
  channel: string;
}

export function createListingThreads(deps: ListingThreadsDeps): ListingThreads {
  const { threads, channel } = deps;
  const guarded = async <T>(op: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await op();
    } catch (error) {
      storeFailed(deps, 'anchors', error, { channel }, 'thread anchor store failed');
      return undefined;
    }
  };
  return {
    async threadOf(listingKey) {
      if (threads === undefined || listingKey === null) return undefined;
      const key = anchorKey(channel, listingKey);
      return guarded(() => threads.anchors.get(key));
    },
    async started(listingKey, ts) {
      if (threads === undefined || listingKey === null) return;
      const key = anchorKey(channel, listingKey);
      await guarded(() => threads.anchors.set(key, ts, threads.windowMs));
    },
  };
}
