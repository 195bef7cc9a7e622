/**
 * The in-process mute store (src/adapters/memory-mutes.ts) on the manual clock: mutes are listed while
 * in force, end by themselves, and can be removed by id.
 */
import { describe, expect, it } from 'vitest';
import { createMemoryMuteStore, newMuteId } from '../../../src/adapters/memory-mutes.ts';
import type { Mute } from '../../../src/domain/mute.ts';
import { createManualClock } from '../../support/fakes.ts';

const HOUR = 3_600_000;

function setup() {
  const clock = createManualClock();
  let n = 0;
  const store = createMemoryMuteStore({ clock, ids: () => `m${++n}` });
  const listing = (hours: number, overrides: Partial<Mute> = {}): Mute =>
    ({
      scope: 'listing',
      listingId: '42',
      by: 'ana',
      until: clock.now() + hours * HOUR,
      ...overrides,
    }) as Mute;
  return { clock, store, listing };
}

describe('memory mute store', () => {
  it('lists a mute with its id until it ends, then never again', async () => {
    const { clock, store, listing } = setup();
    const mute = listing(1);
    expect(await store.add(mute)).toBe('m1');
    expect(await store.list(clock.now())).toEqual([{ ...mute, id: 'm1' }]);
    await clock.advance(HOUR - 1);
    expect(await store.list(clock.now())).toHaveLength(1);
    await clock.advance(1);
    expect(await store.list(clock.now())).toEqual([]);
    // Gone for good, not just hidden: asking about an earlier time does not bring it back.
    expect(await store.list(clock.now() - HOUR)).toEqual([]);
  });

  it('keeps several, each ending at its own time', async () => {
    const { clock, store, listing } = setup();
    await store.add(listing(1));
    await store.add({ scope: 'rule', rule: 'price-drops', by: 'bo', until: clock.now() + 24 * HOUR });
    expect((await store.list(clock.now())).map((m) => m.id).sort()).toEqual(['m1', 'm2']);
    await clock.advance(2 * HOUR);
    expect((await store.list(clock.now())).map((m) => m.id)).toEqual(['m2']);
  });

  it('removes by id: true once, false for an unknown or ended one', async () => {
    const { clock, store, listing } = setup();
    await store.add(listing(1));
    await store.add(listing(2));
    expect(await store.remove('m1')).toBe(true);
    expect(await store.remove('m1')).toBe(false);
    expect(await store.remove('nope')).toBe(false);
    expect((await store.list(clock.now())).map((m) => m.id)).toEqual(['m2']);
    await clock.advance(2 * HOUR);
    expect(await store.remove('m2')).toBe(false);
  });

  it('hands out copies: changing a listed mute changes nothing stored', async () => {
    const { clock, store, listing } = setup();
    await store.add(listing(1));
    const [first] = await store.list(clock.now());
    if (first !== undefined) first.until = 0;
    expect(await store.list(clock.now())).toHaveLength(1);
  });

  it('draws another id when one is taken', async () => {
    const clock = createManualClock();
    const ids = ['a', 'a', 'b'];
    const store = createMemoryMuteStore({ clock, ids: () => ids.shift() ?? 'z' });
    const mute: Mute = { scope: 'listing', listingId: '1', by: 'ana', until: clock.now() + HOUR };
    expect([await store.add(mute), await store.add(mute)]).toEqual(['a', 'b']);
  });

  it('makes short ids to type', () => {
    expect(newMuteId()).toMatch(/^[\w-]{8}$/);
    expect(newMuteId()).not.toBe(newMuteId());
  });
});
