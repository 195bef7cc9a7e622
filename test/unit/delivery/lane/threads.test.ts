import { describe, expect, it } from 'vitest';
import { createMemoryAnchors } from '../../../../src/delivery/anchors.ts';
import { createListingThreads } from '../../../../src/delivery/lane/threads.ts';
import { noopLogger, noopMetrics, type ThreadAnchors } from '../../../../src/ports/index.ts';
import { createManualClock } from '../../../support/fakes.ts';

const threadsOn = (anchors: ThreadAnchors | undefined) => {
  const fallbacks: string[] = [];
  const metrics = { ...noopMetrics, storeFallback: (op: string) => void fallbacks.push(op) };
  const threads = createListingThreads({
    threads: anchors === undefined ? undefined : { anchors, windowMs: 60_000 },
    channel: '#c',
    metrics,
    logger: noopLogger,
  });
  return { threads, fallbacks };
};

describe('listing threads', () => {
  it('replies under the listing’s first message within the window; a change without a listing never', async () => {
    const clock = createManualClock(0);
    const { threads } = threadsOn(createMemoryAnchors(clock));
    expect(await threads.threadOf('1')).toBeUndefined();
    await threads.started('1', '1.000100');
    await threads.started(null, '1.000200');
    expect(await threads.threadOf('1')).toBe('1.000100');
    expect(await threads.threadOf(null)).toBeUndefined();
    await clock.advance(60_000);
    expect(await threads.threadOf('1')).toBeUndefined();
  });

  it('is top-level without threads for the channel, and when the anchor store fails (counted)', async () => {
    expect(await threadsOn(undefined).threads.threadOf('1')).toBeUndefined();
    const failing: ThreadAnchors = {
      get: async () => {
        throw new Error('ECONNREFUSED');
      },
      set: async () => {
        throw new Error('ECONNREFUSED');
      },
    };
    const { threads, fallbacks } = threadsOn(failing);
    expect(await threads.threadOf('1')).toBeUndefined();
    await expect(threads.started('1', '1.0')).resolves.toBeUndefined();
    expect(fallbacks).toEqual(['anchors', 'anchors']);
  });
});
