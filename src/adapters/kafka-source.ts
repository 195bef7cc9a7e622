/**
 * RecordSource on a kafkajs consumer group (kafkajs 2.2.4: https://kafka.js.org/docs/consuming).
 *
 * - autoCommit off and eachBatchAutoResolve off: kafkajs neither commits nor marks records read on its
 *   own; the app takes records (resolveOffset) and commits finished positions (commitOffsets).
 * - The handler never throws (kafkajs would retry the batch and then crash-restart the consumer, which
 *   turns one poison record into an endless loop); a throw that slips through asks the error table
 *   (src/domain/errors.ts): a 'retry' leaves the records not taken to the next fetch, anything else
 *   is reported as fatal.
 * - consumer.commitOffsets silently does nothing while the runner is not running (during a crash-restart
 *   or before the first join): a commit counts only when kafkajs emits COMMIT_OFFSETS for it, otherwise
 *   commit() rejects and the app retries. Offsets of partitions outside the current assignment are never
 *   sent (the broker would accept them from any member of the current generation).
 * - Topics that do not exist yet are waited for (Debezium creates its topic with its first change
 *   event; subscribing earlier fails with UNKNOWN_TOPIC_OR_PARTITION): start() resolves once connected,
 *   the wait goes on in the background with a log line when it begins and about once a minute, and
 *   notReadyReason() says what is missing (/readyz). A topic that appeared while we waited is read from
 *   its beginning when the group has no committed offset, so its first records are not skipped.
 * - A record that kills the process (OOM, a native crash, a bug that exits) is quarantined
 *   (src/delivery/quarantine.ts decides): before a partition's first batch of an assignment the
 *   committed offset's metadata is read (admin fetchOffsets, and describeGroups for who is still a
 *   member) and a marker written; in careful mode records are handed out one at a time, each after a
 *   "probing k" commit; a record found to kill is handed out with quarantined() saying so. Commits of
 *   a partition with nothing to remember carry no metadata.
 */
import type { Admin, Consumer, Kafka, KafkaMessage } from 'kafkajs';
import {
  attemptMetadata,
  commitMetadata,
  type PartitionGuard,
  planPartition,
  poisonAt,
  poisonReason,
  probePassed,
  type QuarantinePolicy,
  startProbe,
  stopMetadata,
} from '../delivery/quarantine.ts';
import { pollPolicy, retrying } from '../delivery/retry-policy.ts';
import { describeError, dispositionOf, NotifierError } from '../domain/errors.ts';
import type { SourceRecord } from '../domain/record.ts';
import type { Clock, CommitOffset, RecordSource, SourceHandlers, TopicPartition } from '../ports/index.ts';
import { type Logger, noopLogger } from '../ports/index.ts';
import { kafkaStartError } from './kafka-client.ts';
import { systemClock } from './system-clock.ts';

export interface KafkaSourceOptions {
  kafka: Kafka;
  groupId: string;
  topics: string[];
  /** Where a group without a committed offset starts: earliest when true, latest (default) when false. */
  fromBeginning?: boolean;
  /** kafkajs sessionTimeout; default 30 000 ms. */
  sessionTimeoutMs?: number;
  /** kafkajs heartbeatInterval; default 3000 ms. */
  heartbeatIntervalMs?: number;
  /** Partitions handled at once; default 4. Partitions are independent, records within one are in order. */
  partitionsConsumedConcurrently?: number;
  /** Fetch size per partition; default 768 KiB (kafkajs's is 1 MiB). Bounds memory per paused partition. */
  maxBytesPerPartition?: number;
  /** Fetch response size over all partitions; default 4 MiB (kafkajs's is 10 MiB). */
  maxBytes?: number;
  /** Long-poll wait of an empty fetch; default 1000 ms (kafkajs's 5000 slows shutdown and tests). */
  maxWaitTimeInMs?: number;
  /** How often missing topics are looked for; default 2000 ms. */
  topicPollIntervalMs?: number;
  /** How often "still waiting for topics" is logged; default 60 000 ms. */
  topicWaitLogIntervalMs?: number;
  /** Quarantine of records that kill the process (source.poison); default { maxAttempts: 3, probeRecords: 1000 }. */
  poison?: QuarantinePolicy;
  /** Default: the system clock. */
  clock?: Clock;
  logger?: Logger;
}

