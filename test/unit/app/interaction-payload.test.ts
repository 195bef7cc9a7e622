import { describe, expect, it } from 'vitest';
import {
  createReplayGuard,
  parseInteraction,
  refusalStatus,
  responseUrlAllowed,
  signatureGate,
} from '../../../src/app/interaction-payload.ts';

const API = 'https://slack.com/api/';
const form = (payload: unknown) => new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
const click = {
  type: 'block_actions',
  user: { id: 'U1', username: 'ana', name: 'ana.s' },
  container: { type: 'message', message_ts: '1.000100', channel_id: 'C1' },
  channel: { id: 'C1', name: 'sales' },
  message: { ts: '1.000100', thread_ts: '0.000900' },
  response_url: 'https://hooks.slack.com/actions/T1/1/abc',
  actions: [
    { type: 'overflow', action_id: 'listing_menu', selected_option: { value: '["m","1h","s","42"]' } },
  ],
};

describe('interaction payload', () => {
  it('reads a block_actions click: who, where, the thread, the element and its value', () => {
    expect(parseInteraction(form(click), API)).toEqual({
      user: { id: 'U1', name: 'ana' },
      channelId: 'C1',
      messageTs: '1.000100',
      threadTs: '0.000900',
      responseUrl: 'https://hooks.slack.com/actions/T1/1/abc',
      actionId: 'listing_menu',
      value: '["m","1h","s","42"]',
    });
    const button = { ...click, actions: [{ type: 'button', action_id: 'mute_rule_0', value: 'v' }] };
    expect(parseInteraction(Buffer.from(form(button)), API)).toMatchObject({
      actionId: 'mute_rule_0',
      value: 'v',
    });
  });

  it('refuses what is not one', () => {
    const bad = [
      'payload=not-json',
      'other=1',
      `${form(click)}&${form(click)}`,
      form([1]),
      form({ ...click, type: 'view_submission' }),
      form({ ...click, user: {} }),
      form({ ...click, channel: undefined, container: { message_ts: '1' } }),
      form({ ...click, container: {}, message: {} }),
      form({ ...click, response_url: 'https://evil.example/x' }),
      form({ ...click, actions: [] }),
      form({ ...click, actions: [{ type: 'button' }] }),
    ];
    for (const body of bad) expect(parseInteraction(body, API), body).toHaveProperty('error');
  });

  it('allows response URLs of Slack and of the configured API origin only', () => {
    expect(responseUrlAllowed('https://hooks.slack.com/actions/x', API)).toBe(true);
    expect(
      responseUrlAllowed('http://127.0.0.1:4000/_standin/respond/R1', 'http://127.0.0.1:4000/api/'),
    ).toBe(true);
    expect(responseUrlAllowed('http://127.0.0.1:4001/x', 'http://127.0.0.1:4000/api/')).toBe(false);
    expect(responseUrlAllowed('http://hooks.slack.com/x', API)).toBe(false);
    expect(responseUrlAllowed('not a url', API)).toBe(false);
  });

  it('turns the signature verdict into the gate: 401 for every refusal of the signature', () => {
    expect(signatureGate('ok')).toEqual({ ok: true });
    for (const verdict of ['forged', 'stale', 'malformed'] as const)
      expect(signatureGate(verdict)).toEqual({ ok: false, refusal: verdict, status: 401 });
    expect([refusalStatus('replayed'), refusalStatus('malformed'), refusalStatus('too-large')]).toEqual([
      401, 400, 413,
    ]);
  });

  it('sees a signature twice within the window as a replay, and forgets it after', () => {
    const guard = createReplayGuard(300_000);
    expect(guard.seen('v0=a', 0)).toBe(false);
    expect(guard.seen('v0=a', 1000)).toBe(true);
    expect(guard.seen('v0=b', 1000)).toBe(false);
    expect(guard.seen('v0=a', 600_001)).toBe(false);
  });
});
