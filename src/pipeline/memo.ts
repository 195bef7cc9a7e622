/**
 * A memo of at most `maxEntries` values: the least recently used goes first. For caches whose keys come
 * from data (a row's currency code, a column's scale), where one hostile or merely varied stream would
 * otherwise grow the cache without end (issue 19, finding 6: 17,576 currency codes added 50 MB of
 * Intl.NumberFormat). A Map keeps insertion order, so a hit is moved to the end and the first key is the
 * oldest: the same few lines as the thread anchors' bound (delivery/anchors.ts), no dependency.
 */
export interface Memo<V> {
  /** The value for `key`, made (and kept) on a miss. */
  get(key: string, make: () => V): V;
  /** Entries kept now (never more than maxEntries). */
  readonly size: number;
}

export function createMemo<V>(maxEntries: number): Memo<V> {
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError(`maxEntries ${maxEntries}`);
  const entries = new Map<string, V>();
  return {
    get(key, make) {
      if (entries.has(key)) {
        const value = entries.get(key) as V;
        entries.delete(key);
        entries.set(key, value);
        return value;
      }
      const value = make();
      entries.set(key, value);
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
      return value;
    },
    get size() {
      return entries.size;
    },
  };
}
