import { afterEach, describe, expect, it } from 'vitest';
import { createSlackChat } from '../../../src/adapters/slack-chat.ts';
import { systemClock } from '../../../src/adapters/system-clock.ts';
import { parseConfig } from '../../../src/config/index.ts';
import { testRetryPolicy } from '../../../src/delivery/retry-policy.ts';
import { createDeliveryScheduler, floodOff } from '../../../src/delivery/scheduler.ts';
import { createComposer } from '../../../src/pipeline/compose.ts';
import { noopMetrics } from '../../../src/ports/index.ts';
import { type SlackStandin, startSlackStandin } from '../../../tools/slack-standin/server.ts';

// The whole delivery path on real time: scheduler -> @slack/web-api -> stand-in, both at 50/s/channel.
let standin: SlackStandin | undefined;
afterEach(async () => {
  await standin?.close();
});

const channels = ['sales-alerts', 'inventory-warnings', 'support-heads-up', 'marketing-updates'];

describe('scheduler through the real client to the stand-in', () => {
  it('delivers 200 messages over 4 channels in order at the stand-in pace, through 503s, meeting no 429', async () => {
    standin = await startSlackStandin({ token: 'xoxb-t', pace: { perSecond: 50, burst: 3 } });
    const calls: string[] = [];
    const scheduler = createDeliveryScheduler({
      destination: createSlackChat({ token: 'xoxb-t', apiUrl: standin.apiUrl, timeoutMs: 2000 }),
      composer: createComposer(() => parseConfig('', 'test')),
      flood: floodOff,
      clock: systemClock,
      metrics: { ...noopMetrics, slackCall: (r) => calls.push(r) },
      // Exactly the stand-in's pace: pacing from each answer keeps arrivals within it despite jitter.
      perChannel: { intervalMs: 20, cap: 1 },
      burst: 3,
      workspace: { intervalMs: 1000, cap: 200 },
      maxQueuedPerChannel: 200,
      retry: testRetryPolicy,
    });
    // Long enough that the first calls meet it on a loaded machine too (300 ms once passed before the
    // first call left); the deliveries retry through it.
    standin.fail({ mode: 'status', status: 503, forMs: 1500 });
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, n) => {
        const channel = channels[n % channels.length] ?? 'sales-alerts';
        return scheduler.deliver({ channel, payload: { text: `m${n}`, blocks: [] } });
      }),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    for (const [i, channel] of channels.entries()) {
      const expected = Array.from({ length: 50 }, (_, k) => `m${k * 4 + i}`);
      expect(standin.messages(channel).map((m) => m.text)).toEqual(expected);
    }
    const stats = standin.stats();
    expect(Object.values(stats.paceViolations)).toEqual([null, null, null, null]);
    expect(calls.filter((c) => c === 'http_503').length).toBeGreaterThan(0);
    expect(calls.filter((c) => c === 'ok')).toHaveLength(200);
    expect(stats.rateLimited.total).toBe(0);
  });
});
