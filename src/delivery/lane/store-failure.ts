/**
 * What a shared-store failure costs the lane: the protection the store gives (the ledger's "not twice",
 * a listing's thread), never the message. Counted (metrics storeFallback) and logged; the caller goes
 * on without the store's answer. Store errors are the store client's own (Redis), not NotifierErrors,
 * so dispositionOf would call them bugs and stop: they are degraded here, in the one place.
 */
import { describeError } from '../../domain/errors.ts';
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
  deps.metrics.storeFallback(store);
  deps.logger.warn({ ...fields, error: describeError(error) }, message);
}
