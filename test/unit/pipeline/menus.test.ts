import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/index.ts';
import type { SlackBlock, SlackPayload } from '../../../src/domain/message.ts';
import { checkPayload, slackLimits } from '../../../src/pipeline/block-limits.ts';
import { buildDigest } from '../../../src/pipeline/digest/index.ts';
import { decide } from '../../../src/pipeline/index.ts';
import {
  decodeAction,
  encodeAction,
  interactive,
  LISTING_MENU_ACTION,
  listingMenu,
  type MenuAction,
  ruleButtons,
  WHY_TEXT,
} from '../../../src/pipeline/menus.ts';
import { dec, makeUpdate } from '../../support/events.ts';
import { priceItem } from './digest/items.ts';

const secret = 'slack: { signingSecretEnv: SLACK_SIGNING_SECRET }\n';
const off = parseConfig('', 'off');
const on = parseConfig(secret, 'on');

/** Values a database (or a rules file) may hold that must never become markup or break a limit. */
const hostile = [
  '<!channel>',
  '<@U0ADMIN>',
  '<https://evil.example|click>',
  '&amp; & < >',
  '"quoted" \\ back\\slash',
  '\u202Eevil',
  '\uD800 lone surrogate',
  '\u0000nul',
  'x'.repeat(300),
];

type Json = Record<string, unknown>;
const menuOf = (payload: SlackPayload): Json | undefined => {
  for (const block of payload.blocks) {
    const elements = (block.elements ?? []) as Json[];
    const menu = elements.find((e) => e.type === 'overflow');
    if (menu !== undefined) return menu;
  }
  return undefined;
};
const optionsOf = (menu: Json | undefined) =>
  ((menu?.options ?? []) as Array<{ text: { text: string }; value: string }>).map((o) => ({
    text: o.text.text,
    value: o.value,
  }));

function messagesOf(config = on, listingId = 42) {
  const event = makeUpdate({ prc_amt: dec('17.99') }, {}, { listingId: String(listingId) });
  const outcome = decide(event, config);
  if (outcome.kind !== 'notify') throw new Error(outcome.reason);
  return outcome.messages;
}

describe('menus: when they are drawn', () => {
  it('is on exactly when the config names a signing secret', () => {
    expect(interactive(off)).toBe(false);
    expect(interactive(on)).toBe(true);
    expect(interactive(parseConfig('slack: { signingSecretFile: /run/secrets/slack }\n', 'file'))).toBe(true);
  });

  it('draws no menu without a signing secret, and the mute menu with one, beside "View listing"', () => {
    expect(menuOf(messagesOf(off)[0]?.payload as SlackPayload)).toBeUndefined();
    const [message] = messagesOf(on);
    const payload = message?.payload as SlackPayload;
    const actions = payload.blocks.find((b) => b.type === 'actions') as SlackBlock;
    expect((actions.elements as Json[]).map((e) => e.type)).toEqual(['button', 'overflow']);
    expect(optionsOf(menuOf(payload))).toEqual([
      { text: 'Mute this listing for 1 h', value: '["m","1h","sales-alerts","42"]' },
      { text: 'Mute this listing for 24 h', value: '["m","24h","sales-alerts","42"]' },
      { text: 'Mute this listing for 7 d', value: '["m","7d","sales-alerts","42"]' },
      { text: WHY_TEXT, value: '["w","sales-alerts","42","price moved"]' },
    ]);
    expect(menuOf(payload)?.action_id).toBe(LISTING_MENU_ACTION);
    expect(checkPayload(payload, { forbidMarkup: true })).toEqual([]);
  });
});

