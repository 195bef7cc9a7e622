/**
 * The digest's Slack messages: the top-level summary and, when files are off, the complete list as
 * thread replies. Every value passes through mrkdwn.ts (escaped, truncated with "…"); every payload is
 * checked against Slack's limits (block-limits.ts) before it leaves, and one that cannot be brought
 * within them is a RENDER_FAILED error, never a message Slack would refuse.
 * https://docs.slack.dev/reference/block-kit/blocks
 */
import { NotifierError } from '../../domain/errors.ts';
import type { SlackBlock, SlackPayload } from '../../domain/message.ts';
import { checkPayload, slackLimits } from '../block-limits.ts';
import { ruleButtons } from '../menus.ts';
import { bold, plain, type Rich, toMrkdwn, toPlain } from '../mrkdwn.ts';
import type { Entry, EntryChange } from './entries.ts';
import type { RuleCount } from './tally.ts';
import { changeWords, entryName, formatCount, plural, ruleLine } from './words.ts';

export interface SummaryInput {
  channelKey: string;
  count: number;
  /** "2026-11-28 13:45:07 UTC to 2026-11-28 13:50:07 UTC" (or "at …" for one instant). */
  window: string;
  rules: RuleCount[];
  /** The biggest moves (entry and which of its changes), biggest first; empty when none has a percent. */
  moves: { entry: Entry; change: EntryChange }[];
  /** The first entries in sort order, shown when there are no moves to rank. */
  firstEntries: readonly Entry[];
  locale: string;
  upload: boolean;
  replyPages: number;
  /** With interactivity on: the rules to draw "Mute this rule for 24 h" buttons for (menus.ts). */
  muteRules?: readonly string[];
}

const section = (text: string): SlackBlock => ({ type: 'section', text: { type: 'mrkdwn', text } });
const context = (text: string): SlackBlock => ({ type: 'context', elements: [{ type: 'mrkdwn', text }] });

/** Escaped lines joined into at most `max` characters, ending in "…and N more" when cut. */
function joinLines(lines: string[], max: number, more: (n: number) => string): string {
  let out = '';
  for (const [i, line] of lines.entries()) {
    const next = out === '' ? line : `${out}\n${line}`;
    const tail = i === lines.length - 1 ? '' : `\n${more(lines.length - i - 1)}`;
    if (next.length + tail.length > max)
      return out === '' ? more(lines.length) : `${out}\n${more(lines.length - i)}`;
    out = next;
  }
  return out;
}

/** Shrinking budgets: the first that keeps the summary within Slack's limits wins. */
const budgets = [
  { lines: 10, line: 300, section: 3000 },
  { lines: 5, line: 200, section: 1500 },
  { lines: 3, line: 120, section: 600 },
] as const;
type Budget = (typeof budgets)[number];

function summary(input: SummaryInput, budget: Budget): SlackPayload {
  const { count, locale } = input;
  const n = formatCount(count, locale);
  const header = toPlain(
    [plain(`Digest: ${n} ${plural(count, 'change', 'changes')}`)],
    slackLimits.headerText,
  );
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: header, emoji: true } },
    context(
      toMrkdwn(
        [plain(`${input.channelKey}: changes committed ${input.window}, too many to post one by one`)],
        budget.line * 2,
      ),
    ),
  ];

  const ruleLines = input.rules.map((r) => toMrkdwn(ruleLine(r, locale), budget.line * 2));
  if (ruleLines.length > 0)
    blocks.push(
      section(joinLines(ruleLines, budget.section, (k) => `…and ${formatCount(k, locale)} more rules`)),
    );

  const listed: Rich[] =
    input.moves.length > 0
      ? input.moves
          .slice(0, budget.lines)
          .map(({ entry, change }) => [plain('• '), ...entryName(entry), plain(': '), ...changeWords(change)])
      : input.firstEntries
          .slice(0, budget.lines)
          .map((entry) => [
            plain('• '),
            ...entryName(entry),
            plain(': '),
            ...entry.changes.flatMap((c, i) => [plain(i === 0 ? '' : '; '), ...changeWords(c)]),
          ]);
  if (listed.length > 0) {
    const title = input.moves.length > 0 ? 'Biggest moves' : `First ${listed.length} by listing id`;
    const lines = listed.map((rich) => toMrkdwn(rich, budget.line));
    const body = joinLines(
      lines,
      budget.section - title.length - 3,
      (k) => `…and ${formatCount(k, locale)} more`,
    );
    blocks.push(section(`${toMrkdwn([bold(title)])}\n${body}`));
  }

  const where = input.upload
    ? 'the CSV file in the thread'
    : `in the thread below (${formatCount(input.replyPages, locale)} ${plural(input.replyPages, 'reply', 'replies')})`;
  blocks.push(context(toMrkdwn([bold('Complete list'), plain(`: ${where}`)])));
  const buttons = input.muteRules === undefined ? undefined : ruleButtons(input.channelKey, input.muteRules);
  if (buttons !== undefined) blocks.push(buttons);

  const text = toMrkdwn(
    [
      plain(
        `Digest for ${input.channelKey}: ${n} ${plural(count, 'change', 'changes')} committed ${input.window}`,
      ),
    ],
    budget.line * 2,
  );
  return { text, blocks };
}

