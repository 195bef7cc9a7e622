/**
 * Stock alerts with memory, at the pipeline's edge: the last alert announced per listing is read from
 * the store before the (pure) decision and written after it, so a stock wobbling around its low mark
 * (5 -> 4 "low", 4 -> 6, 6 -> 4) is announced low once until it is announced recovered
 * (pipeline/filter.ts RememberedAlerts). Records of a listing share a partition and are processed in
 * order, so read-decide-write per record needs no lock.
 *
 * Only updates that the stateless rule would announce consult the store. A store that cannot answer
 * costs the memory, not the record: the stateless decision goes out (metric and log line).
 */
import type { Config } from '../config/index.ts';
import { describeError } from '../domain/errors.ts';
import { diff } from '../pipeline/diff.ts';
import { type RememberedAlerts, significance } from '../pipeline/filter.ts';
import { decide } from '../pipeline/index.ts';
import type { AlertMemory, Logger, Metrics, RecordPipeline } from '../ports/index.ts';

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
        const remembered: RememberedAlerts = (await o.memory.get(listingId)) ?? {};
        const verdict = significance(event, diff(event), config, remembered);
        const next: Record<string, 'low' | 'recovered'> = { ...remembered };
        for (const sig of alerting(verdict)) next[sig.field as string] = sig.condition as 'low' | 'recovered';
        if (alerting(verdict).length > 0) await o.memory.set(listingId, next);
        return Object.keys(remembered).length === 0 ? outcome : decide(event, config, remembered);
      } catch (error) {
        o.metrics.storeFallback('alerts');
        o.logger.warn(
          { listingId, error: describeError(error) },
          'stock alert memory unreachable: decided from this change alone',
        );
        return outcome;
      }
    },
  };
}
