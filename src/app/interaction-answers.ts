/**
 * What the interactivity endpoint (interactivity.ts) says back, as pure functions: the confirmation
 * of a mute in the message's thread, the ephemeral "Why did I get this?" answer, and the ephemeral
 * word when acting failed. Every value from the database (listing ids), from Slack (user names) and
 * from the rules file passes through mrkdwn.ts (escaped), and each payload is checked against Slack's
 * limits (block-limits.ts) with unescaped markup forbidden.
 */
import type { Config, RuleConfig } from '../config/index.ts';
import { NotifierError } from '../domain/errors.ts';
import type { SlackPayload } from '../domain/message.ts';
import { byName, type Mute, muteFor, muteReason, type StoredMute } from '../domain/mute.ts';
import { checkPayload } from '../pipeline/block-limits.ts';
import { formatInstant } from '../pipeline/human.ts';
import type { MenuAction } from '../pipeline/menus.ts';
import { bold, plain, type Rich, toMrkdwn, truncateEscaped } from '../pipeline/mrkdwn.ts';
import { ruleName } from '../pipeline/route.ts';

const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });
const context = (text: string) => ({ type: 'context', elements: [{ type: 'mrkdwn', text }] });

/** Section text and fallback within Slack's limits (3000 per section; the fallback kept shorter). */
const SECTION_MAX = 2900;

function checked(payload: SlackPayload): SlackPayload {
  const problems = checkPayload(payload, { forbidMarkup: true });
  if (problems.length > 0)
    throw new NotifierError(
      'RENDER_FAILED',
      `interaction answer exceeds Slack limits: ${problems.join('; ')}`,
    );
  return payload;
}

/** "listing #42" or "rule “price moved”", as spans. */
const subjectRich = (mute: Mute): Rich =>
  mute.scope === 'listing' ? [bold(`listing #${mute.listingId}`)] : [bold(`rule “${mute.rule}”`)];

/** "24 h", "7 d", "30 min" for a mute's length. */
function lengthText(ms: number): string {
  if (ms % 86_400_000 === 0 && ms >= 2 * 86_400_000) return `${ms / 86_400_000} d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  return `${Math.round(ms / 60_000)} min`;
}

/**
 * "@ana muted listing #42 in sales-alerts until 2026-12-08 16:00:00 UTC (24 h)", with how to end it
 * early: posted in the thread of the message clicked, for everyone in the channel to see.
 */
export function muteConfirmation(mute: StoredMute, forMs: number, timeZone: string): SlackPayload {
  const where = mute.channel === undefined ? '' : ` in ${mute.channel}`;
  const rich: Rich = [
    plain(`${byName(mute.by)} muted `),
    ...subjectRich(mute),
    plain(`${where} until ${formatInstant(mute.until, timeZone)} (${lengthText(forMs)})`),
  ];
  const undo = [plain(`Mute ${mute.id}. To end it early: listing-notifier mute remove ${mute.id}`)];
  return checked({
    text: toMrkdwn(rich, SECTION_MAX),
    blocks: [section(toMrkdwn(rich, SECTION_MAX)), context(toMrkdwn(undo, 500))],
  });
}

/** The words of a rule's `match`: "field price; condition low or recovered" ("every significant change"). */
export function matchWords(match: RuleConfig['match']): string {
  const parts: string[] = [];
  const add = (name: string, values: readonly string[] | undefined) => {
    if (values !== undefined) parts.push(`${name} ${values.join(' or ')}`);
  };
  add('field', match.field);
  add('condition', match.condition);
  add('op', match.op);
  add('from', match.from);
  add('to', match.to);
  return parts.length === 0 ? 'every significant change' : parts.join('; ');
}

export interface WhyInput {
  action: Extract<MenuAction, { kind: 'why' }>;
  /** The rules in effect now. */
  config: Config;
  /** The mutes in force, or undefined when the store could not say. */
  mutes: readonly StoredMute[] | undefined;
  now: number;
}

/**
 * "Why did I get this?", answered to the clicker alone: what `explain` says of the message's route
 * (each rule that sent it here, what it matches, and where it sends), whether the listing or its rules
 * are muted in this channel now, and the `explain` command that shows every stage of the listing's
 * records. The button carries the listing, the channel and the rules, not the record (a message may
 * be the net of several records, coalesced by delivery), so the stages before routing are the
 * command's to show.
 */
export function whyAnswer(input: WhyInput): SlackPayload {
  const { action, config, mutes, now } = input;
  const lines: Rich[] = [];
  lines.push([bold('Why you got this'), plain(` — listing #${action.listingId} in ${action.channelKey}`)]);
  const byNameOf = new Map(config.rules.map((rule, i) => [ruleName(rule, i), rule] as const));
  if (action.rules.length === 0 && !action.rulesCut)
    lines.push([plain('• No rule is named on the message.')]);
  for (const name of action.rules) {
    const rule = byNameOf.get(name);
    if (name === 'unmatched')
      lines.push([plain('• No rule matched; unmatched.action is send: the fallback channel gets it.')]);
    else if (rule === undefined)
      lines.push([plain(`• Rule “${name}” sent it; it is no longer in the rules file (reloaded since).`)]);
    else
      lines.push([
        plain('• '),
        bold(`Rule “${name}”`),
        plain(` matched (${matchWords(rule.match)}) -> ${rule.channels.join(', ')}`),
        ...(rule.priority === 'urgent' ? [plain(', urgent')] : []),
      ]);
  }
  if (action.rulesCut) lines.push([plain('• …and more rules (too many to carry in the menu).')]);
  if (mutes === undefined) lines.push([plain('Mutes: unknown right now (the store did not answer).')]);
  else {
    const mute = muteFor(
      mutes,
      { listingId: action.listingId, rule: action.rules, channel: action.channelKey },
      now,
    );
    lines.push(
      mute === undefined
        ? [plain('Not muted here.')]
        : [
            bold('Muted now'),
            plain(
              `: ${muteReason(mute).replace(/^muted: /, '')} (mute ${mute.id}); its changes are dropped here until then.`,
            ),
          ],
    );
  }
  const command = [
    plain(
      `Every stage of this listing's records: listing-notifier explain --config FILE --listing ${action.listingId}`,
    ),
  ];
  const body = lines.map((l) => toMrkdwn(l, 600)).join('\n');
  return checked({
    text: toMrkdwn(lines[0] ?? [], 500),
    blocks: [section(truncateEscaped(body, SECTION_MAX)), context(toMrkdwn(command, 500))],
  });
}

/** An ephemeral word that the click did nothing, and why (the store was away, Slack refused, ...). */
export function failureAnswer(what: string): SlackPayload {
  const rich = [plain(what)];
  return checked({ text: toMrkdwn(rich, 500), blocks: [section(toMrkdwn(rich, 500))] });
}
