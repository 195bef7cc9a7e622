/**
 * Render: one routed change -> a Slack Block Kit message. A header naming the listing, the human
 * summary, before/after fields, a "View listing" button (and, with interactivity on, the mute menu:
 * menus.ts), a context line with the database time, and always a `text` fallback for notifications
 * and screen readers.
 * https://docs.slack.dev/reference/block-kit/blocks
 *
 * Every database value passes through mrkdwn.ts (escaped and truncated with "…"); `parse` and
 * `link_names` are never set. Limits are checked before returning (block-limits.ts): a message Slack
 * would refuse is a RENDER_FAILED error here, not a dead letter at delivery time.
 */
import type { Config } from '../config/index.ts';
import type { ChangeEvent } from '../domain/change.ts';
import { NotifierError } from '../domain/errors.ts';
import type { ChangeSummary, SlackBlock, SlackPayload } from '../domain/message.ts';
import { checkPayload, slackLimits } from './block-limits.ts';
import type { Signal } from './filter.ts';
import { describe, type Fact, formatInstant, listingTitle } from './human.ts';
import { interactive, listingMenu } from './menus.ts';
import { bold, plain, type Rich, toMrkdwn, toPlain } from './mrkdwn.ts';

export interface RenderInput {
  event: ChangeEvent;
  /** The signals routed to this one channel. */
  signals: Signal[];
  config: Config;
  /** The rules that routed the signals here and the channel's key: carried on `payload.change`. */
  route?: { rules: string[]; channelKey: string };
}

/** Shrinking budgets: the first that keeps all blocks under slackLimits.blocksJson wins. */
const budgets = [
  { summary: 3000, field: 600, text: 3000 },
  { summary: 1500, field: 300, text: 1500 },
  { summary: 600, field: 120, text: 600 },
] as const;
type Budget = (typeof budgets)[number];

const FIELDS_PER_SECTION = 10;
/** Keeps header + summary + field sections + actions + context within 50 blocks. */
const MAX_FIELD_SECTIONS = 40;

export const BUTTON_TEXT = 'View listing';

/** The listing URL with the id URL-encoded, or null when there is no id or it would be too long. */
export function listingUrl(template: string, listingId: string | null): string | null {
  if (listingId === null) return null;
  let encoded: string;
  try {
    encoded = encodeURIComponent(listingId);
  } catch {
    return null; // a lone surrogate: no URL can carry it
  }
  const url = template.replaceAll('{id}', encoded);
  return url.length <= slackLimits.buttonUrl && URL.canParse(url) ? url : null;
}

/** "Ergonomic Office Chair (#1)": the title shortened so the id stays visible within 150. */
export function headerText(title: string | null, listingId: string | null): string {
  const id = listingId === null ? null : `#${toPlain([plain(listingId)], 40)}`;
  if (title === null)
    return toPlain([plain(id === null ? 'Listing (id unknown)' : `Listing ${id}`)], slackLimits.headerText);
  if (id === null) return toPlain([plain(title)], slackLimits.headerText);
  const suffix = ` (${id})`;
  return `${toPlain([plain(title)], slackLimits.headerText - suffix.length)}${suffix}`;
}

function summaryRich(facts: Fact[]): Rich {
  if (facts.length === 1) return facts[0]?.summary ?? [];
  return facts.flatMap((f, i) => [plain(i === 0 ? '• ' : '\n• '), ...f.summary]);
}

function build(input: RenderInput, facts: Fact[], budget: Budget): SlackPayload {
  const { event, config } = input;
  const title = listingTitle(event, config);
  const header = headerText(title, event.listingId);
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: header, emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: toMrkdwn(summaryRich(facts), budget.summary) } },
  ];

  const fields = facts.flatMap((f) => f.fields);
  for (let i = 0; i < fields.length && i / FIELDS_PER_SECTION < MAX_FIELD_SECTIONS; i += FIELDS_PER_SECTION) {
    blocks.push({
      type: 'section',
      fields: fields.slice(i, i + FIELDS_PER_SECTION).map((f) => ({
        type: 'mrkdwn',
        text: toMrkdwn([bold(f.title), plain('\n'), ...f.value], budget.field),
      })),
    });
  }

  const url = listingUrl(config.listingUrlTemplate, event.listingId);
  const actions: SlackBlock[] = [];
  if (url !== null)
    actions.push({
      type: 'button',
      text: { type: 'plain_text', text: BUTTON_TEXT },
      url,
      action_id: 'view_listing',
    });
  // The mute menu (menus.ts): with interactivity on, for a message routed to a channel (explain and
  // `render` without a route draw none), of a listing with an id.
  const menu =
    input.route !== undefined && event.listingId !== null && interactive(config)
      ? listingMenu(event.listingId, input.route.channelKey, input.route.rules)
      : undefined;
  if (menu !== undefined) actions.push(menu);
  if (actions.length > 0) blocks.push({ type: 'actions', elements: actions });

  const when =
    event.source.tsMs === undefined ? 'time unknown' : formatInstant(event.source.tsMs, config.timeZone);
  const context: Rich = [plain(`Changed in the database at ${when}`)];
  if (event.listingId !== null) context.push(plain(` · listing ${event.listingId}`));
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: toMrkdwn(context, 300) }] });

  // The fallback is mrkdwn too (Slack parses it): escaped like the blocks.
  const summaries = facts.flatMap((f, i) => [plain(i === 0 ? '' : '; '), ...f.summary]);
  const text = toMrkdwn([plain(`${header}: `), ...summaries], budget.text);
  return { text, blocks };
}

/** The change as data for non-Slack destinations (SlackPayload.change). Plain text, not escaped. */
function summarize(input: RenderInput, facts: Fact[]): ChangeSummary {
  const { event, config } = input;
  const tsMs = event.source.tsMs;
  return {
    listingId: event.listingId,
    header: headerText(listingTitle(event, config), event.listingId),
    summary: facts.map((f) => toPlain(f.summary)),
    url: listingUrl(config.listingUrlTemplate, event.listingId),
    op: event.op,
    changedAt: tsMs === undefined || !Number.isFinite(tsMs) ? null : new Date(tsMs).toISOString(),
    facts: facts.flatMap((f) => f.fields.map((x) => ({ title: x.title, value: toPlain(x.value) }))),
    fields: input.signals.map((s) => ({
      field: s.field,
      condition: s.condition,
      column: s.change?.column ?? null,
      before: s.change?.before ?? null,
      beforeUnknown: s.change?.beforeUnknown ?? false,
      after: s.change?.after ?? null,
    })),
    ...(input.route === undefined ? {} : { rules: input.route.rules, channelKey: input.route.channelKey }),
  };
}

/** Throws NotifierError('RENDER_FAILED') when no budget yields a message within Slack's limits. */
export function render(input: RenderInput): SlackPayload {
  if (input.signals.length === 0) throw new NotifierError('RENDER_FAILED', 'nothing to render: no signals');
  let facts: Fact[];
  try {
    facts = input.signals.map((s) => describe(s, input.event, input.config));
  } catch (cause) {
    throw new NotifierError('RENDER_FAILED', `cannot describe change: ${(cause as Error).message}`, {
      cause,
    });
  }
  let problems: string[] = [];
  for (const budget of budgets) {
    const payload = build(input, facts, budget);
    problems = checkPayload(payload, { forbidMarkup: true });
    if (problems.length === 0) return { ...payload, change: summarize(input, facts) };
  }
  throw new NotifierError(
    'RENDER_FAILED',
    `message exceeds Slack limits: ${problems.slice(0, 3).join('; ')}`,
    {
      details: { problems },
    },
  );
}
