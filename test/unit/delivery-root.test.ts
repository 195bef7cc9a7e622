import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.ts';
import { createDestinations, createRedriveDeliverer, openDestinations } from '../../src/delivery-root.ts';
import { isNotifierError } from '../../src/domain/errors.ts';
import { noopLogger } from '../../src/ports/index.ts';
import { createFakeChat } from '../support/fake-chat.ts';
import { createManualClock } from '../support/fakes.ts';

const SECRET = `whsec_${Buffer.from('delivery root secret, 32 bytes!!').toString('base64')}`;
const config = parseConfig(
  JSON.stringify({
    source: { topics: ['monolith.public.listings'], groupId: 'delivery-root' },
    channels: {
      sales: '#sales-alerts',
      'sales-hook': { type: 'webhook', urlEnv: 'LN_HOOK_URL', secretEnv: 'LN_HOOK_SECRET' },
      'sales-teams': { type: 'teams', urlEnv: 'LN_TEAMS_URL' },
    },
    rules: [{ name: 'price', match: { field: 'price' }, channels: ['sales', 'sales-hook', 'sales-teams'] }],
  }),
  'rules.json',
);
const env = {
  LN_HOOK_URL: 'https://hooks.example/in',
  LN_HOOK_SECRET: SECRET,
  LN_TEAMS_URL: 'https://t.example',
};
const payload = { text: 'Price changed', blocks: [] };

/** The delivery root's options, its adapters faked at the edge. */
function edge(overrides: { env?: Record<string, string | undefined> } = {}) {
  const slack = createFakeChat();
  const posts: string[] = [];
  let tokenChecks = 0;
  return {
    slack,
    posts,
    tokenChecks: () => tokenChecks,
    options: {
      config,
      token: 'xoxb-root',
      env: overrides.env ?? env,
      clock: createManualClock(),
      logger: noopLogger,
      slack: {
        ...slack,
        authTest: async () => {
          tokenChecks += 1;
          return { user: 'notifier' };
        },
      },
      fetch: async (url: string | URL | Request) => {
        posts.push(String(url));
        return new Response('', { status: 200 });
      },
    },
  };
}

describe('createDestinations', () => {
  it('refuses to start while a Teams or webhook channel lacks its variables, naming them', () => {
    const { options } = edge({ env: { LN_HOOK_URL: env.LN_HOOK_URL } });
    let thrown: unknown;
    try {
      createDestinations(options);
    } catch (error) {
      thrown = error;
    }
    expect(isNotifierError(thrown) && thrown.code).toBe('CONFIG_INVALID');
    expect(String((thrown as Error).message)).toMatch(/LN_HOOK_SECRET, LN_TEAMS_URL$/);
  });

  it('sends each channel to its own destination', async () => {
    const { options, slack, posts } = edge();
    const destinations = createDestinations(options);
    for (const channel of Object.values(config.channels)) await destinations.post(channel, payload);
    expect(slack.calls.map((c) => c.channel)).toEqual(['#sales-alerts']);
    expect(posts).toEqual([env.LN_HOOK_URL, env.LN_TEAMS_URL]);
  });
});

describe('openDestinations', () => {
  it("checks Slack's token once and hands back what it answered", async () => {
    const { options, tokenChecks } = edge();
    const { accepted } = await openDestinations(options);
    expect(accepted).toEqual({ identity: { user: 'notifier' } });
    expect(tokenChecks()).toBe(1);
  });

  it('says nothing was checked when the Slack adapter has no auth.test', async () => {
    const { options } = edge();
    const { accepted } = await openDestinations({ ...options, slack: createFakeChat() });
    expect(accepted).toBeUndefined();
  });
});

describe('createRedriveDeliverer', () => {
  it("delivers one message to a webhook channel through run's destinations", async () => {
    const { options, slack, posts, tokenChecks } = edge();
    const deliverer = await createRedriveDeliverer(options);
    const hook = config.channels['sales-hook'] ?? '';
    await expect(deliverer.deliver({ channel: hook, payload })).resolves.toEqual({
      ok: true,
      ts: expect.any(String),
    });
    expect(posts).toEqual([env.LN_HOOK_URL]);
    expect(slack.calls).toEqual([]);
    expect(tokenChecks()).toBe(1);
    deliverer.close();
  });
});
