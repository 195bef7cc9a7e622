import { describe, expect, it } from 'vitest';
import { teamsLimitBytes, validateTeamsMessage } from '../../../../tools/teams-standin/validate.ts';

const wrap = (card: unknown) =>
  JSON.stringify({
    type: 'message',
    attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: card }],
  });
const card = (body: unknown[], actions?: unknown[]) => ({
  type: 'AdaptiveCard',
  version: '1.5',
  body,
  actions,
});

describe('Teams stand-in validation', () => {
  it('accepts a card with a TextBlock, a FactSet and an Action.OpenUrl', () => {
    const ok = card(
      [
        { type: 'TextBlock', text: 'x' },
        { type: 'FactSet', facts: [{ title: 'a', value: 'b' }] },
      ],
      [{ type: 'Action.OpenUrl', title: 'go', url: 'https://example.com/1' }],
    );
    expect(validateTeamsMessage(wrap(ok))).toEqual([]);
  });

  it('names each missing required property with its path', () => {
    const bad = card(
      [{ type: 'TextBlock' }, { type: 'FactSet', facts: [{ title: 'a' }] }, { type: 'Mystery' }],
      [{ type: 'Action.OpenUrl', title: 'go' }],
    );
    expect(validateTeamsMessage(wrap(bad))).toEqual([
      'attachments[0].content.body[0].text: required',
      'attachments[0].content.body[0].text: expected a string',
      'attachments[0].content.body[1].facts[0]: expected { title: string, value: string }',
      'attachments[0].content.body[2].type: unknown element "Mystery"',
      'attachments[0].content.actions[0].url: required',
      'attachments[0].content.actions[0].url: expected an absolute URL',
    ]);
    expect(validateTeamsMessage(wrap({ type: 'AdaptiveCard', body: [] }))).toEqual([
      'attachments[0].content.version: expected "1.x"',
    ]);
    expect(validateTeamsMessage('{"type":"message","attachments":[]}')).toEqual([
      'attachments: expected at least one',
    ]);
  });

  it('refuses a message over the size limit', () => {
    const big = wrap(card([{ type: 'TextBlock', text: 'x'.repeat(teamsLimitBytes) }]));
    expect(validateTeamsMessage(big)).toEqual([
      `message is ${Buffer.byteLength(big)} bytes, over Teams' ${teamsLimitBytes}`,
    ]);
  });
});
