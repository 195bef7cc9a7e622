import { describe, expect, it } from 'vitest';
import { blockLimits, checkPostMessage } from '../../../../tools/slack-standin/validate.ts';

type Block = Record<string, unknown>;
const header = (text = 'Price cut', type = 'plain_text'): Block => ({ type: 'header', text: { type, text } });
const section = (overrides: Block = {}): Block => ({
  type: 'section',
  text: { type: 'mrkdwn', text: '*hi*' },
  ...overrides,
});
const button = (overrides: Block = {}): Block => ({
  type: 'button',
  text: { type: 'plain_text', text: 'Open' },
  url: 'https://example.com/listing/1',
  ...overrides,
});
const field = (text = 'x') => ({ type: 'mrkdwn', text });

/** The json-pointer messages for a blocks array (expects invalid_blocks). */
function problems(blocks: unknown[]): string[] {
  const rejection = checkPostMessage('fallback', blocks);
  expect(rejection?.error).toBe('invalid_blocks');
  return rejection?.messages ?? [];
}

describe('checkPostMessage', () => {
  it('accepts a realistic notification, as an array or as the JSON string form bodies carry', () => {
    const blocks = [
      header(),
      section({ fields: [field('*Was*\n$20'), field('*Now*\n$15')], accessory: button() }),
      { type: 'divider' },
      { type: 'actions', elements: [button({ style: 'primary', action_id: 'open' })] },
      {
        type: 'context',
        elements: [field('listing L-1'), { type: 'image', image_url: 'https://e.x/i.png', alt_text: 'i' }],
      },
    ];
    expect(checkPostMessage('Price cut', blocks)).toBeNull();
    expect(checkPostMessage('Price cut', JSON.stringify(blocks))).toBeNull();
  });

  it('no_text when neither text nor blocks', () => {
    expect(checkPostMessage(undefined, undefined)).toEqual({ error: 'no_text' });
    expect(checkPostMessage('', [])).toEqual({ error: 'no_text' });
    expect(checkPostMessage('', '[]')).toEqual({ error: 'no_text' });
    expect(checkPostMessage('text only', undefined)).toBeNull();
    expect(checkPostMessage(undefined, [section()])).toBeNull();
  });

  it('msg_too_long for text over 40,000 characters', () => {
    expect(checkPostMessage('x'.repeat(blockLimits.messageText), undefined)).toBeNull();
    expect(checkPostMessage('x'.repeat(blockLimits.messageText + 1), undefined)).toEqual({
      error: 'msg_too_long',
    });
  });

  it('invalid_blocks_format for blocks that are not a JSON array', () => {
    expect(checkPostMessage('t', '[{')).toEqual({ error: 'invalid_blocks_format' });
    expect(checkPostMessage('t', { type: 'section' })).toEqual({ error: 'invalid_blocks_format' });
  });

  it('msg_blocks_too_long above ~13k characters of blocks JSON', () => {
    const many = Array.from({ length: 6 }, () =>
      section({ text: { type: 'mrkdwn', text: 'y'.repeat(2500) } }),
    );
    expect(JSON.stringify(many).length).toBeGreaterThan(blockLimits.blocksJson);
    expect(checkPostMessage('t', many)).toEqual({ error: 'msg_blocks_too_long' });
    expect(checkPostMessage('t', many.slice(0, 4))).toBeNull();
  });
});

