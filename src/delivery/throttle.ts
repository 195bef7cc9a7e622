/**
 * The per-listing throttle of one channel (config `rules[].throttle`, issue 17 item 3): how many
 * messages of its own each listing got in the channel from each rule within the rule's window. Past
 * `perListing`, the listing's further normal changes from that rule fold into the channel's next digest
 * (fold.ts), so one listing an ETL touches every ten minutes cannot take the channel. Plain data and
 * functions: times are passed in (clock.now()), no timers, no I/O.
 *
 * What counts is what the channel is sent for the listing by the rule: a top-level message of its own,
 * counted when the lane queues it (so changes queued faster than they are sent count too), taken back
 * when it is cancelled before it went out (net zero: lane.ts). A change coalesced into a queued message
 * and a digest line cost the channel no message and do not count. A message the chat service refused
 * for good still counts (it was tried; rare).
 *
 * A message several rules send to the channel: it is throttled only when every one of them has a
 * throttle and is past it (domain/message.ts MessageThrottle.binding). A rule without a throttle wants
 * every change; each rule with one still counts the message, since the channel got it.
 *
 * Per process, not in the shared store: Debezium keys each record by the table's primary key
 * (https://debezium.io/documentation/reference/stable/connectors/postgresql.html, "Change event keys"),
 * so all changes of one listing are on one partition and reach one replica at a time; after a
 * rebalance the new owner starts counting afresh (a listing may get up to `perListing` more messages).
 *
 * Memory: per (rule, listing) the times of its last `perListing` messages, at most `maxEntries` pairs
 * per channel; past that the pair counted longest ago is forgotten first (it is the likeliest to be out
 * of its window anyway). Pairs whose window has passed are forgotten when met again.
 */
import type { MessageThrottle, RuleThrottle } from '../domain/message.ts';

/** (rule, listing) pairs a channel keeps counts for: about 100 bytes each, 1 MB per channel at most. */
export const DEFAULT_MAX_THROTTLE_ENTRIES = 10_000;

export interface ThrottleCounter {
  /** The listing is past every limit of a binding throttle at `now`: its normal change goes to the digest. */
  over(listingKey: string, throttle: MessageThrottle | undefined, now: number): boolean;
  /**
   * One message of its own for the listing at `now`, counted under each limit; `token` (the lane's item)
   * names the count for `uncount`.
   */
  count(listingKey: string, throttle: MessageThrottle | undefined, now: number, token: object): void;
  /** Takes back the count made with `token` (its message was never sent). */
  uncount(token: object): void;
  /** (rule, listing) pairs held. */
  size(): number;
}

const keyOf = (rule: string, listingKey: string): string => `${rule}\u0000${listingKey}`;

/** The times in `times` (oldest first) still inside a window of `windowMs` ending at `now`. */
const within = (times: readonly number[], now: number, windowMs: number): number[] =>
  times.filter((t) => now - t < windowMs);

export function createThrottleCounter(maxEntries = DEFAULT_MAX_THROTTLE_ENTRIES): ThrottleCounter {
  /** Per (rule, listing), the times of its last messages, oldest first; Map order: counted longest ago first. */
  const counts = new Map<string, number[]>();
  /** What each count was, to take it back (weak: a sent item just goes). */
  const made = new WeakMap<object, { keys: string[]; at: number }>();

  const reached = (limit: RuleThrottle, listingKey: string, now: number): boolean => {
    const key = keyOf(limit.rule, listingKey);
    const times = counts.get(key);
    if (times === undefined) return false;
    const recent = within(times, now, limit.windowMs);
    if (recent.length === 0) counts.delete(key);
    return recent.length >= limit.perListing;
  };

  return {
    over(listingKey, throttle, now) {
      if (throttle === undefined || !throttle.binding || throttle.limits.length === 0) return false;
      // Every limit is asked (no short cut), so each forgets a passed window.
      return throttle.limits.map((limit) => reached(limit, listingKey, now)).every(Boolean);
    },

    count(listingKey, throttle, now, token) {
      if (throttle === undefined || throttle.limits.length === 0) return;
      const keys: string[] = [];
      for (const limit of throttle.limits) {
        const key = keyOf(limit.rule, listingKey);
        const times = within(counts.get(key) ?? [], now, limit.windowMs);
        times.push(now);
        // Only the last `perListing` times decide whether the next message is past the limit.
        if (times.length > limit.perListing) times.splice(0, times.length - limit.perListing);
        counts.delete(key);
        counts.set(key, times);
        keys.push(key);
      }
      made.set(token, { keys, at: now });
      while (counts.size > maxEntries) {
        const oldest = counts.keys().next();
        if (oldest.done === true) break;
        counts.delete(oldest.value);
      }
    },

    uncount(token) {
      const count = made.get(token);
      if (count === undefined) return;
      made.delete(token);
      for (const key of count.keys) {
        const times = counts.get(key);
        const i = times?.lastIndexOf(count.at) ?? -1;
        if (times === undefined || i < 0) continue;
        times.splice(i, 1);
        if (times.length === 0) counts.delete(key);
      }
    },

    size: () => counts.size,
  };
}
