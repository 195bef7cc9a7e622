/**
 * The mute menus in messages (issue 17, item 2), and what a click on one means. Pure.
 *
 * - A single change's message gets an overflow menu: "Mute this listing for 1 h / 24 h / 7 d" and
 *   "Why did I get this?" (render.ts, in the message's actions block).
 * - A digest gets a "Mute this rule for 24 h" button per rule that sent it (digest/slack.ts).
 *
 * Only with interactivity on: a signing secret named in the config (`slack.signingSecretEnv` or
 * `signingSecretFile`). The service refuses to start when the named secret cannot be read
 * (src/config/connections.ts), so a config that names one is a service whose endpoint verifies
 * clicks; without one no menu is drawn that nothing would answer.
 *
 * What a click must tell the endpoint travels in the element itself, as a short JSON array (Slack
 * sends the option's or button's value back in the block_actions payload):
 *   ["m", "24h", channelKey, listingId]    mute the listing in this channel
 *   ["w", channelKey, listingId, ...rules] why did I get this ("w…": rules left out to fit)
 *   ["r", "24h", channelKey, rule]         mute the rule in this channel
 * Slack's limits (https://docs.slack.dev/reference/block-kit/block-elements/overflow-menu-element,
 * https://docs.slack.dev/reference/block-kit/composition-objects/option-object): at most 5 options,
 * an option's value at most 150 characters, a button's at most 2000, an action_id at most 255. A
 * value that would not fit is left out (a listing id too long for a mute option gets no mute
 * options; the "why" option sheds rules from the end, and says so by its tag "w…").
 *
 * Mutes from a click are of the channel the message is in: a person in #sales quiets #sales, not the
 * channels of people who did not ask (the CLI's `mute add` mutes everywhere unless --channel).
 */
import type { Config } from '../config/index.ts';
import type { SlackBlock } from '../domain/message.ts';
import { parseMuteDuration } from '../domain/mute.ts';
import { slackLimits } from './block-limits.ts';
import { toPlain } from './mrkdwn.ts';

/** The overflow menu on a single change's message. */
export const LISTING_MENU_ACTION = 'listing_menu';
/** A digest's rule buttons: `mute_rule_0`, `mute_rule_1`, ... (action_ids are unique per message). */
export const MUTE_RULE_ACTION = 'mute_rule';

export const muteChoices = [
  { text: 'Mute this listing for 1 h', duration: '1h' },
  { text: 'Mute this listing for 24 h', duration: '24h' },
  { text: 'Mute this listing for 7 d', duration: '7d' },
] as const;
export const WHY_TEXT = 'Why did I get this?';
/** A rule button mutes for this long. */
export const RULE_MUTE_DURATION = '24h';
/** Rule buttons on a digest, at most (a digest rarely has more rules; the CLI mutes the rest). */
export const MAX_RULE_BUTTONS = 5;

/** What a click asks for. `duration` is as people type it ("24h"); `forMs` its length. */
export type MenuAction =
  | { kind: 'mute-listing'; channelKey: string; listingId: string; duration: string; forMs: number }
  | { kind: 'mute-rule'; channelKey: string; rule: string; duration: string; forMs: number }
  /** `rulesCut`: rules were left out to fit the value (the answer says the list may be short). */
  | { kind: 'why'; channelKey: string; listingId: string; rules: string[]; rulesCut: boolean };

/** Interactivity is on when the config names a signing secret (see the header). */
export function interactive(config: Pick<Config, 'slack'>): boolean {
  return config.slack.signingSecretEnv !== undefined || config.slack.signingSecretFile !== undefined;
}

/** The value an element carries for `action` (before any fitting). */
export function encodeAction(action: MenuAction): string {
  if (action.kind === 'mute-listing')
    return JSON.stringify(['m', action.duration, action.channelKey, action.listingId]);
  if (action.kind === 'mute-rule')
    return JSON.stringify(['r', action.duration, action.channelKey, action.rule]);
  return JSON.stringify([action.rulesCut ? 'w…' : 'w', action.channelKey, action.listingId, ...action.rules]);
}

/** The "why" value within `max`: rules shed from the end ("…" marks the cut); undefined if even none fits. */
function whyValue(
  channelKey: string,
  listingId: string,
  rules: readonly string[],
  max: number,
): string | undefined {
  for (let n = rules.length; n >= 0; n -= 1) {
    const value = encodeAction({
      kind: 'why',
      channelKey,
      listingId,
      rules: rules.slice(0, n),
      rulesCut: n < rules.length,
    });
    if (value.length <= max) return value;
  }
  return undefined;
}

