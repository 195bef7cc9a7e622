/**
 * Mutes at the pipeline's edge (src/app/mutes-filter.ts) and the snapshot they read
 * (src/app/mute-watch.ts), with the in-process mute store and the manual clock.
 */
import { describe, expect, it } from 'vitest';
import { createMemoryMuteStore } from '../../../src/adapters/memory-mutes.ts';
import { watchMutes } from '../../../src/app/mute-watch.ts';
import { withMutes } from '../../../src/app/mutes-filter.ts';
import type { Mute } from '../../../src/domain/mute.ts';
import type { Outcome } from '../../../src/domain/outcome.ts';
import type { SourceRecord } from '../../../src/domain/record.ts';
import { noopLogger, noopMetrics } from '../../../src/ports/index.ts';
import { createCapturingLogger, createManualClock, settled } from '../../support/fakes.ts';

const record: SourceRecord = {
  topic: 'monolith.public.listings',
  partition: 0,
  offset: '5',
  key: null,
  value: Buffer.from('{}'),
  headers: {},
  timestamp: '0',
};

const notify: Outcome = {
  kind: 'notify',
  reason: 'notify: listing unpublished -> support-heads-up; listing unpublished -> marketing-updates',
  listingId: '42',
  learned: { listingId: '42', values: {} } as unknown as NonNullable<Outcome['learned']>,
  messages: [
    {
      channel: '#support',
      channelKey: 'support-heads-up',
      rules: ['unpublished'],
      payload: { text: 's', blocks: [] },
    },
    {
      channel: '#marketing',
      channelKey: 'marketing-updates',
      rules: ['unpublished', 'marketing'],
      payload: { text: 'm', blocks: [] },
    },
  ],
};

const at = Date.parse('2026-01-01T10:00:00Z');
const listingMute = (o: Partial<Mute> = {}): Mute =>
  ({ scope: 'listing', listingId: '42', by: 'ana', until: at + 3_600_000, ...o }) as Mute;

const filterWith = (mutes: Mute[]) => {
  const clock = createManualClock(at);
  return { clock, filter: withMutes({ process: async () => notify }, { mutes: () => mutes, clock }) };
};

describe('withMutes', () => {
  it('drops a muted listing, naming who muted it until when, and keeps what it learned', async () => {
    const { filter } = filterWith([listingMute()]);
    const outcome = await filter.process(record);
    expect(outcome).toMatchObject({
      kind: 'dropped',
      reason: 'muted: by @ana until 2026-01-01T11:00:00Z',
      listingId: '42',
      learned: notify.learned,
    });
  });

  it('leaves out only the channel a mute names, and says so in the reason', async () => {
    const { filter } = filterWith([listingMute({ channel: 'support-heads-up' })]);
    const outcome = await filter.process(record);
    expect(outcome.kind === 'notify' && outcome.messages.map((m) => m.channelKey)).toEqual([
      'marketing-updates',
    ]);
    expect(outcome.reason).toContain(
      '(left out: support-heads-up muted: by @ana until 2026-01-01T11:00:00Z)',
    );
  });

  it('a rule mute silences a message only when every rule that sent it is muted', async () => {
    const { filter } = filterWith([{ scope: 'rule', rule: 'unpublished', by: 'bo', until: at + 60_000 }]);
    const outcome = await filter.process(record);
    expect(outcome.kind === 'notify' && outcome.messages.map((m) => m.channelKey)).toEqual([
      'marketing-updates',
    ]);
  });

  it('an ended mute, another listing, or no mutes at all pass the outcome through untouched', async () => {
    for (const mutes of [[listingMute({ until: at })], [listingMute({ listingId: '43' })], []]) {
      const { filter } = filterWith(mutes);
      expect(await filter.process(record)).toBe(notify);
    }
  });
});

describe('watchMutes', () => {
  it('reads the store at start and again every interval', async () => {
    const clock = createManualClock(at);
    const store = createMemoryMuteStore({ clock });
    await store.add(listingMute());
    const watch = await watchMutes({ store, clock, logger: noopLogger, metrics: noopMetrics, everyMs: 2000 });
    expect(watch.current().map((m) => m.scope)).toEqual(['listing']);
    await store.add({ scope: 'rule', rule: 'price', by: 'bo', until: at + 60_000 });
    expect(watch.current()).toHaveLength(1);
    await clock.advance(2000);
    await settled(() => watch.current().length === 2, 'the second mute read');
    watch.stop();
  });

  it('keeps the last snapshot while the store cannot answer, counting and logging it once', async () => {
    const clock = createManualClock(at);
    let failing = false;
    const memory = createMemoryMuteStore({ clock });
    await memory.add(listingMute());
    const store = {
      ...memory,
      list: (now: number) =>
        failing ? Promise.reject(new Error('Connection is closed.')) : memory.list(now),
    };
    const fallbacks: string[] = [];
    const logger = createCapturingLogger();
    const watch = await watchMutes({
      store,
      clock,
      logger,
      metrics: { ...noopMetrics, storeFallback: (op) => fallbacks.push(op) },
      everyMs: 2000,
    });
    failing = true;
    await clock.advance(2000);
    await settled(() => fallbacks.length === 1, 'the first failed read counted');
    await clock.advance(2000);
    await settled(() => fallbacks.length === 2, 'the second failed read counted');
    expect(watch.current()).toHaveLength(1);
    expect(logger.lines.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual([
      'mutes unreadable; the last ones read stay in force',
    ]);
    watch.stop();
  });
});
