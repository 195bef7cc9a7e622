/**
 * The mutes in force, as a snapshot the record path reads without waiting (issue 17, item 2): read
 * from the mute store (src/ports/mutes.ts) at start and every `everyMs`, so a mute set on any replica,
 * from Slack or from `listing-notifier mute add`, is honoured by every replica within that long. A
 * store that cannot answer keeps the last snapshot (a mute still ends at its own `until`, which the
 * filter checks against the clock): the failure is counted (storeFallback 'mutes') and logged once per
 * spell, never a stop.
 */

import { degradeOrThrow, describeError } from '../domain/errors.ts';
import type { StoredMute } from '../domain/mute.ts';
import type { Clock, Logger, Metrics } from '../ports/index.ts';
import type { MuteStore } from '../ports/mutes.ts';

/** How often the snapshot is read again: a new mute takes effect on every replica within this. */
export const MUTE_REFRESH_MS = 2000;

export interface MuteWatch {
  /** The last snapshot read (mutes whose `until` has passed may still be in it: check against now). */
  current(): readonly StoredMute[];
  /** Reads the store now; resolves when the snapshot is replaced (or the read failed, logged). */
  refresh(): Promise<void>;
  stop(): void;
}

export interface MuteWatchOptions {
  store: MuteStore;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  everyMs?: number;
}

export async function watchMutes(o: MuteWatchOptions): Promise<MuteWatch> {
  const everyMs = o.everyMs ?? MUTE_REFRESH_MS;
  let snapshot: readonly StoredMute[] = [];
  let failing = false;
  const stopped = new AbortController();
  const refresh = async (): Promise<void> => {
    try {
      snapshot = await o.store.list(o.clock.now());
      if (failing) o.logger.info({ mutes: snapshot.length }, 'mutes readable again');
      failing = false;
    } catch (error) {
      const failure = degradeOrThrow(error, 'mutes');
      o.metrics.storeFallback('mutes');
      if (!failing)
        o.logger.warn(
          { error: describeError(failure), kept: snapshot.length },
          'mutes unreadable; the last ones read stay in force',
        );
      failing = true;
    }
  };
  await refresh();
  void (async () => {
    while (!stopped.signal.aborted) {
      await o.clock.sleep(everyMs, stopped.signal).catch(() => {});
      if (stopped.signal.aborted) return;
      await refresh().catch((error: unknown) =>
        o.logger.error({ error: describeError(error) }, 'reading the mutes failed'),
      );
    }
  })();
  return { current: () => snapshot, refresh, stop: () => stopped.abort() };
}