export interface KafkaSource extends RecordSource {
  readonly consumer: Consumer;
  /** Why the source is not consuming yet (topics missing), or undefined. */
  notReadyReason(): string | undefined;
  /** POISON_RECORD when the record is known to kill the process (quarantine.ts), else undefined. */
  quarantined(record: TopicPartition & { offset: string }): NotifierError | undefined;
}

const headerValue = (v: Buffer | string | (Buffer | string)[] | undefined): Buffer | string | undefined =>
  Array.isArray(v) ? v[v.length - 1] : v;

export function toSourceRecord(topic: string, partition: number, message: KafkaMessage): SourceRecord {
  const headers: SourceRecord['headers'] = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) headers[name] = headerValue(value);
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key ?? null,
    value: message.value ?? null,
    headers,
    timestamp: message.timestamp,
  };
}

const keyOf = (tp: TopicPartition): string => `${tp.topic}\u0000${tp.partition}`;

export function createKafkaSource(opts: KafkaSourceOptions): KafkaSource {
  const logger = opts.logger ?? noopLogger;
  const consumer = opts.kafka.consumer({
    groupId: opts.groupId,
    sessionTimeout: opts.sessionTimeoutMs ?? 30_000,
    heartbeatInterval: opts.heartbeatIntervalMs ?? 3000,
    maxBytesPerPartition: opts.maxBytesPerPartition ?? 786_432,
    maxBytes: opts.maxBytes ?? 4 * 1_048_576,
    maxWaitTimeInMs: opts.maxWaitTimeInMs ?? 1000,
    allowAutoTopicCreation: false,
  });
  let assigned = new Set<string>();
  let commitEvents = 0;
  let started = false;
  const clock = opts.clock ?? systemClock;
  const stopping = new AbortController();
  let waiting: { topics: string[]; since: number } | undefined;
  let background: Promise<void> = Promise.resolve();

  // Quarantine (see the module comment). One plan per partition per assignment; commits one at a time,
  // so that a marker's offset is always the broker's committed offset when it is sent.
  const policy = opts.poison ?? { maxAttempts: 3, probeRecords: 1000 };
  let me = '';
  let groupFacts: Promise<GroupFacts> | undefined;
  const gates = new Map<string, Promise<void>>();
  /** Per partition: its guard, and the offset its marker goes with at least (committed, or where it began). */
  const guards = new Map<string, { tp: TopicPartition; guard: PartitionGuard; floor: string }>();
  const committedAt = new Map<string, { offset: string; metadata: string | null }>();
  let commitChain: Promise<unknown> = Promise.resolve();
  let markerAdmin: Admin | undefined;

  /**
   * Sends commits after those before them; `entries` is evaluated then (with the offsets committed so
   * far), so a marker never moves a position back. Rejects when kafkajs skipped or refused it.
   */
  const send = (
    entries: () => Array<TopicPartition & { offset: string; metadata: string | null }>,
  ): Promise<void> => {
    const run = commitChain.then(async () => {
      const list = entries();
      if (list.length === 0) return;
      const before = commitEvents;
      await consumer.commitOffsets(
        list.map((e) => ({
          topic: e.topic,
          partition: e.partition,
          offset: e.offset,
          ...(e.metadata === null ? {} : { metadata: e.metadata }),
        })),
      );
      if (commitEvents === before) throw new Error('consumer not running; kafkajs skipped the commit');
      for (const e of list) committedAt.set(keyOf(e), { offset: e.offset, metadata: e.metadata });
    });
    commitChain = run.catch(() => {});
    return run;
  };

  /** The offset a marker of `tp` goes with: what is committed, at least `floor`. */
  const markerOffset = (tp: TopicPartition, floor: string): string => {
    const known = committedAt.get(keyOf(tp))?.offset;
    return known !== undefined && BigInt(known) > BigInt(floor) ? known : floor;
  };

  const readGroup = async (): Promise<GroupFacts> => {
    if (markerAdmin === undefined) {
      markerAdmin = opts.kafka.admin();
      await markerAdmin.connect();
    }
    const [offsets, described] = await Promise.all([
      markerAdmin.fetchOffsets({ groupId: opts.groupId, topics: opts.topics }),
      markerAdmin.describeGroups([opts.groupId]),
    ]);
    const committed = new Map<string, { offset: string; metadata: string | null }>();
    for (const t of offsets) {
      for (const p of t.partitions) {
        committed.set(keyOf({ topic: t.topic, partition: p.partition }), {
          offset: p.offset,
          metadata: p.metadata,
        });
      }
    }
    const members = new Set(described.groups.flatMap((g) => g.members.map((m) => m.memberId)));
    return { committed, members };
  };

  /** Plans `tp` (once per assignment) and writes its marker; a failure only costs the marker, never consuming. */
  const gate = (tp: TopicPartition, firstOffset: string): Promise<void> => {
    const key = keyOf(tp);
    let pending = gates.get(key);
    if (pending === undefined) {
      pending = (async () => {
        try {
          groupFacts ??= readGroup().catch((error: unknown) => {
            groupFacts = undefined; // the next assignment (or partition) asks again
            throw error;
          });
          const facts = await groupFacts;
          const found = facts.committed.get(key);
          const committed = found === undefined || BigInt(found.offset) < 0n ? undefined : found.offset;
          const guard = planPartition(
            { committed, metadata: found?.metadata, members: facts.members, me, now: clock.now() },
            policy,
          );
          const floor = committed ?? firstOffset;
          guards.set(key, { tp, guard, floor });
          if (guard.deaths > 0 || guard.careful > 0 || guard.poison.length > 0) {
            logger.warn(
              {
                topic: tp.topic,
                partition: tp.partition,
                committed,
                deaths: guard.deaths,
                careful: guard.careful,
                poison: guard.poison.map((p) => p.offset),
                maxAttempts: policy.maxAttempts,
              },
              guard.poison.length > 0
                ? 'a record killed the process: it will be dead-lettered as POISON_RECORD'
                : guard.careful > 0
                  ? 'the process died here before: handing records out one at a time (careful mode)'
                  : 'the process died here before without committing progress',
            );
          }
          await send(() => {
            const at = markerOffset(tp, floor);
            return [{ ...tp, offset: at, metadata: attemptMetadata(guard, at) }];
          });
        } catch (error) {
          logger.warn(
            { topic: tp.topic, partition: tp.partition, error: describeError(error) },
            'could not read or write the poison marker; consuming without it',
          );
        }
      })();
      gates.set(key, pending);
    }
    return pending;
  };

  const listen = (handlers: SourceHandlers): void => {
    const { events } = consumer;
    consumer.on(events.GROUP_JOIN, (event) => {
      me = event.payload.memberId;
      groupFacts = undefined;
      gates.clear();
      const partitions = Object.entries(event.payload.memberAssignment).flatMap(([topic, ps]) =>
        ps.map((partition) => ({ topic, partition })),
      );
      assigned = new Set(partitions.map(keyOf));
      handlers.onAssigned(partitions);
    });
    consumer.on(events.REBALANCING, () => {
      assigned = new Set();
      handlers.onUnassigned('rebalancing');
    });
    consumer.on(events.STOP, () => {
      assigned = new Set();
      handlers.onUnassigned('stopped');
    });
    consumer.on(events.CRASH, (event) => {
      assigned = new Set();
      handlers.onCrash(event.payload.error, event.payload.restart);
    });
    consumer.on(events.COMMIT_OFFSETS, () => {
      commitEvents += 1;
    });
  };

  return {
    consumer,

    async start(handlers) {
      if (started) throw new Error('kafka source already started');
      started = true;
      listen(handlers);
      await consumer.connect().catch((error: unknown) => {
        throw kafkaStartError(error);
      });
      const admin = opts.kafka.admin();
      try {
        await admin.connect();
        const missing = await missingTopics(admin, opts.topics);
        if (missing.length === 0) {
          await admin.disconnect();
          await subscribeAndRun(handlers, []);
          return;
        }
        waiting = { topics: missing, since: clock.now() };
        logger.warn(
          { topics: missing },
          `waiting for topic(s) to exist: ${missing.join(', ')} (consuming starts when they appear)`,
        );
      } catch (error) {
        await admin.disconnect().catch(() => {});
        throw kafkaStartError(error);
      }
      const waited = waiting.topics;
      background = waitForTopics(admin)
        .then((appeared) => (appeared ? subscribeAndRun(handlers, waited) : undefined))
        .catch((error: unknown) => {
          if (stopping.signal.aborted) return;
          logger.error({ error }, 'could not start consuming after waiting for the topics');
          handlers.onCrash(error, false);
        })
        .finally(() => admin.disconnect().catch(() => {}));
    },

    notReadyReason() {
      if (waiting === undefined) return undefined;
      const seconds = Math.round((clock.now() - waiting.since) / 1000);
      return `waiting for topic(s) to exist: ${waiting.topics.join(', ')} (for ${seconds} s)`;
    },

    pause(tp) {
      consumer.pause([{ topic: tp.topic, partitions: [tp.partition] }]);
    },

    resume(tp) {
      consumer.resume([{ topic: tp.topic, partitions: [tp.partition] }]);
    },

    async commit(offsets: readonly CommitOffset[]) {
      const refused = (why: string, cause?: unknown): NotifierError =>
        new NotifierError('KAFKA_COMMIT_FAILED', `commit refused: ${why}`, { cause, details: { offsets } });
      const mine = offsets.filter((o) => assigned.has(keyOf(o)));
      if (mine.length === 0) {
        if (offsets.length > 0) throw refused('not assigned any of these partitions (rebalancing)');
        return;
      }
      try {
        await send(() =>
          mine.map((o) => {
            const guard = guards.get(keyOf(o))?.guard;
            const metadata = guard === undefined ? null : commitMetadata(guard, o.offset);
            return { topic: o.topic, partition: o.partition, offset: o.offset, metadata };
          }),
        );
      } catch (cause) {
        throw refused((cause as Error).message, cause);
      }
      if (mine.length < offsets.length) throw refused('some partitions are no longer assigned');
    },

    quarantined(record) {
      const guard = guards.get(keyOf(record))?.guard;
      const poison = guard === undefined ? undefined : poisonAt(guard, record.offset);
      if (poison === undefined) return undefined;
      return new NotifierError('POISON_RECORD', poisonReason(poison), {
        details: { deaths: poison.deaths, lastAttemptAt: new Date(poison.diedAfter).toISOString() },
      });
    },

    async stop() {
      stopping.abort(new Error('source stopping'));
      await background;
      // A clean stop is no death: leave the markers without a member (or none), so the next owner
      // does not count this one.
      await send(() =>
        [...guards.values()].flatMap(({ tp, guard }) => {
          const now = committedAt.get(keyOf(tp));
          if (!assigned.has(keyOf(tp)) || now === undefined || now.metadata === null) return [];
          return [{ ...tp, offset: now.offset, metadata: stopMetadata(guard, now.offset) }];
        }),
      ).catch((error: unknown) =>
        logger.warn({ error: describeError(error) }, 'could not clear the poison markers on stop'),
      );
      await markerAdmin?.disconnect().catch(() => {});
      await consumer.disconnect();
    },
  };

  /**
   * Polls until every topic exists (true) or the source is stopped (false), logging about once a
   * minute: retrying() at the poll interval, a topic still missing being the failure it waits out.
   */
  async function waitForTopics(admin: Admin): Promise<boolean> {
    const pollMs = opts.topicPollIntervalMs ?? 2000;
    const logEveryMs = opts.topicWaitLogIntervalMs ?? 60_000;
    const since = waiting?.since ?? clock.now();
    let loggedAt = clock.now();
    const sleep = (ms: number): Promise<void> => clock.sleep(ms, stopping.signal);
    const lookUp = async (): Promise<void> => {
      const missing = await missingTopics(admin, opts.topics);
      if (missing.length === 0) return;
      waiting = { topics: missing, since };
      if (clock.now() - loggedAt >= logEveryMs) {
        loggedAt = clock.now();
        logger.warn(
          { topics: missing, waitedMs: clock.now() - since },
          `still waiting for topic(s) to exist: ${missing.join(', ')}`,
        );
      }
      throw new TopicsMissing(missing);
    };
    try {
      await sleep(pollMs); // start() has just looked
      await retrying(lookUp, {
        policy: pollPolicy(pollMs),
        random: Math.random,
        sleep,
        onRetry: (error) => {
          // The broker may be restarting: keep waiting, kafkajs reconnects.
          if (!(error instanceof TopicsMissing))
            logger.warn({ error }, 'looking for the topics failed; still waiting');
        },
      });
    } catch {
      return false; // stopped while waiting (only a sleep ends the retries)
    }
    logger.info({ topics: opts.topics, waitedMs: clock.now() - since }, 'topic(s) exist now: consuming');
    waiting = undefined;
    return true;
  }

  /** Subscribes and starts the runner; topics in `fromStart` begin at their start when the group has no offset. */
  async function subscribeAndRun(handlers: SourceHandlers, fromStart: readonly string[]): Promise<void> {
    const rest = opts.topics.filter((t) => !fromStart.includes(t));
    if (rest.length > 0)
      await consumer.subscribe({ topics: rest, fromBeginning: opts.fromBeginning ?? false });
    if (fromStart.length > 0) await consumer.subscribe({ topics: [...fromStart], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: opts.partitionsConsumedConcurrently ?? 4,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        const { topic, partition } = batch;
        const tp = { topic, partition };
        let taken: string | undefined;
        const hand = (messages: KafkaMessage[]): Promise<void> =>
          handlers.onBatch({
            topic,
            partition,
            highWatermark: batch.highWatermark,
            records: messages.map((m) => toSourceRecord(topic, partition, m)),
            take: (offset) => {
              taken = offset;
              resolveOffset(offset);
            },
            heartbeat,
            isActive: () => isRunning() && !isStale(),
          });
        try {
          const first = batch.messages[0];
          if (first !== undefined) await gate(tp, first.offset);
          const entry = guards.get(keyOf(tp));
          const guard = entry?.guard;
          if (entry === undefined || guard === undefined || guard.careful === 0) {
            await hand(batch.messages);
            return;
          }
          // Careful mode: one record at a time, each after a commit saying which one is in hand.
          for (const [i, message] of batch.messages.entries()) {
            if (guard.careful === 0) {
              await hand(batch.messages.slice(i));
              return;
            }
            if (!isRunning() || isStale()) return;
            try {
              await send(() => {
                const at = markerOffset(tp, entry.floor);
                return [{ ...tp, offset: at, metadata: startProbe(guard, message.offset, at) }];
              });
            } catch (error) {
              // Without the probe commit a death here would name nothing: leave it for the next fetch.
              logger.warn({ topic, partition, error: describeError(error) }, 'probe commit failed');
              return;
            }
            taken = undefined;
            await hand([message]);
            if (taken !== message.offset) return;
            if (probePassed(guard)) {
              logger.info(
                { topic, partition, through: message.offset },
                'careful mode ended: no record killed the process',
              );
              await send(() => {
                const at = markerOffset(tp, entry.floor);
                return [{ ...tp, offset: at, metadata: commitMetadata(guard, at) }];
              }).catch(() => {});
            }
          }
        } catch (error) {
          // The handler decides per record and never throws; what slips through asks the error table.
          // A transient failure leaves the records not taken to the next fetch (kafkajs fetches from
          // the last taken offset); anything else stops: the source can neither dead-letter a record
          // nor go on without one.
          if (dispositionOf(error) === 'retry') {
            logger.warn(
              { topic, partition, error: describeError(error) },
              'batch handler failed transiently; the records not taken are fetched again',
            );
            return;
          }
          logger.error({ topic, partition, error }, 'batch handler threw; stopping instead of looping');
          handlers.onCrash(error, false);
        }
      },
    });
  }
}

/** What the quarantine reads once per assignment: committed offsets with their metadata, and who is a member. */
interface GroupFacts {
  committed: Map<string, { offset: string; metadata: string | null }>;
  members: Set<string>;
}

/** A look-up that found topics still missing: what waitForTopics retries. */
class TopicsMissing extends Error {
  readonly topics: string[];
  constructor(topics: string[]) {
    super(`topic(s) missing: ${topics.join(', ')}`);
    this.topics = topics;
  }
}

/** The topics among `topics` that the cluster does not have (yet). */
async function missingTopics(admin: Admin, topics: readonly string[]): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  return topics.filter((t) => !existing.has(t));
}
