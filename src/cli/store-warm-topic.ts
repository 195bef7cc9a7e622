/**
 * `store warm --from-topic TOPIC`: the last-values store filled from a snapshot topic (Debezium's own
 * topic after an initial or incremental snapshot, or a compacted copy of it). A bounded read: every
 * partition from its earliest offset up to the end offset taken at start, through the day-2 commands'
 * topic reader (adapters/kafka-range-reader.ts: a throw-away group that commits nothing). Each record
 * is decided by pipeline/warm.ts (decoded as the service decodes it, the entry with the record's own
 * source position); the store's positioned put keeps only what is newer than the stored entry.
 */
import type { RedisStore } from '../adapters/redis-store.ts';
import type { Learned } from '../domain/known-values.ts';
import type { SourceRecord } from '../domain/record.ts';
import { resolveFramed } from '../pipeline/decode/index.ts';
import { undecodable, type WarmDecision, type WarmSkipReason, warmDecision } from '../pipeline/warm.ts';
import type { SchemaRegistryPort, TopicReader } from '../ports/index.ts';
import { commandLogger, interruptSignal, openReader } from './command-context.ts';
import type { TopicArgs, WarmContext } from './store-warm-args.ts';

/** What the read did; `older` are puts the store refused because it holds a newer (or the same) position. */
export interface WarmTally {
  read: number;
  stored: number;
  skipped: Map<WarmSkipReason | 'older', number>;
}

/** The end-of-run line: read = stored + skipped. */
export function summaryLine(topic: string, tally: WarmTally, seconds: number): string {
  const skipped = [...tally.skipped.values()].reduce((a, b) => a + b, 0);
  const reasons = [...tally.skipped].map(
    ([reason, n]) => `${reason === 'older' ? 'not newer than the store' : reason} ${n}`,
  );
  return `store warm: ${tally.read} record(s) read from ${topic}, ${tally.stored} stored, ${skipped} skipped${
    reasons.length === 0 ? '' : ` (${reasons.join(', ')})`
  } in ${seconds.toFixed(1)} s`;
}

type Failure = { where: 'Kafka' | 'store' | 'schema registry'; error: unknown };

export async function warmFromTopic(args: TopicArgs, context: WarmContext): Promise<number> {
  const { config, connections, env, io, clock } = context;
  const logger = commandLogger(env, io);
  let registry: SchemaRegistryPort | undefined;
  if (config.source.registryUrl !== null) {
    const { createSchemaRegistry } = await import('../adapters/schema-registry.ts');
    registry = createSchemaRegistry({ host: config.source.registryUrl, ...connections.registry });
  }
  const interrupt = context.signal === undefined ? interruptSignal() : undefined;
  const signal = context.signal ?? interrupt?.signal;
  const tally: WarmTally = { read: 0, stored: 0, skipped: new Map() };
  const skip = (reason: WarmSkipReason | 'older'): void => {
    tally.skipped.set(reason, (tally.skipped.get(reason) ?? 0) + 1);
  };
  let reader: TopicReader | undefined;
  let store: RedisStore | undefined;
  let failure: Failure | undefined;
  const t0 = clock.now();
  try {
    reader = await openReader(config, connections, logger, 'store-warm');
    if (!(await reader.topicExists(args.topic))) {
      io.stderr(`--from-topic: no topic ${args.topic}`);
      return 2;
    }
    const ranges = (await reader.watermarks(args.topic)).map((w) => ({
      partition: w.partition,
      from: w.low,
      to: w.high,
    }));
    // An upper bound: a compacted topic has gaps in its offsets.
    const most = ranges.reduce((n, r) => n + (BigInt(r.to) - BigInt(r.from)), 0n);
    try {
      store = await context.openStore();
    } catch (error) {
      failure = { where: 'store', error };
      throw error;
    }
    const lastValues = store.lastValues;
    let pending: Learned[] = [];
    const flush = async (): Promise<void> => {
      const batch = pending;
      pending = [];
      let kept: boolean[];
      try {
        kept = await Promise.all(batch.map((l) => lastValues.put(l.listingId, l.entry)));
      } catch (error) {
        failure = { where: 'store', error };
        throw error;
      }
      for (const k of kept) {
        if (k) tally.stored += 1;
        else skip('older');
      }
    };
    const decide = async (record: SourceRecord): Promise<WarmDecision> => {
      try {
        return warmDecision(record, await resolveFramed(record, registry), config, {
          columnsOf: args.columnsOf,
        });
      } catch (error) {
        // resolveFramed: a record the registry cannot decode is skipped; the registry away is fatal.
        try {
          return undecodable(error);
        } catch {
          failure = { where: 'schema registry', error };
          throw error;
        }
      }
    };
    await reader.read({
      topic: args.topic,
      ranges,
      ...(signal === undefined ? {} : { signal }),
      onRecord: async (record) => {
        tally.read += 1;
        const decision = await decide(record);
        if (decision.kind === 'put') pending.push(decision.learned);
        else skip(decision.reason);
        if (pending.length >= args.batch) await flush();
        if (args.progress > 0 && tally.read % args.progress === 0)
          io.stderr(`store warm: ${tally.read} of at most ${most} record(s) read, ${tally.stored} stored`);
      },
    });
    await flush();
    const seconds = (clock.now() - t0) / 1000;
    if (signal?.aborted) {
      io.stderr(`${summaryLine(args.topic, tally, seconds)}; interrupted before the end offsets`);
      return 1;
    }
    io.stdout(summaryLine(args.topic, tally, seconds));
    return 0;
  } catch (error) {
    const { where, error: cause } = failure ?? { where: 'Kafka', error };
    io.stderr(
      `listing-notifier store warm: ${where} error: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
    return 1;
  } finally {
    interrupt?.dispose();
    await reader?.close();
    await store?.close();
  }
}
