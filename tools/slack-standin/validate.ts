/**
 * What chat.postMessage refuses, as Slack refuses it: the error code, and for invalid_blocks Slack's
 * json-pointer messages ("[ERROR] <what> [json-pointer:/blocks/0/text/text]", in
 * response_metadata.messages). Pure.
 *
 * Limits from Slack's Block Kit reference (https://docs.slack.dev/reference/block-kit/blocks,
 * .../composition-objects/text-object, .../block-elements/button-element,
 * .../block-elements/overflow-menu-element, .../composition-objects/option-object) and chat.postMessage
 * (https://docs.slack.dev/reference/methods/chat.postMessage: text is truncated past 40,000 characters;
 * msg_too_long). Slack does not document the total at which it answers msg_blocks_too_long; it is
 * observed around 13k characters of blocks JSON, so that is the default here.
 */

export const blockLimits = {
  maxBlocks: 50,
  headerText: 150,
  sectionText: 3000,
  sectionFields: 10,
  fieldText: 2000,
  contextElements: 10,
  actionsElements: 25,
  buttonText: 75,
  buttonUrl: 3000,
  buttonValue: 2000,
  /** An overflow menu's options: up to 5 (the current reference); at least 2 (the older one). */
  overflowOptionsMin: 2,
  overflowOptionsMax: 5,
  optionText: 75,
  optionValue: 150,
  optionDescription: 75,
  optionUrl: 3000,
  actionId: 255,
  blockId: 255,
  imageUrl: 3000,
  altText: 2000,
  markdownText: 12_000,
  /** JSON.stringify(blocks).length above which Slack answers msg_blocks_too_long. */
  blocksJson: 13_000,
  /** text above which the stand-in answers msg_too_long. */
  messageText: 40_000,
};

export type Rejection = { error: string; messages?: string[] };

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Collects "[ERROR] ... [json-pointer:...]" lines for one payload. */
class Problems {
  readonly messages: string[] = [];
  add(pointer: string, what: string): void {
    this.messages.push(`[ERROR] ${what} [json-pointer:${pointer}]`);
  }
  /** Checks a required key is present; returns its value when it is. */
  required(obj: Json, key: string, pointer: string): unknown {
    if (obj[key] === undefined || obj[key] === null) {
      this.add(pointer, `missing required field: ${key}`);
      return undefined;
    }
    return obj[key];
  }
  maxLength(value: unknown, max: number, pointer: string): void {
    if (typeof value !== 'string') this.add(pointer, 'must be a string');
    else if (value.length > max) this.add(pointer, `must be less than ${max + 1} characters`);
  }
}

function textObject(p: Problems, value: unknown, pointer: string, max: number, plainOnly = false): void {
  if (!isObject(value)) {
    p.add(pointer, 'must be a text object');
    return;
  }
  const type = p.required(value, 'type', pointer);
  if (type !== undefined) {
    if (plainOnly && type !== 'plain_text') p.add(`${pointer}/type`, 'must be plain_text');
    else if (type !== 'plain_text' && type !== 'mrkdwn')
      p.add(`${pointer}/type`, 'must be one of: plain_text, mrkdwn');
  }
  const text = p.required(value, 'text', pointer);
  if (text === undefined) return;
  if (typeof text === 'string' && text.length === 0)
    p.add(`${pointer}/text`, 'must be more than 0 characters');
  else p.maxLength(text, max, `${pointer}/text`);
}

function array(p: Problems, value: unknown, pointer: string, min: number, max: number): unknown[] {
  if (!Array.isArray(value)) {
    p.add(pointer, 'must be an array');
    return [];
  }
  if (value.length < min) p.add(pointer, `must have at least ${min} items`);
  if (value.length > max) p.add(pointer, `no more than ${max} items allowed`);
  return value;
}

function imageElement(p: Problems, el: Json, pointer: string): void {
  if (el.slack_file === undefined) {
    const url = p.required(el, 'image_url', pointer);
    if (url !== undefined) p.maxLength(url, blockLimits.imageUrl, `${pointer}/image_url`);
  }
  const alt = p.required(el, 'alt_text', pointer);
  if (alt !== undefined) p.maxLength(alt, blockLimits.altText, `${pointer}/alt_text`);
}

function buttonElement(p: Problems, el: Json, pointer: string): void {
  const text = p.required(el, 'text', pointer);
  if (text !== undefined) textObject(p, text, `${pointer}/text`, blockLimits.buttonText, true);
  if (el.url !== undefined) p.maxLength(el.url, blockLimits.buttonUrl, `${pointer}/url`);
  if (el.value !== undefined) p.maxLength(el.value, blockLimits.buttonValue, `${pointer}/value`);
  if (el.action_id !== undefined) p.maxLength(el.action_id, blockLimits.actionId, `${pointer}/action_id`);
  if (el.style !== undefined && el.style !== 'primary' && el.style !== 'danger') {
    p.add(`${pointer}/style`, 'must be one of: primary, danger');
  }
}

/** An overflow menu: its options are option objects with plain_text text (issue 17's mute menus). */
function overflowElement(p: Problems, el: Json, pointer: string): void {
  const options = array(
    p,
    p.required(el, 'options', pointer) ?? [],
    `${pointer}/options`,
    blockLimits.overflowOptionsMin,
    blockLimits.overflowOptionsMax,
  );
  options.forEach((option, i) => {
    const at = `${pointer}/options/${i}`;
    if (!isObject(option)) {
      p.add(at, 'must be an object');
      return;
    }
    const text = p.required(option, 'text', at);
    if (text !== undefined) textObject(p, text, `${at}/text`, blockLimits.optionText, true);
    const value = p.required(option, 'value', at);
    if (value !== undefined) p.maxLength(value, blockLimits.optionValue, `${at}/value`);
    if (option.description !== undefined)
      textObject(p, option.description, `${at}/description`, blockLimits.optionDescription, true);
    if (option.url !== undefined) p.maxLength(option.url, blockLimits.optionUrl, `${at}/url`);
  });
  if (el.action_id !== undefined) p.maxLength(el.action_id, blockLimits.actionId, `${pointer}/action_id`);
}

