/**
 * The delivery ledger at the pipeline's edge: a record read again (after a crash, a rebalance, a
 * rolling restart) whose message a channel already accepted is not sent there again. The lookup
 * happens here, before the record reaches delivery, so that nothing already said is folded into a
 * pending message or a digest; the record's offset still commits (a record with nothing left to say is
 * 'dropped', reason "ledger: ...", which is a success).
 *
 * A store that cannot answer costs the protection, not the record: it goes on as if nothing was seen
 * (a metric and a log line say so), as the error table's 'degrade' says (src/domain/errors.ts).
 *
 * Only records that can have been delivered are looked up (issue 16: one store round trip per record
 * halved the fold path's rate): those at or below their partition's reach (the highest offset any
 * sender recorded, `DeliveryLedger.reach`, read once per partition and assignment) or at or below the
 * highest offset this process already handled there (a partition re-sought without a rebalance). The
 * reach is forgotten whenever the membership changes (`watchAssignments`): a partition that comes back
 * may have been delivered further by another replica meanwhile. What another replica records after
 * the reach was read (an old owner still sending after a rebalance) is caught by the claim at send
 * time (src/delivery/lane/ledger-claim.ts), as before.
 */

import { ledgerKey, originOf, partitionOf } from '../delivery/ledger.ts';
import { degradeOrThrow, describeError } from '../domain/errors.ts';
import { leavingOut } from '../domain/outcome.ts';
import type { DeliveryLedger, Logger, Metrics, RecordPipeline, RecordSource } from '../ports/index.ts';

export interface LedgerFilterOptions {
  ledger: DeliveryLedger;
  metrics: Metrics;
  logger: Logger;
}

export interface LedgerFilter extends RecordPipeline {
  /** The membership changed: every partition's reach is read again before it is relied on. */
  forgetReach(): void;
}

export function withDeliveryLedger(pipeline: RecordPipeline, o: LedgerFilterOptions): LedgerFilter {
  const reaches = new Map<string, Promise<bigint | undefined>>();
  /** The reaches that were read (a partition's `reaches` entry settled with it): no wait per record. */
  const known = new Map<Promise<bigint | undefined>, bigint | undefined>();
  const handled = new Map<string, bigint>(); // partition -> highest offset this process handled
  const within = (offset: bigint, highest: bigint | undefined): boolean =>
    highest !== undefined && offset <= highest;
  /**
   * Whether the record may have been delivered already (so the ledger must be asked): at once when the
   * partition's reach was read already (every record of a bulk but the first; issue 16), else once it is.
   */
  const mayBeDelivered = (record: {
    topic: string;
    partition: number;
    offset: string;
  }): boolean | Promise<boolean> => {
    const reach = o.ledger.reach;
    if (reach === undefined) return true;
    const partition = partitionOf(record);
    const offset = BigInt(record.offset);
    const before = handled.get(partition);
    if (before === undefined || offset > before) handled.set(partition, offset);
    if (before !== undefined && offset <= before) return true;
    let reading = reaches.get(partition);
    if (reading !== undefined && known.has(reading)) return within(offset, known.get(reading));
    if (reading === undefined) {
      const started = reach([partition]).then((found) => {
        const highest = found.get(partition);
        known.set(started, highest);
        return highest;
      });
      reading = started;
      reaches.set(partition, started);
    }
    return reading.then(
      (highest) => within(offset, highest),
      (error: unknown) => {
        degradeOrThrow(error, 'ledger');
        reaches.delete(partition); // asked again next time; `seen` below meets the same store
        return true;
      },
    );
  };
  return {
    forgetReach: () => {
      reaches.clear();
      known.clear();
    },
    async process(record) {
      const outcome = await pipeline.process(record);
      if (outcome.kind !== 'notify' || outcome.messages.length === 0) return outcome;
      const may = mayBeDelivered(record);
      if (!(typeof may === 'boolean' ? may : await may)) return outcome;
      const origin = originOf(record);
      let seen: Set<string>;
      try {
        seen = await o.ledger.seen(outcome.messages.map((m) => ledgerKey(origin, m.channel)));
      } catch (error) {
        const failure = degradeOrThrow(error, 'ledger');
        o.metrics.storeFallback('ledger');
        o.logger.warn(
          {
            topic: record.topic,
            partition: record.partition,
            offset: record.offset,
            error: describeError(failure),
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
      // Already delivered, but the record still teaches the last-values store (crash after Slack).
      return leavingOut(
        outcome,
        left,
        `ledger: already delivered in ${skipped} channel(s)`,
        `ledger: ${skipped} channel(s) already delivered`,
      );
    },
  };
}

/**
 * `source` with `onChange` called whenever its membership changes (joined, or in doubt), before the
 * service's own handlers hear of it.
 */
export function watchAssignments<S extends RecordSource>(source: S, onChange: () => void): S {
  return {
    ...source,
    start: (handlers) =>
      source.start({
        ...handlers,
        onAssigned(partitions) {
          onChange();
          handlers.onAssigned(partitions);
        },
        onUnassigned(reason) {
          onChange();
          handlers.onUnassigned(reason);
        },
      }),
  };
}