describe('menus: values', () => {
  it('decodes what it encodes, for any channel, listing, rule and duration', () => {
    const text = fc.string({ minLength: 1, maxLength: 60 });
    fc.assert(
      fc.property(
        text,
        text,
        fc.array(text, { maxLength: 4 }),
        fc.constantFrom('1h', '24h', '7d'),
        (c, l, rules, d) => {
          const forMs = { '1h': 3_600_000, '24h': 86_400_000, '7d': 604_800_000 }[d];
          const actions: Array<[string, MenuAction]> = [
            [LISTING_MENU_ACTION, { kind: 'mute-listing', channelKey: c, listingId: l, duration: d, forMs }],
            ['mute_rule_0', { kind: 'mute-rule', channelKey: c, rule: l, duration: d, forMs }],
            [LISTING_MENU_ACTION, { kind: 'why', channelKey: c, listingId: l, rules, rulesCut: false }],
            [LISTING_MENU_ACTION, { kind: 'why', channelKey: c, listingId: l, rules, rulesCut: true }],
          ];
          for (const [actionId, action] of actions)
            expect(decodeAction(actionId, encodeAction(action))).toEqual(action);
        },
      ),
    );
  });

  it('refuses values it does not draw', () => {
    const bad: Array<[string, string | undefined]> = [
      ['view_listing', undefined],
      [LISTING_MENU_ACTION, undefined],
      [LISTING_MENU_ACTION, 'not json'],
      [LISTING_MENU_ACTION, '{"m":1}'],
      [LISTING_MENU_ACTION, '["m","24h","sales-alerts"]'],
      [LISTING_MENU_ACTION, '["m","forever","sales-alerts","42"]'],
      [LISTING_MENU_ACTION, '["m","91d","sales-alerts","42"]'],
      [LISTING_MENU_ACTION, '["m","24h","","42"]'],
      [LISTING_MENU_ACTION, '["m","24h","sales-alerts",42]'],
      [LISTING_MENU_ACTION, '["r","24h","sales-alerts","price moved"]'],
      ['mute_rule_0', '["m","24h","sales-alerts","42"]'],
      ['mute_rule_x', '["r","24h","sales-alerts","price moved"]'],
      [LISTING_MENU_ACTION, '["x","sales-alerts","42"]'],
    ];
    for (const [actionId, value] of bad)
      expect(decodeAction(actionId, value), `${actionId} ${value}`).toHaveProperty('error');
  });

  it('keeps every option within 150 characters: a long listing id loses the mute options first, rules are shed', () => {
    for (const length of [1, 50, 100, 118, 120, 130, 146, 200]) {
      const id = '9'.repeat(length);
      const menu = listingMenu(id, 'sales-alerts', [
        'a rule',
        'another rule',
        'a third rule with a long name',
      ]);
      const options = optionsOf(menu);
      for (const o of options) expect(o.value.length).toBeLessThanOrEqual(slackLimits.optionValue);
      if (menu === undefined) expect(length).toBeGreaterThan(120);
      else expect(options.length).toBeGreaterThan(0);
      expect(options.length).toBeLessThanOrEqual(5);
      const why = options.find((o) => o.text === WHY_TEXT);
      if (why !== undefined) {
        const decoded = decodeAction(LISTING_MENU_ACTION, why.value);
        expect(decoded).toMatchObject({ kind: 'why', listingId: id });
        if ('rules' in decoded && decoded.rules.length < 3) expect(decoded.rulesCut).toBe(true);
      }
    }
  });

  it('carries hostile listing ids and channel keys as data, never as markup, within the limits', () => {
    for (const value of hostile) {
      const menu = listingMenu(value, value.slice(0, 40), [value.slice(0, 20)]);
      const payload: SlackPayload = {
        text: 'x',
        blocks: menu === undefined ? [] : [{ type: 'actions', elements: [menu] }],
      };
      expect(checkPayload(payload, { forbidMarkup: true }), value).toEqual([]);
      for (const o of optionsOf(menu)) {
        expect(o.text).not.toContain('<');
        const decoded = decodeAction(LISTING_MENU_ACTION, o.value);
        expect(decoded, value).not.toHaveProperty('error');
        if ('listingId' in decoded) expect(decoded.listingId).toBe(value);
      }
    }
  });

  it('renders hostile listing ids escaped in a message with the menu', () => {
    for (const value of hostile.slice(0, 5)) {
      const event = makeUpdate({ prc_amt: dec('17.99') }, {}, { listingId: value });
      const outcome = decide(event, on);
      if (outcome.kind !== 'notify') throw new Error(outcome.reason);
      const payload = outcome.messages[0]?.payload as SlackPayload;
      expect(checkPayload(payload, { forbidMarkup: true }), value).toEqual([]);
      expect(menuOf(payload), value).toBeDefined();
    }
  });
});

describe('menus: digest rule buttons', () => {
  it('one button per rule, "Mute this rule for 24 h" alone, each named when several, hostile names plain', () => {
    const one = ruleButtons('sales-alerts', ['price moved']);
    expect(one).toEqual({
      type: 'actions',
      elements: [
        {
          type: 'button',
          text: { type: 'plain_text', text: 'Mute this rule for 24 h' },
          action_id: 'mute_rule_0',
          value: '["r","24h","sales-alerts","price moved"]',
        },
      ],
    });
    const many = ruleButtons('sales-alerts', [...hostile, 'price moved', 'price moved']) as SlackBlock;
    const elements = many.elements as Array<{ text: { text: string }; action_id: string; value: string }>;
    expect(elements).toHaveLength(5);
    expect(new Set(elements.map((e) => e.action_id)).size).toBe(5);
    for (const e of elements) {
      expect(e.text.text.length).toBeLessThanOrEqual(slackLimits.buttonText);
      expect(e.text.text).toMatch(/^Mute “.*” for 24 h$/s);
      expect(decodeAction(e.action_id, e.value)).toMatchObject({ kind: 'mute-rule', duration: '24h' });
    }
    expect(checkPayload({ text: 'x', blocks: [many] }, { forbidMarkup: true })).toEqual([]);
    expect(ruleButtons('sales-alerts', [])).toBeUndefined();
  });

  it('a digest gets them with interactivity on, and none without', () => {
    const input = (config: typeof on) => ({
      channelKey: 'sales-alerts',
      items: [priceItem(config, 1, '19.99', '17.99'), priceItem(config, 2, '10.00', '12.00')],
      fromMs: 0,
      toMs: 1000,
      config,
      upload: false,
    });
    const buttons = (p: SlackPayload) =>
      p.blocks.filter((b) => b.type === 'actions').flatMap((b) => (b.elements as Json[]).map((e) => e.value));
    expect(buttons(buildDigest(input(off)).payload)).toEqual([]);
    const digest = buildDigest(input(on)).payload;
    expect(checkPayload(digest, { forbidMarkup: true })).toEqual([]);
    expect(buttons(digest)).toEqual(['["r","24h","sales-alerts","price moved"]']);
  });
});