/** Interactive elements (accessory, actions): buttons and overflow menus are checked in full, others for a type. */
function interactiveElement(p: Problems, el: unknown, pointer: string): void {
  if (!isObject(el) || typeof el.type !== 'string') {
    p.add(pointer, 'missing required field: type');
    return;
  }
  if (el.type === 'button') buttonElement(p, el, pointer);
  else if (el.type === 'overflow') overflowElement(p, el, pointer);
  else if (el.type === 'image') imageElement(p, el, pointer);
}

const blockCheckers: Record<string, (p: Problems, block: Json, pointer: string) => void> = {
  header(p, block, pointer) {
    const text = p.required(block, 'text', pointer);
    if (text !== undefined) textObject(p, text, `${pointer}/text`, blockLimits.headerText, true);
  },
  section(p, block, pointer) {
    if (block.text === undefined && block.fields === undefined) {
      p.add(pointer, 'must provide either text or fields');
    }
    if (block.text !== undefined) textObject(p, block.text, `${pointer}/text`, blockLimits.sectionText);
    if (block.fields !== undefined) {
      const fields = array(p, block.fields, `${pointer}/fields`, 1, blockLimits.sectionFields);
      fields.forEach((f, i) => {
        textObject(p, f, `${pointer}/fields/${i}`, blockLimits.fieldText);
      });
    }
    if (block.accessory !== undefined) interactiveElement(p, block.accessory, `${pointer}/accessory`);
  },
  divider() {},
  context(p, block, pointer) {
    const elements = array(p, p.required(block, 'elements', pointer) ?? [], `${pointer}/elements`, 1, 10);
    elements.forEach((el, i) => {
      const at = `${pointer}/elements/${i}`;
      if (isObject(el) && el.type === 'image') imageElement(p, el, at);
      else textObject(p, el, at, blockLimits.sectionText);
    });
  },
  actions(p, block, pointer) {
    const elements = array(p, p.required(block, 'elements', pointer) ?? [], `${pointer}/elements`, 1, 25);
    elements.forEach((el, i) => {
      interactiveElement(p, el, `${pointer}/elements/${i}`);
    });
  },
  image(p, block, pointer) {
    imageElement(p, block, pointer);
    if (block.title !== undefined) textObject(p, block.title, `${pointer}/title`, blockLimits.altText, true);
  },
  markdown(p, block, pointer) {
    const text = p.required(block, 'text', pointer);
    if (text !== undefined) p.maxLength(text, blockLimits.markdownText, `${pointer}/text`);
  },
  rich_text(p, block, pointer) {
    array(
      p,
      p.required(block, 'elements', pointer) ?? [],
      `${pointer}/elements`,
      0,
      Number.POSITIVE_INFINITY,
    );
  },
  input(p, block, pointer) {
    p.required(block, 'label', pointer);
    p.required(block, 'element', pointer);
  },
  video(p, block, pointer) {
    for (const key of ['alt_text', 'title', 'thumbnail_url', 'video_url']) p.required(block, key, pointer);
  },
  file(p, block, pointer) {
    p.required(block, 'external_id', pointer);
    p.required(block, 'source', pointer);
  },
};

/** The invalid_blocks messages for a blocks array (empty when Slack would accept it). */
export function blockProblems(blocks: unknown[]): string[] {
  const p = new Problems();
  if (blocks.length > blockLimits.maxBlocks)
    p.add('/blocks', `no more than ${blockLimits.maxBlocks} items allowed`);
  blocks.forEach((block, i) => {
    const pointer = `/blocks/${i}`;
    if (!isObject(block)) {
      p.add(pointer, 'must be an object');
      return;
    }
    const type = p.required(block, 'type', pointer);
    if (type === undefined) return;
    const check = typeof type === 'string' ? blockCheckers[type] : undefined;
    if (check === undefined) {
      p.add(`${pointer}/type`, `unsupported block type: ${String(type)}`);
      return;
    }
    if (block.block_id !== undefined) p.maxLength(block.block_id, blockLimits.blockId, `${pointer}/block_id`);
    check(p, block, pointer);
  });
  return p.messages;
}

/**
 * Checks chat.postMessage's text and blocks. `blocks` is what arrived: an array (JSON bodies), a JSON
 * string (form bodies, as @slack/web-api sends them), or undefined.
 */
export function checkPostMessage(text: unknown, rawBlocks: unknown): Rejection | null {
  let blocks: unknown = rawBlocks;
  if (typeof rawBlocks === 'string') {
    try {
      blocks = JSON.parse(rawBlocks);
    } catch {
      return { error: 'invalid_blocks_format' };
    }
  }
  if (blocks !== undefined && !Array.isArray(blocks)) return { error: 'invalid_blocks_format' };
  const hasText = typeof text === 'string' && text.length > 0;
  const hasBlocks = Array.isArray(blocks) && blocks.length > 0;
  if (!hasText && !hasBlocks) return { error: 'no_text' };
  if (typeof text === 'string' && text.length > blockLimits.messageText) return { error: 'msg_too_long' };
  if (Array.isArray(blocks)) {
    const messages = blockProblems(blocks);
    if (messages.length > 0) return { error: 'invalid_blocks', messages };
    if (JSON.stringify(blocks).length > blockLimits.blocksJson) return { error: 'msg_blocks_too_long' };
  }
  return null;
}
