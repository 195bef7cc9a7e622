/**
 * Stock alerts with memory, at the pipeline's edge: the last alert announced per listing is read from
 * the store before the (pure) decision and written after it, so a stock wobbling around its low mark
 * (5 -> 4 "low", 4 -> 6, 6 -> 4) is announced low once until it is announced recovered
 * (pipeline/filter.ts RememberedAlerts). Records of a listing share a partition and are processed in
 * order, so read-decide-write per record needs no lock.
 *
 * Only updates that the stateless rule would announce consult the store. A store that cannot answer
 * costs the memory, not the record: the stateless decision goes out (metric and log line), as the
 * error table's 'degrade' says (src/domain/errors.ts).
 */
import type { Config } from '../config/index.ts';
import { originOf } from '../delivery/ledger.ts';
import { degradeOrThrow, describeError } from '../domain/errors.ts';
import { diff } from '../pipeline/diff.ts';
import { significance } from '../pipeline/filter.ts';
import { decide } from '../pipeline/index.ts';
import type { AlertEntry, AlertMemory, Logger, Metrics, RecordPipeline } from '../ports/index.ts';

export interface AlertMemoryOptions {
  memory: AlertMemory;
  config: () => Config;
  metrics: Metrics;
  logger: Logger;
}

export function withAlertMemory(pipeline: RecordPipeline, o: AlertMemoryOptions): RecordPipeline {
  return {
    async process(record) {
      const outcome = await pipeline.process(record);
      const event = outcome.kind === 'notify' ? outcome.event : undefined;
      if (event === undefined || event.listingId === null) return outcome;
      const config = o.config();
      const stateless = significance(event, diff(event), config);
      const alerting = (s: typeof stateless) =>
        s.significant
          ? s.signals.filter(
              (sig) => sig.field !== null && (sig.condition === 'low' || sig.condition === 'recovered'),
            )
          : [];
      if (alerting(stateless).length === 0) return outcome;
      const listingId = event.listingId;
      try {
        const stored = (await o.memory.get(listingId)) ?? {};
        const origin = originOf(record);
        // A record read again (crash, rebalance) is judged by what was remembered before it, so its
        // alert, perhaps never delivered, is decided the same way again (the ledger stops a repeat).
        const remembered: Record<string, 'low' | 'recovered'> = {};
        for (const [field, entry] of Object.entries(stored)) {
          const state = entry.by === origin ? entry.prev : entry.last;
          if (state !== null) remembered[field] = state;
        }
        const verdict = significance(event, diff(event), config, remembered);
        const next: Record<string, AlertEntry> = { ...stored };
        for (const sig of alerting(verdict)) {
          const field = sig.field as string;
          next[field] = {
            last: sig.condition as 'low' | 'recovered',
            prev: remembered[field] ?? null,
            by: origin,
          };
        }
        if (alerting(verdict).length > 0) await o.memory.set(listingId, next);
        if (Object.keys(remembered).length === 0) return outcome;
        const decided = decide(event, config, remembered);
        return outcome.learned === undefined ? decided : { ...decided, learned: outcome.learned };
      } catch (error) {
        const failure = degradeOrThrow(error, 'alert memory');
        o.metrics.storeFallback('alerts');
        o.logger.warn(
          { listingId, error: describeError(failure) },
          'stock alert memory unreachable: decided from this change alone',
        );
        return outcome;
      }
    },
  };
}
