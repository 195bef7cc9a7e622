/**
 * The last-values store in this process (no `store.url`): an LRU bounded in bytes (lru-cache's
 * maxSize), entries expiring `ttlMs` after their last write (by the Clock). Each entry is kept as one string (the
 * store's text, before-image.ts entryText), which is what a listing costs; the least recently used
 * listings go first when the bound is reached (they fall back to "previous unknown" next time).
 */
import { LRUCache } from 'lru-cache';
import type { KnownValues } from '../domain/known-values.ts';
import { entryText, parseEntry } from '../pipeline/before-image.ts';
import type { Clock, LastValuesStore } from '../ports/index.ts';

export interface MemoryLastValuesOptions {
  /** Bound on the entries' bytes (config store.lastValues.maxBytes). */
  maxBytes: number;
  /** Config store.lastValues.ttlMs. */
  ttlMs: number;
  clock: Clock;
}

/**
 * Bytes one entry holds: its key and text as UTF-16 (V8 keeps one-byte strings in half that, so this
 * errs high), plus the cache's own bookkeeping (a Map slot and index arrays), set so that the count errs high against the heap measured by
 * bench/last-values-memory.ts.
 */
export const entryBytes = (listingId: string, text: string): number =>
  2 * (listingId.length + text.length) + 150;

export function createMemoryLastValues(
  o: MemoryLastValuesOptions,
): LastValuesStore & { size(): number; calculatedSize(): number } {
  const cache = new LRUCache<string, string>({
    maxSize: o.maxBytes,
    sizeCalculation: (text, key) => entryBytes(key, text),
  });
  // The expiry (the Clock's ms, base 36) leads the text: time comes from the Clock, not lru-cache's own.
  const read = (listingId: string): KnownValues | undefined => {
    const text = cache.get(listingId);
    if (text === undefined) return undefined;
    const bar = text.indexOf('|');
    if (Number.parseInt(text.slice(0, bar), 36) <= o.clock.now()) {
      cache.delete(listingId);
      return undefined;
    }
    return parseEntry(text.slice(bar + 1));
  };
  return {
    async get(listingId) {
      return read(listingId);
    },
    async put(listingId, entry: KnownValues) {
      const stored = read(listingId);
      if (stored !== undefined && stored.position >= entry.position) return false;
      cache.set(listingId, `${(o.clock.now() + o.ttlMs).toString(36)}|${entryText(entry)}`);
      return true;
    },
    size: () => cache.size,
    calculatedSize: () => cache.calculatedSize,
  };
}
