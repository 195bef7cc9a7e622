/** A Block Kit block as Slack receives it; the renderer builds them, the stand-in validates them. */
export type SlackBlock = { type: string } & Record<string, unknown>;

/** What chat.postMessage receives besides the channel. `text` is always present (notification fallback). */
export interface SlackPayload {
  text: string;
  blocks: SlackBlock[];
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
}