const option = (text: string, value: string) => ({ text: { type: 'plain_text', text }, value });

/**
 * The overflow menu for a listing's message in `channelKey`, or undefined when not even one option's
 * value fits (a listing id of more than about 120 characters). Slack wants at least one option.
 */
export function listingMenu(
  listingId: string,
  channelKey: string,
  rules: readonly string[],
): SlackBlock | undefined {
  const options: ReturnType<typeof option>[] = [];
  for (const choice of muteChoices) {
    const value = encodeAction({
      kind: 'mute-listing',
      channelKey,
      listingId,
      duration: choice.duration,
      forMs: 0,
    });
    if (value.length <= slackLimits.optionValue) options.push(option(choice.text, value));
  }
  const why = whyValue(channelKey, listingId, rules, slackLimits.optionValue);
  if (why !== undefined) options.push(option(WHY_TEXT, why));
  if (options.length === 0) return undefined;
  return { type: 'overflow', action_id: LISTING_MENU_ACTION, options };
}

/**
 * The digest's rule buttons: one per rule (the first MAX_RULE_BUTTONS), in an actions block; undefined
 * for none. With one rule the button reads "Mute this rule for 24 h"; with several each names its rule.
 */
export function ruleButtons(channelKey: string, rules: readonly string[]): SlackBlock | undefined {
  const shown = [...new Set(rules)].slice(0, MAX_RULE_BUTTONS);
  const elements = shown.flatMap((rule, i) => {
    // The value carries the duration as text; its length is the endpoint's to read (decodeAction).
    const value = encodeAction({
      kind: 'mute-rule',
      channelKey,
      rule,
      duration: RULE_MUTE_DURATION,
      forMs: 0,
    });
    if (value.length > slackLimits.buttonValue) return [];
    const text =
      shown.length === 1
        ? 'Mute this rule for 24 h'
        : `${toPlain([{ text: `Mute “${rule}` }], slackLimits.buttonText - '” for 24 h'.length)}” for 24 h`;
    return [
      { type: 'button', text: { type: 'plain_text', text }, action_id: `${MUTE_RULE_ACTION}_${i}`, value },
    ];
  });
  return elements.length === 0 ? undefined : { type: 'actions', elements };
}

const isText = (v: unknown): v is string => typeof v === 'string' && v !== '';

/**
 * What a click on one of our elements asks for: its action_id and the option's or button's value,
 * as the block_actions payload carries them. Strict: anything else is an error naming why (a forged
 * or stale value changes nothing).
 */
export function decodeAction(actionId: string, value: string | undefined): MenuAction | { error: string } {
  const ours = actionId === LISTING_MENU_ACTION || /^mute_rule_\d{1,2}$/.test(actionId);
  if (!ours) return { error: `not one of our elements: action_id ${JSON.stringify(actionId.slice(0, 80))}` };
  if (value === undefined) return { error: 'no value' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return { error: 'value is not JSON' };
  }
  if (!Array.isArray(parsed) || !parsed.every(isText)) return { error: 'value is not a list of text' };
  const [tag, ...rest] = parsed as string[];
  const duration = (text: string | undefined): { ms: number } | { error: string } =>
    text === undefined ? { error: 'no duration' } : parseMuteDuration(text);
  if (tag === 'm' && actionId === LISTING_MENU_ACTION && rest.length === 3) {
    const [d, channelKey, listingId] = rest as [string, string, string];
    const length = duration(d);
    if ('error' in length) return { error: `duration: ${length.error}` };
    return { kind: 'mute-listing', channelKey, listingId, duration: d, forMs: length.ms };
  }
  if (tag === 'r' && actionId !== LISTING_MENU_ACTION && rest.length === 3) {
    const [d, channelKey, rule] = rest as [string, string, string];
    const length = duration(d);
    if ('error' in length) return { error: `duration: ${length.error}` };
    return { kind: 'mute-rule', channelKey, rule, duration: d, forMs: length.ms };
  }
  if ((tag === 'w' || tag === 'w…') && actionId === LISTING_MENU_ACTION && rest.length >= 2) {
    const [channelKey, listingId, ...rules] = rest as [string, string, ...string[]];
    return { kind: 'why', channelKey, listingId, rules, rulesCut: tag === 'w…' };
  }
  return { error: `not an action we draw: ${JSON.stringify(tag ?? '').slice(0, 20)}` };
}
