/**
 * A post-render transform for messages delivered late (a dead letter redriven by `listing-notifier dlq
 * redrive`): a context line right under the header, "Late delivery (redriven <when>): changed at
 * <original time>", and the fallback text prefixed with "Late delivery: " so that the notification
 * itself says so. Pure: both times come in as arguments.
 *
 * The original time is Debezium's source.ts_ms (the commit in the database) when the record carried
 * it, else the Kafka timestamp of the original record (dlq.original.timestamp).
 *
 * The change as data (`payload.change`) is kept: a webhook receives the same `listing.changed` event
 * `run` would have sent (same body, so the same webhook-id: a receiver that did get the first attempt
 * drops the copy), and a Teams card stays a change card, with the late line (`change.late`).
 */
import { NotifierError } from '../domain/errors.ts';
import type { SlackPayload } from '../domain/message.ts';
import { checkPayload } from './block-limits.ts';
import { formatInstant } from './human.ts';

export interface LateMark {
  /** When the change happened (epoch ms); null when no time is known. */
  originalMs: number | null;
  /** When it is being delivered (epoch ms). */
  redrivenAtMs: number;
  /** IANA zone of the times shown (config.timeZone). */
  timeZone: string;
}

export const LATE_PREFIX = 'Late delivery: ';

/** The context line's text (no database value in it: two formatted times). */
export function lateLine(mark: LateMark): string {
  const when = formatInstant(mark.redrivenAtMs, mark.timeZone);
  const original =
    mark.originalMs === null ? 'an unknown time' : formatInstant(mark.originalMs, mark.timeZone);
  return `Late delivery (redriven ${when}): changed at ${original}`;
}

/** The payload with the late line under its header (or first when it has none) and a prefixed text. */
export function markLate(payload: SlackPayload, mark: LateMark): SlackPayload {
  const context = { type: 'context', elements: [{ type: 'mrkdwn', text: `:warning: ${lateLine(mark)}` }] };
  const at = payload.blocks[0]?.type === 'header' ? 1 : 0;
  const marked: SlackPayload = {
    ...payload,
    text: `${LATE_PREFIX}${payload.text}`,
    blocks: [...payload.blocks.slice(0, at), context, ...payload.blocks.slice(at)],
    ...(payload.change === undefined ? {} : { change: { ...payload.change, late: lateLine(mark) } }),
  };
  const problems = checkPayload(marked, { forbidMarkup: true });
  if (problems.length > 0) {
    // Cannot happen with render's own budgets (44 blocks at most, text <= 3000); said plainly if it does.
    throw new NotifierError('RENDER_FAILED', `late mark exceeds Slack limits: ${problems.join('; ')}`, {
      details: { problems },
    });
  }
  return marked;
}
