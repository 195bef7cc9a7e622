import type { ColumnValue } from './change.ts';

/** A Block Kit block as Slack receives it; the renderer builds them, the stand-in validates them. */
export type SlackBlock = { type: string } & Record<string, unknown>;

/** What chat.postMessage receives besides the channel. `text` is always present (notification fallback). */
export interface SlackPayload {
  text: string;
  blocks: SlackBlock[];
  /**
   * The change behind a single-change message, as data, for destinations that are not Slack (Teams
   * cards, signed webhooks: src/adapters/destinations.ts). The Slack adapter never sends it, so Slack
   * receives exactly `text` and `blocks`. Absent on digests and thread replies.
   */
  change?: ChangeSummary;
}

/**
 * One change as render.ts describes it, plain text (not mrkdwn: each destination escapes for its own
 * format). Values come from the database: untrusted in every output.
 */
export interface ChangeSummary {
  listingId: string | null;
  /** The header ("Oak desk (#42)"), plain text. */
  header: string;
  /** The human summary of each signal, plain text. */
  summary: string[];
  /** "View listing" URL, or null when there is none. */
  url: string | null;
  /** Debezium op. */
  op: string;
  /** When the change was committed in the database (source.ts_ms), ISO-8601, or null. */
  changedAt: string | null;
  /** The same words as the message's before/after fields (title + plain value). */
  facts: { title: string; value: string }[];
  /** One entry per signal: the field key, its condition and the raw column values. */
  fields: {
    field: string | null;
    condition: string;
    column: string | null;
    /** undefined in the source (no before image) is null here, with beforeUnknown true. */
    before: ColumnValue;
    beforeUnknown: boolean;
    after: ColumnValue;
  }[];
  /** The rules that sent it to this channel, and the channel's key, when the caller knows them. */
  rules?: string[];
  channelKey?: string;
  /**
   * Set on a redriven change (late.ts markLate): "Late delivery (redriven <when>): changed at <when>".
   * Teams cards show it; the webhook body leaves it out (the same event `run` sends).
   */
  late?: string;
}

/** urgent: ahead of normal messages in its channel, never folded into a digest (config `rules[].priority`). */
export type Priority = 'normal' | 'urgent';

/** One message for one channel; a change routed to three channels yields three of these. */
export interface OutboundMessage {
  /** What chat.postMessage receives (an id or #name). */
  channel: string;
  payload: SlackPayload;
  /** The config's key for the channel (rules name channels by key). Default: `channel`. */
  channelKey?: string;
  /** Default: normal. */
  priority?: Priority;
  /** The rules that sent it here (src/pipeline/route.ts Route.rules), for mutes by rule. */
  rules?: readonly string[];
  /** The per-listing throttles of those rules (config `rules[].throttle`). Default: none. */
  throttle?: MessageThrottle;
}

/** One rule's per-listing throttle (config `rules[].throttle`), named by the rule. */
export interface RuleThrottle {
  rule: string;
  perListing: number;
  windowMs: number;
}

/**
 * The throttles a message carries into its channel's lane (src/delivery/throttle.ts): the lane counts
 * the listing's messages under each, and folds the message into the digest only when it is `binding`
 * and every one of them is past its limit.
 */
export interface MessageThrottle {
  /** One per rule that sent it here and has a throttle. */
  limits: readonly RuleThrottle[];
  /**
   * Every rule that sent it here has a throttle. A rule without one wants every change of the listing
   * in the channel, so a message it sends too is never held back by another rule's throttle.
   */
  binding: boolean;
}
