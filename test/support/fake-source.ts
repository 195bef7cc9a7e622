/**
 * A RecordSource that behaves like kafkajs's consumer where it matters to the service: per-partition
 * positions that advance only with take() (resolveOffset), pause/resume that stop handing out a
 * partition, commits kept per partition, and a rejoin that restarts every partition from its committed
 * offset (kafkajs drops resolved-but-uncommitted offsets on a rebalance). Tests drive it round by round
 * with poll(), like kafkajs's fetch loop: one batch per active partition, all handlers awaited.
 */

import { NotifierError } from '../../src/domain/errors.ts';
import type { SourceRecord } from '../../src/domain/record.ts';
import type {
  CommitOffset,
  RecordSource,
  SourceBatch,
  SourceHandlers,
  TopicPartition,
} from '../../src/ports/index.ts';

export interface FakeSourceOptions {
  topic?: string;
  partitions?: number;
  /** Most records handed out in one batch. Default 100. */
  maxBatchSize?: number;
}

export interface FakeSource extends RecordSource {
  readonly topic: string;
  /** Appends a record to a partition's log and returns it. */
  produce(partition: number, value: Buffer | string | null, overrides?: Partial<SourceRecord>): SourceRecord;
  /** One fetch round; resolves with the number of batches handed out. */
  poll(): Promise<number>;
  /** Polls until `condition()` holds, at most `maxRounds` rounds; throws if it never does. */
  pollUntil(condition: () => boolean, maxRounds?: number): Promise<void>;
  committed(partition: number): string | undefined;
  commits: CommitOffset[][];
  isPaused(partition: number): boolean;
  heartbeats: number;
  /** Rejoin with this assignment (default: all partitions); positions restart at the committed offsets. */
  rebalance(partitions?: number[]): void;
  /** The next `count` commits reject with `error`. */
  failCommits(count: number, error?: Error): void;
  /** The handlers the service registered in start(). */
  handlers(): SourceHandlers;
  stopped: boolean;
}

export function createFakeSource(options: FakeSourceOptions = {}): FakeSource {
  const topic = options.topic ?? 'monolith.public.listings';
  const partitionCount = options.partitions ?? 1;
  const maxBatchSize = options.maxBatchSize ?? 100;
  const logs: SourceRecord[][] = Array.from({ length: partitionCount }, () => []);
  const positions = new Map<number, number>();
  const committedOffsets = new Map<number, string>();
  const pausedSet = new Set<number>();
  let assigned: number[] = [];
  let generation = 0;
  let current: SourceHandlers | undefined;
  let commitFailuresLeft = 0;
  // As the Kafka adapter refuses a commit (src/adapters/kafka-source.ts): a code the committer retries.
  let commitError: Error = new NotifierError('KAFKA_COMMIT_FAILED', 'fake commit failure');

  const reset = () => {
    positions.clear();
    for (const p of assigned) positions.set(p, Number(committedOffsets.get(p) ?? 0));
  };

  const fake: FakeSource = {
    topic,
    commits: [],
    heartbeats: 0,
    stopped: false,

    produce(partition, value, overrides = {}) {
      const log = logs[partition];
      if (log === undefined) throw new RangeError(`no partition ${partition}`);
      const record: SourceRecord = {
        topic,
        partition,
        offset: String(log.length),
        key: Buffer.from(`{"id":${log.length}}`),
        value: typeof value === 'string' ? Buffer.from(value) : value,
        headers: {},
        timestamp: '1767225600000',
        ...overrides,
      };
      log.push(record);
      return record;
    },

    async start(handlers) {
      current = handlers;
      assigned = logs.map((_, i) => i);
      reset();
      handlers.onAssigned(assigned.map((partition) => ({ topic, partition })));
    },

    async poll() {
      const handlers = current;
      if (handlers === undefined || fake.stopped) return 0;
      const batches: Promise<void>[] = [];
      const myGeneration = generation;
      for (const partition of assigned) {
        if (pausedSet.has(partition)) continue;
        const log = logs[partition] ?? [];
        const from = positions.get(partition) ?? 0;
        const records = log.slice(from, from + maxBatchSize);
        if (records.length === 0) continue;
        const batch: SourceBatch = {
          topic,
          partition,
          highWatermark: String(log.length),
          records,
          take(offset) {
            if (generation !== myGeneration) return;
            positions.set(partition, Number(offset) + 1);
          },
          heartbeat: async () => {
            fake.heartbeats += 1;
          },
          isActive: () => !fake.stopped && generation === myGeneration && assigned.includes(partition),
        };
        batches.push(handlers.onBatch(batch));
      }
      await Promise.all(batches);
      return batches.length;
    },

    async pollUntil(condition, maxRounds = 1000) {
      for (let round = 0; round < maxRounds; round += 1) {
        if (condition()) return;
        await fake.poll();
        // Let completions scheduled by the handlers run before checking again.
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (!condition()) throw new Error(`condition not met after ${maxRounds} rounds`);
    },

    pause(tp: TopicPartition) {
      pausedSet.add(tp.partition);
    },
    resume(tp: TopicPartition) {
      pausedSet.delete(tp.partition);
    },

    async commit(offsets) {
      if (commitFailuresLeft > 0) {
        commitFailuresLeft -= 1;
        throw commitError;
      }
      fake.commits.push(offsets.map((o) => ({ ...o })));
      for (const o of offsets) committedOffsets.set(o.partition, o.offset);
    },

    async stop() {
      fake.stopped = true;
    },

    committed: (partition) => committedOffsets.get(partition),
    isPaused: (partition) => pausedSet.has(partition),

    rebalance(partitions = logs.map((_, i) => i)) {
      generation += 1;
      current?.onUnassigned('rebalancing');
      assigned = [...partitions];
      reset();
      current?.onAssigned(assigned.map((partition) => ({ topic, partition })));
    },

    failCommits(count, error) {
      commitFailuresLeft = count;
      if (error !== undefined) commitError = error;
    },

    handlers() {
      if (current === undefined) throw new Error('fake source not started');
      return current;
    },
  };
  return fake;
}
