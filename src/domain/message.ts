/** A Block Kit block as Slack receives it; the renderer builds them, the stand-in validates them. */
export type SlackBlock = { type: string } & Record<string, unknown>;

/** What chat.postMessage receives besides the channel. `text` is always present (notification fallback). */
export interface SlackPayload {
  text: string;
  blocks: SlackBlock[];
}

/** One message for one channel; a change routed to three channels yields three of these. */
export interface OutboundMessage {
  channel: string;
  payload: SlackPayload;
}
