/**
 * A small Block Kit checker for the blocks this project sends (header, section, actions with buttons
 * and overflow menus, context). It knows Slack's documented limits so the renderer can refuse to emit a message Slack
 * would answer with `invalid_blocks` or `msg_blocks_too_long`, and tests can check any payload.
 * https://docs.slack.dev/reference/block-kit/blocks
 * https://docs.slack.dev/reference/block-kit/composition-objects/text-object
 */
import type { SlackPayload } from '../domain/message.ts';

export const slackLimits = {
  blocks: 50,
  headerText: 150,
  sectionText: 3000,
  sectionFields: 10,
  sectionFieldText: 2000,
  buttonText: 75,
  buttonUrl: 3000,
  buttonValue: 2000,
  actionId: 255,
  /** Overflow menus (the mute menu: menus.ts): 1 to 5 options, each text <= 75 and value <= 150. */
  overflowOptions: 5,
  optionText: 75,
  optionValue: 150,
  actionsElements: 25,
  contextElements: 10,
  contextText: 3000,
  blockId: 255,
  /** Slack truncates `text` past 40,000 characters; keep the fallback well under it. */
  text: 40_000,
  /** Around 13k characters over all blocks gives msg_blocks_too_long; stay comfortably below. */
  blocksJson: 12_000,
} as const;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

export interface CheckOptions {
  /**
   * Also report any `<` or `>`, and any `&` that is not `&amp;`, `&lt;` or `&gt;`, in mrkdwn text.
   * This project never writes links or mentions itself, so such a character can only be data that
   * escaped escaping.
   */
  forbidMarkup?: boolean;
}

/** Unescaped markup in mrkdwn: `<`, `>`, or a bare `&`. */
export function hasUnescapedMarkup(mrkdwn: string): boolean {
  return /[<>]/.test(mrkdwn) || /&(?!(amp|lt|gt);)/.test(mrkdwn);
}

/** Problems as `pointer: problem`; an empty list means the payload is within Slack's limits. */
export function checkPayload(payload: SlackPayload, options: CheckOptions = {}): string[] {
  const problems: string[] = [];
  const fail = (at: string, problem: string): void => {
    problems.push(`${at}: ${problem}`);
  };

  const textObject = (v: unknown, at: string, max: number, types: readonly string[]) => {
    if (!isObj(v)) return fail(at, 'expected a text object');
    if (typeof v.type !== 'string' || !types.includes(v.type))
      fail(`${at}/type`, `expected ${types.join(' or ')}`);
    if (typeof v.text !== 'string' || v.text.length === 0)
      return fail(`${at}/text`, 'expected non-empty text');
    if (v.text.length > max) fail(`${at}/text`, `${v.text.length} characters, more than ${max}`);
    if (options.forbidMarkup && v.type === 'mrkdwn' && hasUnescapedMarkup(v.text))
      fail(`${at}/text`, 'unescaped <, > or &');
  };

  const actionId = (e: Obj, at: string) => {
    if (
      e.action_id !== undefined &&
      (typeof e.action_id !== 'string' || e.action_id.length > slackLimits.actionId)
    )
      fail(`${at}/action_id`, 'too long');
  };

  // https://docs.slack.dev/reference/block-kit/block-elements/overflow-menu-element
  const overflow = (e: Obj, at: string) => {
    const options: unknown[] = Array.isArray(e.options) ? e.options : [];
    if (options.length === 0 || options.length > slackLimits.overflowOptions)
      fail(`${at}/options`, `expected 1 to ${slackLimits.overflowOptions} options`);
    for (const [k, o] of options.entries()) {
      if (!isObj(o)) {
        fail(`${at}/options/${k}`, 'expected an option');
        continue;
      }
      textObject(o.text, `${at}/options/${k}/text`, slackLimits.optionText, ['plain_text']);
      if (typeof o.value !== 'string' || o.value.length === 0 || o.value.length > slackLimits.optionValue)
        fail(`${at}/options/${k}/value`, `expected 1 to ${slackLimits.optionValue} characters`);
    }
    actionId(e, at);
  };

  const button = (e: unknown, at: string) => {
    if (isObj(e) && e.type === 'overflow') return overflow(e, at);
    if (!isObj(e) || e.type !== 'button') return fail(at, 'expected a button or an overflow menu');
    textObject(e.text, `${at}/text`, slackLimits.buttonText, ['plain_text']);
    if (e.value !== undefined && (typeof e.value !== 'string' || e.value.length > slackLimits.buttonValue))
      fail(`${at}/value`, 'too long');
    if (e.url !== undefined) {
      if (typeof e.url !== 'string' || e.url.length > slackLimits.buttonUrl) fail(`${at}/url`, 'too long');
      else if (!URL.canParse(e.url)) fail(`${at}/url`, 'not a URL');
    }
    actionId(e, at);
  };

  if (typeof payload.text !== 'string' || payload.text.trim() === '')
    fail('/text', 'expected a non-empty fallback');
  else {
    if (payload.text.length > slackLimits.text) fail('/text', `more than ${slackLimits.text} characters`);
    if (options.forbidMarkup && hasUnescapedMarkup(payload.text)) fail('/text', 'unescaped <, > or &');
  }
  if (!Array.isArray(payload.blocks)) {
    fail('/blocks', 'expected an array');
    return problems;
  }
  if (payload.blocks.length > slackLimits.blocks) fail('/blocks', `more than ${slackLimits.blocks} blocks`);
  const json = JSON.stringify(payload.blocks).length;
  if (json > slackLimits.blocksJson)
    fail('/blocks', `${json} characters of JSON, more than ${slackLimits.blocksJson}`);

  for (const [i, block] of payload.blocks.entries()) {
    const at = `/blocks/${i}`;
    if (
      block.block_id !== undefined &&
      (typeof block.block_id !== 'string' || block.block_id.length > slackLimits.blockId)
    )
      fail(`${at}/block_id`, 'too long');
    if (block.type === 'header') textObject(block.text, `${at}/text`, slackLimits.headerText, ['plain_text']);
    else if (block.type === 'section') {
      if (block.text === undefined && block.fields === undefined) fail(at, 'section needs text or fields');
      if (block.text !== undefined)
        textObject(block.text, `${at}/text`, slackLimits.sectionText, ['mrkdwn', 'plain_text']);
      if (block.fields !== undefined) {
        const fields = Array.isArray(block.fields) ? block.fields : [];
        if (fields.length === 0) fail(`${at}/fields`, 'expected a non-empty array');
        if (fields.length > slackLimits.sectionFields)
          fail(`${at}/fields`, `more than ${slackLimits.sectionFields} fields`);
        for (const [j, f] of fields.entries())
          textObject(f, `${at}/fields/${j}`, slackLimits.sectionFieldText, ['mrkdwn', 'plain_text']);
      }
    } else if (block.type === 'actions' || block.type === 'context') {
      const elements: unknown[] = Array.isArray(block.elements) ? block.elements : [];
      const max = block.type === 'actions' ? slackLimits.actionsElements : slackLimits.contextElements;
      if (elements.length === 0) fail(`${at}/elements`, 'expected elements');
      if (elements.length > max) fail(`${at}/elements`, `more than ${max} elements`);
      for (const [j, e] of elements.entries()) {
        if (block.type === 'context')
          textObject(e, `${at}/elements/${j}`, slackLimits.contextText, ['mrkdwn', 'plain_text']);
        else button(e, `${at}/elements/${j}`);
      }
    } else if (block.type !== 'divider') fail(`${at}/type`, `unexpected block type ${String(block.type)}`);
  }
  return problems;
}
