/**
 * Flood control's decision for one routed change arriving at a channel: a message of its own, folded
 * into the listing's pending message (the net change), or into the channel's digest. Pure: plain data
 * in, a decision out; the channel lane (lane.ts) applies it.
 *
 * Why: Slack takes about one message per second per channel
 * (https://docs.slack.dev/apis/web-api/rate-limits, "Posting messages"). A nightly repricing of 10,000
 * listings sent one message each would hold a channel for close to three hours, and every change
 * queued behind it (an unpublish) with it. So a channel keeps at most `capacity` top-level messages
 * pending (what its pace sends within `flood.budgetMs`, one slot kept for the digest); past that, normal
 * changes go into one digest per window. Urgent changes are never folded into a digest and go ahead of
 * normal ones.
 *
 * Per-listing order within a channel holds in every case:
 * - a later change of a listing whose message is still queued becomes that message's net change
 *   (first before -> last after), so it cannot overtake it;
 * - a listing in a digest stays in the digest (its later changes join its entry), except that an urgent
 *   change lifts the listing out of the digest and is sent, as the net change, ahead of it;
 * - with coalescing off, an urgent change first promotes the listing's queued normal message, so the
 *   older message still leaves first.
 *
 * A throttled listing (past its rules' `throttle.perListing` in the window: throttle.ts) is overflow
 * whatever the budget: its normal change goes into the digest (a queued message of it still takes the
 * change as its net change first: that costs the channel no message). Urgent changes are never
 * throttled, as they are never digested.
 */
import type { Priority } from '../domain/message.ts';

export interface FoldPolicy {
  /** Flood control on (config `delivery.flood.enabled`); off: every change is a message of its own. */
  enabled: boolean;
  /** Fold a listing's later change into its queued message (config `delivery.flood.coalesce`). */
  coalesce: boolean;
  /** Top-level messages a channel may have pending, a digest included, before overflow is folded. */
  capacity: number;
}

/** What the lane tells the decision about one channel. */
export interface LaneView {
  /** The listing's message that is queued and not yet sending, if any. */
  queued(listingKey: string): { id: string; priority: Priority } | undefined;
  /** Where the listing sits in a digest: the open one (still collecting), or a closed one not yet sent. */
  inDigest(listingKey: string): 'open' | 'closed' | undefined;
  /** A digest is collecting now. */
  digestOpen: boolean;
  /**
   * The last digest was cut by its window or its size, not closed by a pause: the flood goes on, and
   * its next overflow goes straight into the next digest rather than refilling the budget first.
   */
  flooding: boolean;
  /** Top-level messages queued or being sent (singles and closed digests). */
  pending: number;
}

export interface Arrival {
  /** The listing's identity in this channel; null when the change has none (never folded). */
  listingKey: string | null;
  priority: Priority;
  /** The listing is past its throttle in this channel (throttle.ts). Default: false. */
  throttled?: boolean;
}

export type FoldDecision =
  /** A message of its own; `promote` first raises that queued message of the same listing to urgent. */
  | { kind: 'queue'; promote?: string }
  /** Becomes the net change of the queued message `into` (urgent if either is). */
  | { kind: 'coalesce'; into: string }
  /**
   * Into the open digest (opening one when none is), joining the listing's entry if it has one;
   * `throttled` when the listing's throttle sent it there.
   */
  | { kind: 'digest'; throttled?: true }
  /** Urgent, for a listing in a digest: out of the digest, sent urgently as the net change. */
  | { kind: 'lift' };

export function decideFold(view: LaneView, arrival: Arrival, policy: FoldPolicy): FoldDecision {
  const { listingKey, priority } = arrival;
  if (!policy.enabled || listingKey === null) return { kind: 'queue' };
  const queued = view.queued(listingKey);
  if (queued !== undefined) {
    if (policy.coalesce) return { kind: 'coalesce', into: queued.id };
    if (priority === 'urgent' && queued.priority === 'normal') return { kind: 'queue', promote: queued.id };
  }
  const digest = view.inDigest(listingKey);
  if (digest !== undefined) {
    if (priority === 'urgent') return { kind: 'lift' };
    if (digest === 'open')
      return arrival.throttled === true ? { kind: 'digest', throttled: true } : { kind: 'digest' };
  }
  if (priority === 'urgent') return { kind: 'queue' };
  if (arrival.throttled === true) return { kind: 'digest', throttled: true };
  // One slot stays free for the digest itself, so a flood costs at most `capacity` top-level messages.
  if (view.digestOpen || view.flooding || view.pending + 1 >= policy.capacity) return { kind: 'digest' };
  return { kind: 'queue' };
}

/**
 * `capacity` from the config: what the channel's pace sends within the budget (at 1 per 1000 ms and a
 * 10 s budget, 10 messages), at least 2 (one message and the digest).
 */
export function capacityOf(budgetMs: number, pace: { cap: number; intervalMs: number }): number {
  return Math.max(2, Math.floor((budgetMs * pace.cap) / pace.intervalMs));
}
