/**
 * Thread per listing (config delivery.threads): in a threaded channel, a listing's follow-up changes
 * within the window reply in the thread of its first message; other channels and other listings stay
 * top-level; after the window a new thread starts.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/index.ts';
import { createMemoryAnchors } from '../../../src/delivery/anchors.ts';
import { createDeliveryScheduler, floodOff } from '../../../src/delivery/scheduler.ts';
import type { ChangeEvent } from '../../../src/domain/change.ts';
import { createComposer } from '../../../src/pipeline/compose.ts';
import { decide } from '../../../src/pipeline/index.ts';
import { unpaced } from '../../support/delivery.ts';
import { dec, makeUpdate } from '../../support/events.ts';
import { createFakeChat } from '../../support/fake-chat.ts';
import { createManualClock } from '../../support/fakes.ts';

const config = parseConfig(
  [
    'rules:',
    '  - { name: price moved, match: { field: price }, channels: [sales-alerts, marketing-updates] }',
  ].join('\n'),
  'threads-test',
);

const price = (id: number, before: string, after: string): ChangeEvent =>
  makeUpdate(
    { prc_amt: dec(after) },
    { prc_amt: dec(before) },
    { listingId: String(id), key: { lst_id: id } },
  );

describe('thread per listing', () => {
  it('replies in the thread of the listing’s first message within the window, per channel', async () => {
    const clock = createManualClock(0);
    const chat = createFakeChat({ clock });
    const scheduler = createDeliveryScheduler({
      destination: chat,
      composer: createComposer(() => config),
      flood: floodOff,
      clock,
      ...unpaced,
      threads: { channels: ['sales-alerts'], windowMs: 60_000 },
      anchors: createMemoryAnchors(clock),
    });
    const send = async (event: ChangeEvent): Promise<void> => {
      const outcome = decide(event, config);
      if (outcome.kind !== 'notify') throw new Error(outcome.reason);
      const signal = new AbortController().signal;
      await Promise.all(outcome.messages.map((m) => scheduler.submit(m, outcome.event, signal).fate));
    };
    await send(price(1, '100.00', '90.00'));
    await send(price(2, '100.00', '80.00'));
    await send(price(1, '90.00', '70.00'));
    await clock.advance(60_000);
    await send(price(1, '70.00', '60.00'));

    const sales = chat.delivered().filter((c) => c.channel === '#sales-alerts');
    const first = sales[0];
    expect(sales.map((c) => c.threadTs)).toEqual([undefined, undefined, first?.ts, undefined]);
    // An unthreaded channel: every message top-level.
    const marketing = chat.delivered().filter((c) => c.channel !== '#sales-alerts');
    expect(marketing).toHaveLength(4);
    expect(marketing.every((c) => c.threadTs === undefined)).toBe(true);
  });
});
