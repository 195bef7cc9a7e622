/**
 * What a shared-store failure costs the lane: the protection the store gives (the ledger's "not twice",
 * a listing's thread), never the message. Counted (metrics storeFallback) and logged; the caller goes
 * on without the store's answer. The table decides (src/domain/errors.ts degradeOrThrow): a store's
 * failure is STORE_UNAVAILABLE, whose disposition is 'degrade'; an error with another code is thrown
 * on, to the sender's own disposition (sender.ts failureOutcome).
 */
import { degradeOrThrow, describeError } from '../../domain/errors.ts';
import type { Logger, Metrics } from '../../ports/index.ts';

export interface StoreFailureDeps {
  metrics: Metrics;
  logger: Logger;
}

export function storeFailed(
  deps: StoreFailureDeps,
  store: 'ledger' | 'anchors',
  error: unknown,
  fields: Record<string, unknown>,
  message: string,
): void {
  const failure = degradeOrThrow(error, store);
  deps.metrics.storeFallback(store);
  deps.logger.warn({ ...fields, error: describeError(failure) }, message);
}
