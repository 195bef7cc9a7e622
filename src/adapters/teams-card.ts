/**
 * A message as a Microsoft Teams Adaptive Card inside the envelope a Workflows webhook ("When a Teams
 * webhook request is received" -> "Post card in a chat or channel") takes:
 *   { "type": "message", "attachments": [{ "contentType": "application/vnd.microsoft.card.adaptive",
 *     "content": <card> }] }
 * https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using
 * Card schema: https://adaptivecards.io/explorer/ (AdaptiveCard needs `type` and `version`; TextBlock
 * `text`; FactSet `facts` of `title`/`value`; Action.OpenUrl `url`).
 *
 * Pure. The card shows what the Slack message shows: a header, the summary, the before/after fields as
 * a FactSet, the database time, and a "View listing" Action.OpenUrl. Teams refuses messages past about
 * 28 KB, so values shrink through budgets until the envelope fits (teamsMaxBytes).
 *
 * Escaping: TextBlock text and FactSet values are read as (a subset of) Markdown, and `{{DATE(...)}}` /
 * `{{TIME(...)}}` are expanded. Data never formats: inline Markdown punctuation and `{` `}` are escaped
 * with a backslash (CommonMark §2.4), line breaks become spaces, and a leading list/heading/quote
 * marker is escaped; "79.90" and "oak-desk" stay as they are. The texts arrive sanitized (render.ts: no control or bidi characters).
 */
import type { ChangeSummary, SlackPayload } from '../domain/message.ts';

/** Teams' limit on a webhook message is about 28 KB; keep a margin for its own envelope. */
export const teamsMaxBytes = 27 * 1024;
export const adaptiveCardVersion = '1.5';
export const BUTTON_TEXT = 'View listing';

export type AdaptiveElement = { type: string } & Record<string, unknown>;
export interface AdaptiveCard {
  type: 'AdaptiveCard';
  $schema: string;
  version: string;
  body: AdaptiveElement[];
  actions?: AdaptiveElement[];
}
export interface TeamsMessage {
  type: 'message';
  attachments: {
    contentType: 'application/vnd.microsoft.card.adaptive';
    contentUrl: null;
    content: AdaptiveCard;
  }[];
}

/** Data -> Adaptive Card markdown that shows it literally. */
export function escapeCardMarkdown(text: string): string {
  return (
    text
      .replace(/[\r\n]+/g, ' ')
      // Inline syntax anywhere: emphasis, code, links and autolinks, strike, template braces.
      .replace(/[\\`*_{}[\]()<>~]/g, (c) => `\\${c}`)
      // Block syntax only opens a line (one line now): heading, list item, quote, "1." list.
      .replace(/^(\s*)(#{1,6}|[+-])(?=\s|$)/, '$1\\$2')
      .replace(/^(\s*)(\d{1,9})([.)])(?=\s|$)/, '$1$2\\$3')
  );
}

/** Cuts plain text to `max` characters (code points), with "…". */
export function cut(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}

const budgets = [
  { value: 600, summary: 2000, facts: 80 },
  { value: 200, summary: 600, facts: 40 },
  { value: 60, summary: 200, facts: 12 },
  { value: 20, summary: 100, facts: 0 },
] as const;
type Budget = (typeof budgets)[number];

const text = (value: string, extra: Record<string, unknown> = {}): AdaptiveElement => ({
  type: 'TextBlock',
  text: value,
  wrap: true,
  ...extra,
});

function changeCard(change: ChangeSummary, budget: Budget): AdaptiveCard {
  const body: AdaptiveElement[] = [
    text(escapeCardMarkdown(cut(change.header, 150)), { size: 'Medium', weight: 'Bolder', style: 'heading' }),
  ];
  // A redriven change says so right under the header, as the Slack message does (late.ts).
  if (change.late !== undefined)
    body.push(text(escapeCardMarkdown(cut(change.late, 200)), { color: 'Warning' }));
  body.push(text(escapeCardMarkdown(cut(change.summary.join('; '), budget.summary))));
  const facts = change.facts.slice(0, budget.facts).map((f) => ({
    title: escapeCardMarkdown(cut(f.title, 60)),
    value: escapeCardMarkdown(cut(f.value, budget.value)),
  }));
  if (facts.length > 0) body.push({ type: 'FactSet', facts });
  const when = change.changedAt ?? 'time unknown';
  body.push(
    text(escapeCardMarkdown(`Changed in the database at ${when}`), { isSubtle: true, size: 'Small' }),
  );
  const card: AdaptiveCard = {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: adaptiveCardVersion,
    body,
  };
  if (change.url !== null) card.actions = [{ type: 'Action.OpenUrl', title: BUTTON_TEXT, url: change.url }];
  return card;
}

/**
 * A message without change data (a digest, a thread reply): its Slack fallback text, un-escaped from
 * Slack mrkdwn (render.ts escapes &, <, >) and escaped again for the card.
 */
function textCard(payload: SlackPayload, max: number): AdaptiveCard {
  const plain = payload.text.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
  return {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: adaptiveCardVersion,
    body: [text(escapeCardMarkdown(cut(plain, max)))],
  };
}

export const envelope = (card: AdaptiveCard): TeamsMessage => ({
  type: 'message',
  attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: card }],
});

export const byteLength = (message: TeamsMessage): number => Buffer.byteLength(JSON.stringify(message));

/** The Teams message for a payload: the first budget whose envelope fits teamsMaxBytes. */
export function teamsMessage(payload: SlackPayload): TeamsMessage {
  let last: TeamsMessage | undefined;
  for (const budget of budgets) {
    last = envelope(
      payload.change === undefined
        ? textCard(payload, budget.summary * 4)
        : changeCard(payload.change, budget),
    );
    if (byteLength(last) <= teamsMaxBytes) return last;
  }
  // The smallest budget holds at most ~1 KB of text; only a header past all reason gets here.
  return last ?? envelope(textCard(payload, 100));
}