function refuse(what: string, problems: string[]): never {
  throw new NotifierError(
    'RENDER_FAILED',
    `${what} exceeds Slack limits: ${problems.slice(0, 3).join('; ')}`,
    {
      details: { problems },
    },
  );
}

export function buildSummary(input: SummaryInput): SlackPayload {
  let problems: string[] = [];
  for (const budget of budgets) {
    const payload = summary(input, budget);
    problems = checkPayload(payload, { forbidMarkup: true });
    if (problems.length === 0) return payload;
  }
  return refuse('digest', problems);
}

/** JSON characters a string adds inside a JSON string (quotes, backslashes and escapes count). */
const jsonLength = (text: string): number => JSON.stringify(text).length - 2;

/** Room for the blocks' JSON besides the page's context line (its own JSON is at most ~700). */
const PAGE_JSON = slackLimits.blocksJson - 1000;
/** `{"type":"section","text":{"type":"mrkdwn","text":""}}` plus the comma between blocks. */
const SECTION_JSON = 53;
const SECTION_TEXT = slackLimits.sectionText;
const MAX_SECTIONS = slackLimits.blocks - 1;

/**
 * Escaped lines packed into pages: sections of up to 3000 characters, pages of up to 49 sections and
 * PAGE_JSON characters of JSON. Each line is at most a few hundred characters, so it always fits.
 */
export function paginate(lines: readonly string[]): string[][][] {
  const pages: string[][][] = [];
  let page: string[][] = [];
  let pageJson = 0;
  let current: string[] = [];
  let text = 0;
  let json = 0;
  const closeSection = () => {
    if (current.length === 0) return;
    page.push(current);
    pageJson += SECTION_JSON + json;
    current = [];
    text = 0;
    json = 0;
  };
  const closePage = () => {
    closeSection();
    if (page.length > 0) pages.push(page);
    page = [];
    pageJson = 0;
  };
  for (const line of lines) {
    const addText = (current.length === 0 ? 0 : 1) + line.length;
    const addJson = (current.length === 0 ? 0 : 2) + jsonLength(line);
    if (text + addText > SECTION_TEXT) closeSection();
    const sectionsIfAdded = page.length + 1;
    const jsonIfAdded =
      pageJson + (current.length === 0 ? SECTION_JSON + jsonLength(line) : SECTION_JSON + json + addJson);
    if (sectionsIfAdded > MAX_SECTIONS || jsonIfAdded > PAGE_JSON) closePage();
    if (current.length === 0) {
      text = line.length;
      json = jsonLength(line);
    } else {
      text += addText;
      json += addJson;
    }
    current.push(line);
  }
  closePage();
  return pages;
}

export interface RepliesInput {
  channelKey: string;
  /** One escaped mrkdwn line per entry, in sort order. */
  lines: readonly string[];
  locale: string;
}

/** The complete list as thread replies, each "page k of n" and within Slack's limits. */
export function buildReplies(input: RepliesInput): SlackPayload[] {
  const { locale } = input;
  const pages = paginate(input.lines);
  const total = formatCount(input.lines.length, locale);
  let first = 1;
  return pages.map((sections, k) => {
    const count = sections.reduce((sum, s) => sum + s.length, 0);
    const label = `page ${formatCount(k + 1, locale)} of ${formatCount(pages.length, locale)}`;
    const range = `${formatCount(first, locale)}–${formatCount(first + count - 1, locale)} of ${total}`;
    first += count;
    const payload: SlackPayload = {
      text: toMrkdwn([plain(`Digest for ${input.channelKey}, complete list: ${label}`)], 500),
      blocks: [
        context(toMrkdwn([bold('Complete list'), plain(`, ${label} (${range}) · ${input.channelKey}`)], 300)),
        ...sections.map((lines) => section(lines.join('\n'))),
      ],
    };
    const problems = checkPayload(payload, { forbidMarkup: true });
    if (problems.length > 0) refuse(`digest reply ${k + 1}`, problems);
    return payload;
  });
}
