/**
 * The digest window clock: how long a digest keeps collecting. It goes out once no change joined it for
 * `quietMs` (config delivery.flood.digestQuietMs), or `windowMs` after it opened at the latest
 * (delivery.flood.digestWindowMs). A bulk change streams in over seconds; closing on a fixed beat would
 * cut it into several digests and let messages of their own in between.
 */
import type { Clock } from '../../ports/index.ts';

export interface WindowTiming {
  /** When the digest opened, and when a change last joined it (clock.now()). */
  openedAt: number;
  lastAddAt: number;
}

export interface WindowLimits {
  quietMs: number;
  windowMs: number;
}

/** Where a digest's window stands at `now`: closed by a pause, cut by the window, or wait `ms` and look again. */
export type WindowState = { kind: 'quiet' } | { kind: 'cut' } | { kind: 'wait'; ms: number };

export function windowState(timing: WindowTiming, now: number, limits: WindowLimits): WindowState {
  const quiet = timing.lastAddAt + limits.quietMs - now;
  const window = timing.openedAt + limits.windowMs - now;
  if (quiet <= 0) return { kind: 'quiet' };
  if (window <= 0) return { kind: 'cut' };
  return { kind: 'wait', ms: Math.min(quiet, window) };
}

export interface WindowOptions extends WindowLimits {
  clock: Clock;
  /** The digest's own signal (aborted once no share is left in it): ends the wait. */
  digest: AbortSignal;
  /** The lane's lifetime (scheduler shutdown): ends the wait. */
  lifetime: AbortSignal;
}

/**
 * Watches one digest's window (`timing` is read again after each sleep: changes move lastAddAt) and calls
 * `onEnd` once: `flooding` true when the window cut it, false when it closed quiet or the wait was ended
 * (the returned controller, the digest's signal or the lifetime). Abort the controller once the digest
 * is closed for another reason (its size, a flush).
 */
export function watchWindow(
  timing: WindowTiming,
  options: WindowOptions,
  onEnd: (flooding: boolean) => void,
): AbortController {
  const { clock, digest, lifetime } = options;
  const windowEnd = new AbortController();
  const end = (): void => windowEnd.abort();
  digest.addEventListener('abort', end, { once: true });
  // The lane's lifetime outlives every digest: its listener goes with the window, or the lifetime
  // signal would pin each digest ever opened, entries and all (issue 16: 67,000 entries of sent
  // digests were still on the heap 30 s into a 100,000-row bulk).
  lifetime.addEventListener('abort', end, { once: true });
  windowEnd.signal.addEventListener(
    'abort',
    () => {
      lifetime.removeEventListener('abort', end);
      digest.removeEventListener('abort', end);
    },
    { once: true },
  );
  const collect = async (): Promise<boolean> => {
    for (;;) {
      const state = windowState(timing, clock.now(), options);
      if (state.kind !== 'wait') return state.kind === 'cut';
      await clock.sleep(state.ms, windowEnd.signal);
    }
  };
  collect().then(onEnd, () => onEnd(false));
  return windowEnd;
}
