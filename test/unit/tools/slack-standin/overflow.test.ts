import { describe, expect, it } from 'vitest';
import { blockHtml } from '../../../../tools/slack-standin/preview.ts';
import { blockProblems } from '../../../../tools/slack-standin/validate.ts';

// Overflow menus (issue 17: "Mute this listing" 1 h / 24 h / 7 d, "Why did I get this?"): what Slack
// refuses, and how the preview draws them. Pure.
const option = (text: string, value = text) => ({ text: { type: 'plain_text', text }, value });
const muteMenu = (
  options: unknown[] = [option('Mute 1 h', 'mute:1h'), option('Why did I get this?', 'why')],
) => ({
  type: 'section',
  text: { type: 'mrkdwn', text: '*Blue chair* stock is low' },
  accessory: { type: 'overflow', action_id: 'listing-menu', options },
});

describe('overflow menus in the stand-in', () => {
  it('accepts a menu of two to five plain_text options', () => {
    expect(blockProblems([muteMenu()])).toEqual([]);
    const five = ['1 h', '24 h', '7 d', 'why', 'rule'].map((t) => option(t));
    expect(blockProblems([{ type: 'actions', elements: [{ type: 'overflow', options: five }] }])).toEqual([]);
  });

  it("refuses what Slack refuses, with Slack's json-pointer messages", () => {
    const six = ['a', 'b', 'c', 'd', 'e', 'f'].map((t) => option(t));
    expect(blockProblems([muteMenu(six)])).toEqual([
      '[ERROR] no more than 5 items allowed [json-pointer:/blocks/0/accessory/options]',
    ]);
    expect(blockProblems([muteMenu([option('only')])])).toEqual([
      '[ERROR] must have at least 2 items [json-pointer:/blocks/0/accessory/options]',
    ]);
    expect(
      blockProblems([
        { type: 'section', text: { type: 'mrkdwn', text: 't' }, accessory: { type: 'overflow' } },
      ]),
    ).toEqual([
      '[ERROR] missing required field: options [json-pointer:/blocks/0/accessory]',
      '[ERROR] must have at least 2 items [json-pointer:/blocks/0/accessory/options]',
    ]);
    expect(
      blockProblems([
        muteMenu([
          { text: { type: 'mrkdwn', text: '*1 h*' }, value: 'mute:1h' },
          option('x'.repeat(76), 'v'.repeat(151)),
          { text: { type: 'plain_text', text: 'no value' } },
        ]),
      ]),
    ).toEqual([
      '[ERROR] must be plain_text [json-pointer:/blocks/0/accessory/options/0/text/type]',
      '[ERROR] must be less than 76 characters [json-pointer:/blocks/0/accessory/options/1/text/text]',
      '[ERROR] must be less than 151 characters [json-pointer:/blocks/0/accessory/options/1/value]',
      '[ERROR] missing required field: value [json-pointer:/blocks/0/accessory/options/2]',
    ]);
  });

  it('draws a menu as a "⋯" button whose options open on a click, hostile labels escaped', () => {
    const html = blockHtml(muteMenu([option('Mute 1 h'), option('<script>alert(1)</script> &amp;')]));
    expect(html).toContain(
      '<details class="overflow"><summary class="button" title="More actions">⋯</summary>',
    );
    expect(html).toContain('<li>Mute 1 h</li>');
    expect(html).toContain('<li>&lt;script&gt;alert(1)&lt;/script&gt; &amp;amp;</li>');
    expect(html).not.toContain('<script>');
  });
});
