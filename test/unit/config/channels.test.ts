import { describe, expect, it } from 'vitest';
import { checkConfig, parseConfig } from '../../../src/config/index.ts';

const withChannel = (value: string) =>
  `channels:\n  sales-alerts: ${value}\n  inventory-warnings: "#i"\n  support-heads-up: "#s"\n  marketing-updates: "#m"\n`;

describe('channels: destination types', () => {
  it('a string stays a Slack channel; objects become one channel identifier each', () => {
    const config = parseConfig(
      `${withChannel('"#sales"')}  slack-object: { type: slack, channel: "C0123ABCD" }\n` +
        '  teams: { type: teams, urlEnv: TEAMS_WEBHOOK_SALES }\n' +
        '  hook: { type: webhook, urlEnv: HOOK_URL, secretEnv: HOOK_SECRET }\n',
      'x.yaml',
    );
    expect(config.channels).toMatchObject({
      'sales-alerts': '#sales',
      'slack-object': 'C0123ABCD',
      teams: 'teams:TEAMS_WEBHOOK_SALES',
      hook: 'webhook:HOOK_URL:HOOK_SECRET',
    });
  });

  it.each([
    [
      '{ type: teams, urlEnv: "https://prod.example/workflows?sig=abc" }',
      'channels.sales-alerts.urlEnv: expected an environment variable name such as TEAMS_WEBHOOK_SALES, got "https://prod.example/workflows?sig=abc"',
    ],
    ['{ type: teams }', 'channels.sales-alerts.urlEnv: expected string, got undefined'],
    [
      '{ type: webhook, urlEnv: HOOK_URL }',
      'channels.sales-alerts.secretEnv: expected string, got undefined',
    ],
    ['{ type: fax }', 'channels.sales-alerts.type: expected "slack" | "teams" | "webhook", got "fax"'],
    [
      '{ type: teams, urlEnv: T, url: "https://x" }',
      'channels.sales-alerts.url: unknown key, got "https://x"',
    ],
  ])('%s is refused with its path', (value, error) => {
    const result = checkConfig(withChannel(value), 'x.yaml');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors).toEqual([error]);
  });
});
