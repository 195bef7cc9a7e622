/**
 * The delivery ledger at the pipeline's edge: a record read again (after a crash, a rebalance, a
 * rolling restart) whose message a channel already accepted is not sent there again. The lookup
 * happens here, before the record reaches delivery, so that nothing already said is folded into a
 * pending message or a digest; the record's offset still commits (a record with nothing left to say is
 * 'dropped', reason "ledger: ...", which is a success).
 *
 * A store that cannot answer costs the protection, not the record: it goes on as if nothing was seen
 * (a metric and a log line say so).
 */

import { ledgerKey, originOf } from '../delivery/ledger.ts';
import { describeError } from '../domain/errors.ts';
import type { DeliveryLedger, Logger, Metrics, RecordPipeline } from '../ports/index.ts';

export interface LedgerFilterOptions {
  ledger: DeliveryLedger;
  metrics: Metrics;
  logger: Logger;
}

export function withDeliveryLedger(pipeline: RecordPipeline, o: LedgerFilterOptions): RecordPipeline {
  return {
    async process(record) {
      const outcome = await pipeline.process(record);
      if (outcome.kind !== 'notify' || outcome.messages.length === 0) return outcome;
      const origin = originOf(record);
      let seen: Set<string>;
      try {
        seen = await o.ledger.seen(outcome.messages.map((m) => ledgerKey(origin, m.channel)));
      } catch (error) {
        o.metrics.storeFallback('ledger');
        o.logger.warn(
          {
            topic: record.topic,
            partition: record.partition,
            offset: record.offset,
            error: describeError(error),
          },
          'delivery ledger unreachable: the record is delivered without the duplicate check',
        );
        return outcome;
      }
      if (seen.size === 0) return outcome;
      const left = outcome.messages.filter((m) => !seen.has(ledgerKey(origin, m.channel)));
      for (const m of outcome.messages)
        if (seen.has(ledgerKey(origin, m.channel))) o.metrics.ledgerHit(m.channel);
      const skipped = outcome.messages.length - left.length;
      if (left.length === 0) {
        return {
          kind: 'dropped',
          reason: `ledger: already delivered in ${skipped} channel(s)`,
          ...(outcome.listingId === undefined ? {} : { listingId: outcome.listingId }),
          ...(outcome.sourceTsMs === undefined ? {} : { sourceTsMs: outcome.sourceTsMs }),
          // Already delivered, but the record still teaches the last-values store (crash after Slack).
          ...(outcome.learned === undefined ? {} : { learned: outcome.learned }),
        };
      }
      return {
        ...outcome,
        messages: left,
        reason: `${outcome.reason} (ledger: ${skipped} channel(s) already delivered)`,
      };
    },
  };
}
