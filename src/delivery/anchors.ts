/**
 * Thread anchors in this process (the embedded default without a store): the `ts` of a listing's first
 * message in a channel, kept for the thread window (config delivery.threads). Bounded: the oldest go
 * first past `maxEntries`.
 */
import type { Clock, ThreadAnchors } from '../ports/index.ts';

export const anchorKey = (channel: string, listingKey: string): string => `${channel}|${listingKey}`;

export function createMemoryAnchors(clock: Clock, maxEntries = 100_000): ThreadAnchors {
  const anchors = new Map<string, { ts: string; until: number }>();
  return {
    async get(key) {
      const found = anchors.get(key);
      if (found === undefined) return undefined;
      if (found.until > clock.now()) return found.ts;
      anchors.delete(key);
      return undefined;
    },
    async set(key, ts, ttlMs) {
      anchors.delete(key);
      anchors.set(key, { ts, until: clock.now() + ttlMs });
      while (anchors.size > maxEntries) {
        const oldest = anchors.keys().next().value;
        if (oldest === undefined) break;
        anchors.delete(oldest);
      }
    },
  };
}
