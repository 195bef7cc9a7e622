import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { watchWindow, windowState } from '../../../../src/delivery/lane/window.ts';
import { createManualClock, settled } from '../../../support/fakes.ts';

const limits = { quietMs: 2000, windowMs: 10_000 };

describe('windowState', () => {
  it('waits for the nearer of the quiet period and the window, then says which ended it', () => {
    expect(windowState({ openedAt: 0, lastAddAt: 0 }, 500, limits)).toEqual({ kind: 'wait', ms: 1500 });
    expect(windowState({ openedAt: 0, lastAddAt: 9000 }, 9500, limits)).toEqual({ kind: 'wait', ms: 500 });
    expect(windowState({ openedAt: 0, lastAddAt: 0 }, 2000, limits)).toEqual({ kind: 'quiet' });
    expect(windowState({ openedAt: 0, lastAddAt: 9500 }, 10_000, limits)).toEqual({ kind: 'cut' });
  });
});

describe('watchWindow', () => {
  const setup = () => {
    const clock = createManualClock(0);
    const digest = new AbortController();
    const lifetime = new AbortController();
    const timing = { openedAt: 0, lastAddAt: 0 };
    const ends: boolean[] = [];
    const windowEnd = watchWindow(
      timing,
      { ...limits, clock, digest: digest.signal, lifetime: lifetime.signal },
      (flooding) => ends.push(flooding),
    );
    return { clock, digest, lifetime, timing, ends, windowEnd };
  };

  it('closes quiet once no change joined for quietMs, however long it was open', async () => {
    const { clock, timing, ends } = setup();
    for (let t = 1500; t <= 6000; t += 1500) {
      await clock.advance(1500);
      timing.lastAddAt = t;
    }
    expect(ends).toEqual([]);
    await clock.advance(2000);
    expect(ends).toEqual([false]);
  });

  it('cuts at the end of the window when changes never pause (flooding)', async () => {
    const { clock, timing, ends } = setup();
    for (let t = 1000; t <= 12_000; t += 1000) {
      await clock.advance(1000);
      timing.lastAddAt = t;
    }
    expect(ends).toEqual([true]);
  });

  it('ends without flooding when stopped, and lets go of the lifetime signal either way', async () => {
    const { clock, lifetime, ends, windowEnd } = setup();
    expect(getEventListeners(lifetime.signal, 'abort')).toHaveLength(1);
    windowEnd.abort();
    await settled(() => ends.length === 1, 'the window ended');
    expect(ends).toEqual([false]);
    expect(getEventListeners(lifetime.signal, 'abort')).toHaveLength(0);
    expect(clock.sleeping()).toBe(0);
  });

  it('ends when the digest has no share left', async () => {
    const { digest, ends } = setup();
    digest.abort();
    await settled(() => ends.length === 1, 'the window ended');
    expect(ends).toEqual([false]);
  });
});
