import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/index.ts';
import { createMemoryLedger, ledgerKey, originOf } from '../../../src/delivery/ledger.ts';
import { testRetryPolicy } from '../../../src/delivery/retry-policy.ts';
import { createDeliveryScheduler, floodOff } from '../../../src/delivery/scheduler.ts';
import { createComposer } from '../../../src/pipeline/compose.ts';
import type { ClaimState, DeliveryLedger } from '../../../src/ports/index.ts';
import { createFakeChat, slackErrors } from '../../support/fake-chat.ts';
import { createManualClock } from '../../support/fakes.ts';

describe('createMemoryLedger', () => {
  it('remembers keys for the retention, then forgets them', async () => {
    const clock = createManualClock(0);
    const ledger = createMemoryLedger({ clock, retentionMs: 1000 });
    const a = ledgerKey(originOf({ topic: 't', partition: 2, offset: '17' }), '#sales');
    expect(a).toBe('t/2/17|#sales');
    await ledger.record([a]);
    expect(await ledger.seen([a, 'other'])).toEqual(new Set([a]));
    expect(await ledger.claim([a, 'other'], 100)).toEqual(
      new Map<string, ClaimState>([
        [a, 'done'],
        ['other', 'mine'],
      ]),
    );
    await clock.advance(1000);
    expect(await ledger.seen([a])).toEqual(new Set());
  });

  it('keeps at most maxEntries, dropping the oldest', async () => {
    const ledger = createMemoryLedger({ clock: createManualClock(0), retentionMs: 60_000, maxEntries: 3 });
    await ledger.record(['k1', 'k2', 'k3', 'k4']);
    expect(ledger.size()).toBe(3);
    expect(await ledger.seen(['k1', 'k2', 'k4'])).toEqual(new Set(['k2', 'k4']));
  });
});

describe('the lane and the ledger', () => {
  const setup = (ledger: DeliveryLedger) => {
    const clock = createManualClock(0);
    const chat = createFakeChat({ clock });
    const scheduler = createDeliveryScheduler({
      destination: chat,
      composer: createComposer(() => parseConfig('', 'test')),
      flood: floodOff,
      clock,
      perChannel: { intervalMs: 10, cap: 1 },
      burst: 3,
      workspace: { intervalMs: 1000, cap: 100 },
      maxQueuedPerChannel: 200,
      retry: testRetryPolicy,
      ledger,
    });
    const submit = (origin: string) =>
      scheduler.submit(
        { channel: '#sales', payload: { text: origin, blocks: [] } },
        undefined,
        new AbortController().signal,
        origin,
      ).fate;
    return { chat, submit, clock };
  };

  it('records every accepted (record, channel) and sends nothing already recorded', async () => {
    const ledger = createMemoryLedger({ clock: createManualClock(0), retentionMs: 60_000 });
    const { chat, submit } = setup(ledger);
    expect((await submit('t/0/1')).kind).toBe('delivered');
    expect(await ledger.seen(['t/0/1|#sales'])).toEqual(new Set(['t/0/1|#sales']));
    // Read again while no filter caught it (a race): the claim says done, nothing is posted.
    expect(await submit('t/0/1')).toMatchObject({ kind: 'delivered' });
    expect(chat.calls.map((c) => c.payload.text)).toEqual(['t/0/1']);
  });

  it('waits while another sender has the record on the wire, and sends nothing once it recorded it', async () => {
    const states: ClaimState[] = ['busy', 'busy', 'done'];
    const ledger: DeliveryLedger = {
      seen: async () => new Set(),
      claim: async (keys) => new Map(keys.map((k) => [k, states.shift() ?? 'mine'])),
      record: async () => {},
      release: async () => {},
    };
    const { chat, submit, clock } = setup(ledger);
    const fate = submit('t/0/2');
    // Asked again every 200 ms (ledger-claim.ts claimPollPolicy): busy at 0 and 200, done at 400.
    await clock.advance(0);
    await clock.advance(400);
    expect(await fate).toMatchObject({ kind: 'delivered' });
    expect(chat.calls).toHaveLength(0);
    expect(states).toHaveLength(0); // asked until it was done
  });

  it('gives its claim back when the message is refused for good', async () => {
    const released: string[][] = [];
    const ledger: DeliveryLedger = {
      seen: async () => new Set(),
      claim: async (keys) => new Map(keys.map((k) => [k, 'mine' as const])),
      record: async () => {
        throw new Error('must not record a refused message');
      },
      release: async (keys) => void released.push([...keys]),
    };
    const { chat, submit } = setup(ledger);
    chat.failOn(1, slackErrors.permanent());
    expect((await submit('t/0/3')).kind).toBe('failed');
    expect(released).toEqual([['t/0/3|#sales']]);
  });
});
