/**
 * Draining for shutdown: stop taking records, pause fetching, send collecting digests now, wait up to
 * the deadline for what is in flight, abort the rest (its offsets stay uncommitted and are read again
 * after the restart), give a request already on the wire a short grace, and commit what finished.
 */
import type { Clock, Deliverer, Logger, RecordSource } from '../ports/index.ts';
import type { Committer } from './committer.ts';
import { idle, type LoopState } from './loop-state.ts';

/**
 * After the deadline everything is aborted, which settles queued deliveries at once; a request already
 * on the wire settles when its answer comes. Slack answers within about a second; 2 s is the grace.
 */
export const ABORT_GRACE_MS = 2000;

export interface DrainDeps {
  state: LoopState;
  source: Pick<RecordSource, 'pause'>;
  deliverer: Pick<Deliverer, 'flush'>;
  committer: Pick<Committer, 'flush'>;
  clock: Clock;
  logger: Logger;
}

/** Waits for idleness or `ms`, whichever comes first. */
async function idleWithin(deps: DrainDeps, ms: number): Promise<void> {
  const timer = new AbortController();
  await Promise.race([idle(deps.state), deps.clock.sleep(ms, timer.signal).catch(() => {})]);
  timer.abort();
}

export async function drainLoop(
  deps: DrainDeps,
  deadlineMs: number,
  graceMs = ABORT_GRACE_MS,
): Promise<{ unfinished: number }> {
  const { state, logger } = deps;
  state.stopping = true;
  for (const tp of state.assigned) deps.source.pause(tp);
  // Digests still collecting go out now rather than at the end of their window.
  deps.deliverer.flush();
  if (state.taken > 0) {
    logger.info({ inFlight: state.taken, deadlineMs }, 'draining in-flight records');
    await idleWithin(deps, deadlineMs);
  }
  const unfinished = state.taken;
  if (unfinished > 0) {
    logger.warn({ unfinished }, 'shutdown deadline reached; unfinished records will be read again');
    state.everything.abort(new Error('shutdown deadline reached'));
    await idleWithin(deps, graceMs);
  }
  await deps.committer.flush();
  return { unfinished };
}
