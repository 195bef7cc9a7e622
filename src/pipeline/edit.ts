/**
 * Update in place (config delivery.updates, rules[].update; issue 17): a listing's next message in a
 * channel edits its earlier one. The edited message is the listing's net change since the message was
 * posted as render.ts makes it (or the newest change, when the net one says nothing: the sender
 * chooses, lane/sender.ts), with what the message said before struck through above the fields:
 *
 *   Oak desk (#42)
 *   Stock recovered: 20
 *   ~Stock is low: 3 left~ · 2 h earlier
 *
 * Pure. The earlier summaries are plain text (SlackPayload.change.summary, from the database): escaped
 * here like every value (mrkdwn.ts), struck only where the marker cannot be broken by the text itself.
 */
import type { SlackBlock, SlackPayload } from '../domain/message.ts';
import { checkPayload } from './block-limits.ts';
import { plain, type Rich, strike, toMrkdwn } from './mrkdwn.ts';

/** One earlier state of the message: its summary (plain text) and when it was sent. */
export interface EditLine {
  summary: string;
  atMs: number;
}

/** Earlier lines shown at most (the oldest go first); the store keeps no more than these. */
export const MAX_EDIT_LINES = 5;
/** An earlier summary is cut to this many characters in the store and in the message. */
export const EDIT_LINE_CHARS = 200;

/** "just before", "12 min earlier", "2 h earlier", "3 d earlier". */
export function earlier(ms: number): string {
  const minutes = Math.floor(Math.max(0, ms) / 60_000);
  if (minutes < 1) return 'just before';
  if (minutes < 60) return `${minutes} min earlier`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h earlier`;
  return `${Math.floor(hours / 24)} d earlier`;
}

/** What the message says now, in one line for the next edit's history. Plain text. */
export function summaryLine(payload: SlackPayload): string {
  const summary = payload.change?.summary.join('; ') ?? payload.text;
  return summary.length <= EDIT_LINE_CHARS ? summary : `${summary.slice(0, EDIT_LINE_CHARS - 1)}…`;
}

/**
 * `payload` (the listing's new message) with `history` (oldest first) struck through under its summary.
 * `dropped`: older lines no longer kept ("and 3 earlier changes"). Returns `payload` itself when the
 * edit would break Slack's limits (a message as big as they allow): the new change is what matters.
 */
export function editedPayload(
  payload: SlackPayload,
  history: readonly EditLine[],
  nowMs: number,
  dropped = 0,
): SlackPayload {
  if (history.length === 0) return payload;
  const rich: Rich = [];
  if (dropped > 0) rich.push(plain(`${dropped} earlier change${dropped === 1 ? '' : 's'} before these\n`));
  history.slice(-MAX_EDIT_LINES).forEach((line, i) => {
    if (i > 0) rich.push(plain('\n'));
    rich.push(strike(line.summary.slice(0, EDIT_LINE_CHARS)), plain(` · ${earlier(nowMs - line.atMs)}`));
  });
  const block: SlackBlock = { type: 'context', elements: [{ type: 'mrkdwn', text: toMrkdwn(rich, 2000) }] };
  // Under the summary (header, summary, then the rest), where a reader looks for what changed.
  const at = payload.blocks[0]?.type === 'header' ? 2 : 1;
  const blocks = [...payload.blocks.slice(0, at), block, ...payload.blocks.slice(at)];
  const last = history[history.length - 1];
  const text = `${payload.text} (edited; before: ${toMrkdwn([plain(last?.summary ?? '')], 300)})`;
  const edited = { ...payload, text: text.length <= 3000 ? text : payload.text, blocks };
  return checkPayload(edited, { forbidMarkup: true }).length === 0 ? edited : payload;
}