describe('invalid_blocks rules (json-pointer messages)', () => {
  it('more than 50 blocks', () => {
    expect(problems(Array.from({ length: 51 }, () => ({ type: 'divider' })))).toEqual([
      '[ERROR] no more than 50 items allowed [json-pointer:/blocks]',
    ]);
    expect(
      checkPostMessage(
        't',
        Array.from({ length: 50 }, () => ({ type: 'divider' })),
      ),
    ).toBeNull();
  });

  it('unknown block type, missing type, non-object block', () => {
    expect(problems([section(), { type: 'banner' }])).toEqual([
      '[ERROR] unsupported block type: banner [json-pointer:/blocks/1/type]',
    ]);
    expect(problems([{ text: 'x' }, 'divider'])).toEqual([
      '[ERROR] missing required field: type [json-pointer:/blocks/0]',
      '[ERROR] must be an object [json-pointer:/blocks/1]',
    ]);
  });

  it('header must be plain_text of at most 150 characters', () => {
    expect(checkPostMessage('t', [header('h'.repeat(150))])).toBeNull();
    expect(problems([header('h'.repeat(151))])).toEqual([
      '[ERROR] must be less than 151 characters [json-pointer:/blocks/0/text/text]',
    ]);
    expect(problems([header('h', 'mrkdwn')])).toEqual([
      '[ERROR] must be plain_text [json-pointer:/blocks/0/text/type]',
    ]);
    expect(problems([{ type: 'header' }])).toEqual([
      '[ERROR] missing required field: text [json-pointer:/blocks/0]',
    ]);
  });

  it('section text at most 3000, not empty, of a known text type; text or fields required', () => {
    expect(checkPostMessage('t', [section({ text: { type: 'mrkdwn', text: 's'.repeat(3000) } })])).toBeNull();
    expect(problems([section({ text: { type: 'mrkdwn', text: 's'.repeat(3001) } })])).toEqual([
      '[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]',
    ]);
    expect(problems([section({ text: { type: 'mrkdwn', text: '' } })])).toEqual([
      '[ERROR] must be more than 0 characters [json-pointer:/blocks/0/text/text]',
    ]);
    expect(problems([section({ text: { type: 'html', text: 'x' } })])).toEqual([
      '[ERROR] must be one of: plain_text, mrkdwn [json-pointer:/blocks/0/text/type]',
    ]);
    expect(problems([{ type: 'section' }])).toEqual([
      '[ERROR] must provide either text or fields [json-pointer:/blocks/0]',
    ]);
  });

  it('section fields: at most 10, each at most 2000', () => {
    const ten = Array.from({ length: 10 }, () => field());
    expect(checkPostMessage('t', [section({ fields: ten })])).toBeNull();
    expect(problems([section({ fields: [...ten, field()] })])).toEqual([
      '[ERROR] no more than 10 items allowed [json-pointer:/blocks/0/fields]',
    ]);
    expect(problems([section({ fields: [field(), field('f'.repeat(2001))] })])).toEqual([
      '[ERROR] must be less than 2001 characters [json-pointer:/blocks/0/fields/1/text]',
    ]);
  });

  it('button text plain_text at most 75, url at most 3000, in actions and as accessory', () => {
    expect(
      problems([
        { type: 'actions', elements: [button({ text: { type: 'plain_text', text: 'b'.repeat(76) } })] },
      ]),
    ).toEqual(['[ERROR] must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]']);
    expect(problems([section({ accessory: button({ url: `https://e.x/${'u'.repeat(3000)}` }) })])).toEqual([
      '[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/accessory/url]',
    ]);
    expect(
      problems([{ type: 'actions', elements: [button({ text: { type: 'mrkdwn', text: 'b' } })] }]),
    ).toEqual(['[ERROR] must be plain_text [json-pointer:/blocks/0/elements/0/text/type]']);
    expect(problems([{ type: 'actions', elements: [button({ text: undefined })] }])).toEqual([
      '[ERROR] missing required field: text [json-pointer:/blocks/0/elements/0]',
    ]);
  });

  it('context and actions need elements; images need alt_text', () => {
    expect(problems([{ type: 'context' }, { type: 'actions', elements: [] }])).toEqual([
      '[ERROR] missing required field: elements [json-pointer:/blocks/0]',
      '[ERROR] must have at least 1 items [json-pointer:/blocks/0/elements]',
      '[ERROR] must have at least 1 items [json-pointer:/blocks/1/elements]',
    ]);
    expect(problems([{ type: 'image', image_url: 'https://e.x/i.png' }])).toEqual([
      '[ERROR] missing required field: alt_text [json-pointer:/blocks/0]',
    ]);
  });

  it('reports every problem, not only the first', () => {
    expect(
      problems([header('h'.repeat(151)), { type: 'nope' }, section({ fields: [field('')] })]),
    ).toHaveLength(3);
  });
});
