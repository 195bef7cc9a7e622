/**
 * The last-values store at the pipeline's edge (issue 18): changes without a before image (REPLICA
 * IDENTITY DEFAULT, binlog_row_image=MINIMAL, unchanged TOAST) take it from the last values this
 * service saw of the listing's watched columns (src/pipeline/before-image.ts decides when and how).
 *
 * Two halves:
 * - lookup, for the pipeline (createPipeline deps.lastValues): the newest values of a listing whose
 *   record was taken but not yet written, else the store's. A store that cannot answer costs the
 *   before image ("previous unknown"), not the record (metric and log line): the error table's
 *   'degrade' (src/domain/errors.ts), as for the writes below.
 * - track, for the record loop: a taken record's values (Outcome.learned) are written once the record
 *   finished (its messages delivered, dropped or dead-lettered), and only after the listing's earlier
 *   records were written, so the store is never ahead of Slack: after a crash, a record read again
 *   finds the values from before it. A record abandoned (revoked, shutting down: it will be read again)
 *   writes nothing, and neither do the listing's later records waiting behind it.
 *
 * Records of a listing share a partition and are taken in order, so per-listing chains in this process
 * are enough; the store's own position check (put) keeps replicas and replays from regressing it.
 */
import { degradeOrThrow, describeError } from '../domain/errors.ts';
import type { KnownValues, Learned } from '../domain/known-values.ts';
import type { Outcome } from '../domain/outcome.ts';
import { entryText, parseEntry } from '../pipeline/before-image.ts';
import type { LastValuesStore, Logger, Metrics } from '../ports/index.ts';
import type { Completion } from './record-work.ts';

export interface LastValuesEdgeOptions {
  store: LastValuesStore;
  metrics: Metrics;
  logger: Logger;
}

export interface LastValuesEdge {
  lookup(listingId: string): Promise<KnownValues | undefined>;
  /** The record's completion, resolved once its values were written (or there was nothing to write). */
  track(outcome: Outcome, done: Promise<Completion>): Promise<Completion>;
  /**
   * For a fold run's record (fold-run.ts): its values are pending from now on (lookup sees them), kept
   * as the store's text (entryText: one string, ~5x smaller than the objects) with no promise of its
   * own while it waits. Returns that text; the run hands it back to `release`.
   */
  hold(learned: Learned): string;
  /**
   * For a fold run's record that carries its own complete before image (REPLICA IDENTITY FULL): read
   * again after a crash it needs nothing from the store, so its values are written now instead of
   * held (a bulk of 100,000 such records would otherwise hold ~700 bytes of values each).
   */
  writeNow(learned: Learned): void;
  /**
   * A run ended: its records' values (listing id and held text, in record order) are written when it
   * finished, and forgotten either way. The store's position check keeps an older write from
   * overtaking a newer one.
   */
  release(
    listingIds: readonly (string | undefined)[],
    texts: readonly (string | undefined)[],
    completion: Completion,
  ): Promise<void>;
  /** Listings with values taken and not yet written. */
  pending(): number;
}

interface Listing {
  /** Values of taken records not yet written, oldest first. */
  entries: KnownValues[];
  /** Settles true when the newest taken record's values were written, false when it wrote nothing. */
  tail: Promise<boolean>;
}

export function createLastValuesEdge(o: LastValuesEdgeOptions): LastValuesEdge {
  const listings = new Map<string, Listing>();

  const write = async (learned: Learned): Promise<void> => {
    try {
      await o.store.put(learned.listingId, learned.entry);
    } catch (error) {
      // The next change of this listing may read older values, or none: a before image, not a record.
      const failure = degradeOrThrow(error, 'last-values');
      o.metrics.storeFallback('lastValues');
      o.logger.warn(
        { listingId: learned.listingId, error: describeError(failure) },
        'last-values store unreachable: the listing keeps its previous values',
      );
    }
  };

  /** Fold runs' pending values per listing, as entry texts (oldest first when several). */
  const held = new Map<string, string | string[]>();
  const unhold = (listingId: string, text: string): void => {
    const value = held.get(listingId);
    if (value === text) held.delete(listingId);
    else if (Array.isArray(value)) {
      const at = value.indexOf(text);
      if (at >= 0) value.splice(at, 1);
      if (value.length === 1) held.set(listingId, value[0] as string);
      else if (value.length === 0) held.delete(listingId);
    }
  };
  /** The newest of the listing's held values, or undefined. */
  const newestHeld = (listingId: string): KnownValues | undefined => {
    const value = held.get(listingId);
    const text = Array.isArray(value) ? value[value.length - 1] : value;
    return text === undefined ? undefined : parseEntry(text);
  };

  return {
    hold(learned) {
      const text = entryText(learned.entry);
      const value = held.get(learned.listingId);
      if (value === undefined) held.set(learned.listingId, text);
      else if (Array.isArray(value)) value.push(text);
      else held.set(learned.listingId, [value, text]);
      return text;
    },

    writeNow(learned) {
      void write(learned);
    },

    async release(listingIds, texts, completion) {
      const writes: Array<Promise<void>> = [];
      for (let i = 0; i < texts.length; i += 1) {
        const text = texts[i];
        const listingId = listingIds[i];
        if (text === undefined || listingId === undefined) continue;
        const entry = completion.kind === 'finished' ? parseEntry(text) : undefined;
        writes.push(
          (entry === undefined ? Promise.resolve() : write({ listingId, entry })).finally(() =>
            unhold(listingId, text),
          ),
        );
      }
      await Promise.all(writes);
    },

    async lookup(listingId) {
      const waiting = listings.get(listingId)?.entries;
      const tracked = waiting?.[waiting.length - 1];
      const fromRun = newestHeld(listingId);
      // Positions compare as text (known-values.ts): the newer of a waiting record's and a run's.
      const newest =
        tracked === undefined || (fromRun !== undefined && fromRun.position > tracked.position)
          ? fromRun
          : tracked;
      if (newest !== undefined) return newest;
      try {
        return await o.store.get(listingId);
      } catch (error) {
        const failure = degradeOrThrow(error, 'last-values');
        o.metrics.storeFallback('lastValues');
        o.logger.warn(
          { listingId, error: describeError(failure) },
          'last-values store unreachable: the change is judged without a before image',
        );
        return undefined;
      }
    },

    track(outcome, done) {
      // Only the small entry is kept while the record waits, never the outcome (it holds the event).
      const learned = outcome.learned;
      if (learned === undefined) return done;
      const { listingId, entry } = learned;
      let current = listings.get(listingId);
      if (current === undefined) {
        current = { entries: [], tail: Promise.resolve(true) };
        listings.set(listingId, current);
      }
      current.entries.push(entry);
      const written = Promise.all([current.tail, done]).then(async ([earlierWritten, completion]) => {
        const ok = earlierWritten && completion.kind === 'finished';
        if (ok) await write(learned);
        return { ok, completion };
      });
      const tail = written.then(
        (w) => w.ok,
        () => false,
      );
      current.tail = tail;
      const forget = (): void => {
        const at = current.entries.indexOf(entry);
        if (at >= 0) current.entries.splice(at, 1);
        if (current.tail === tail && listings.get(listingId) === current) listings.delete(listingId);
      };
      return written.then(
        (w) => {
          forget();
          return w.completion;
        },
        (error: unknown) => {
          forget();
          throw error;
        },
      );
    },

    pending: () => new Set([...listings.keys(), ...held.keys()]).size,
  };
}
