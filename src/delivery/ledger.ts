/**
 * The delivery ledger's keys and its in-process adapter (the embedded default without a store).
 *
 * A key names one record in one channel: "<topic>/<partition>/<offset>|<channel>". A message (a single
 * change, a coalesced net change, or a digest) carries one or more records; once the chat service
 * accepted it, every (record, channel) it carried is recorded. A record read again later (crash,
 * rebalance) is looked up before it is folded or queued (src/app/ledger-filter.ts): channels where it
 * was already carried are left out, so it is not posted twice there, and its offset still commits.
 */
import type { ClaimState, Clock, DeliveryLedger } from '../ports/index.ts';

/** "topic/partition/offset": where a record sits, as Submission origins carry it. */
export const originOf = (record: { topic: string; partition: number; offset: string }): string =>
  `${record.topic}/${record.partition}/${record.offset}`;

export const ledgerKey = (origin: string, channel: string): string => `${origin}|${channel}`;

/** "topic/partition" of a record (the ledger's `reach` is kept per partition). */
export const partitionOf = (record: { topic: string; partition: number }): string =>
  `${record.topic}/${record.partition}`;

/**
 * The highest offset per partition among ledger keys (topic names hold neither '/' nor '|', so the
 * last '/' before the '|' ends the partition), raised into `reach` (default a new map). A key that
 * names no record's offset is passed over.
 */
export function reachOf(keys: readonly string[], reach = new Map<string, bigint>()): Map<string, bigint> {
  for (const key of keys) {
    const bar = key.indexOf('|');
    const origin = bar < 0 ? key : key.slice(0, bar);
    const slash = origin.lastIndexOf('/');
    const digits = origin.slice(slash + 1);
    if (slash < 0 || !/^\d+$/.test(digits)) continue;
    const partition = origin.slice(0, slash);
    const offset = BigInt(digits);
    const was = reach.get(partition);
    if (was === undefined || offset > was) reach.set(partition, offset);
  }
  return reach;
}

export interface MemoryLedgerOptions {
  clock: Clock;
  /** How long an entry is kept (config store.ledger.retentionMs). */
  retentionMs: number;
  /** At most this many entries; the oldest go first. Default: what maxBytes holds. */
  maxEntries?: number;
  /**
   * At most about this many bytes (config store.ledger.maxMemoryBytes, default 16 MiB); the oldest go
   * first. An entry costs its key's length plus ENTRY_OVERHEAD_BYTES (measured: 1,000,000 entries of
   * 50-character keys took about 260 MB, issue 16), so the default holds about 64,000 entries.
   */
  maxBytes?: number;
}

/** Heap per entry beyond its key's characters: the Map slot, the string header, the expiry number. */
export const ENTRY_OVERHEAD_BYTES = 200;
export const DEFAULT_LEDGER_MAX_BYTES = 16 * 1024 * 1024;

/**
 * In memory: covers redelivery within one process (a rebalance that hands a partition back, a
 * rejoin after a lost session), not a crash.
 */
export function createMemoryLedger(
  o: MemoryLedgerOptions,
): DeliveryLedger & { size(): number; bytes(): number } {
  const maxEntries = o.maxEntries ?? Number.POSITIVE_INFINITY;
  const maxBytes = o.maxBytes ?? DEFAULT_LEDGER_MAX_BYTES;
  const entries = new Map<string, number>(); // key -> expiry (epoch ms); insertion order = age
  // Per partition the highest offset ever recorded (never falls, also when entries expire or are
  // pruned): the ledger filter then asks `seen` only for records at or below it (issue 16).
  const reached = new Map<string, bigint>();
  let bytes = 0;
  const cost = (key: string): number => key.length + ENTRY_OVERHEAD_BYTES;
  const prune = (now: number): void => {
    for (const [key, expiry] of entries) {
      if (expiry > now && entries.size <= maxEntries && bytes <= maxBytes) break;
      entries.delete(key);
      bytes -= cost(key);
    }
  };
  return {
    size: () => entries.size,
    bytes: () => bytes,
    async seen(keys) {
      const now = o.clock.now();
      return new Set(keys.filter((k) => (entries.get(k) ?? Number.NEGATIVE_INFINITY) > now));
    },
    async claim(keys) {
      // One process: a key is never claimed by another sender here.
      const now = o.clock.now();
      return new Map(
        keys.map((k): [string, ClaimState] => [
          k,
          (entries.get(k) ?? Number.NEGATIVE_INFINITY) > now ? 'done' : 'mine',
        ]),
      );
    },
    async release() {},
    async reach(partitions) {
      const found = new Map<string, bigint>();
      for (const partition of partitions) {
        const offset = reached.get(partition);
        if (offset !== undefined) found.set(partition, offset);
      }
      return found;
    },
    async record(keys) {
      const now = o.clock.now();
      reachOf(keys, reached);
      for (const k of keys) {
        if (entries.delete(k)) bytes -= cost(k);
        entries.set(k, now + o.retentionMs);
        bytes += cost(k);
      }
      prune(now);
    },
  };
}
