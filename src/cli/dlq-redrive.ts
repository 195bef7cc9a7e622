/**
 * `listing-notifier dlq redrive`: walks each dead-letter partition from the progress group's committed
 * offset (the earliest kept record when it has none) to the end as it was when the walk began. Per
 * letter: today's pipeline decides (planRedrive); a delivery goes through a delivery scheduler paced
 * by config.delivery, marked late; once the letter is dealt with its offset is committed, before the
 * next letter is read. A letter left for later (filters, a new failure) stops its partition there,
 * since a committed offset cannot step over it without passing it for good.
 *
 * Delivers through the same composition as `run` (src/delivery-root.ts, createRedriveDeliverer): a
 * Teams or webhook letter goes to its Teams or webhook channel. Depends on delivery only through
 * `deliver(message, signal)`; builds no destination or scheduler of its own.
 */
import { tokenFromEnv } from '../app/env.ts';
import type { Connections } from '../config/connections.ts';
import type { Config } from '../config/index.ts';
import type { DestinationsOptions } from '../delivery-root.ts';
import { exitCodeOf, isNotifierError } from '../domain/errors.ts';
import { createPipeline } from '../pipeline/index.ts';
import { markLate } from '../pipeline/late.ts';
import type {
  Clock,
  Deliverer,
  FetchedRecord,
  Logger,
  SchemaRegistryPort,
  TopicReader,
} from '../ports/index.ts';
import {
  type DeadLetter,
  deadLetterTopics,
  hasFilter,
  lacksValue,
  matchesFilter,
  originalRecord,
  originalTimeMs,
  parseDeadLetter,
  parseReroutes,
  planRedrive,
} from './dead-letters.ts';
import type { DlqArgs } from './dlq-args.ts';
import type { CliIo } from './io.ts';
import { safeJson, safeText } from './safe-text.ts';

/** The narrow delivery shape redrive needs: one message, no folding. */
export type Deliver = Pick<Deliverer, 'deliver'>;

export type RedriveAction =
  | 'redriven'
  | 'dropped'
  | 'skipped-unmatched'
  | 'skipped-failing'
  | 'left-unmatched'
  | 'left-failing'
  /** A letter without its value whose original record the source topic no longer holds: left. */
  | 'left-unretained'
  /** Ctrl-C while it was being delivered: not committed, the next redrive takes it. */
  | 'interrupted'
  | 'would-redrive';

export interface RedriveLine {
  id: string;
  action: RedriveAction;
  reason?: string;
  channels?: string[];
}

const dealtWith = new Set<RedriveAction>(['redriven', 'dropped', 'skipped-unmatched', 'skipped-failing']);

function formatLine(line: RedriveLine): string {
  const channels =
    line.channels === undefined ? '' : ` -> ${line.channels.map((c) => safeText(c)).join(', ')}`;
  const reason = line.reason === undefined ? '' : `: ${safeText(line.reason, 300)}`;
  return `${line.action.padEnd(17)} ${line.id}${channels}${reason}`;
}

export interface RedriveInput {
  args: DlqArgs;
  config: Config;
  /** The secured connections the config names (the schema registry's credentials). */
  connections: Connections;
  reader: TopicReader;
  io: CliIo;
  env: NodeJS.ProcessEnv;
  clock: Clock;
  logger: Logger;
  signal?: AbortSignal;
  /** Tests may pass their own; default the destinations and delivery scheduler `run` uses. */
  deliverer?: Deliver;
  /** Instead of the Slack client and the global fetch under the default deliverer (tests). */
  adapters?: Pick<DestinationsOptions, 'slack' | 'fetch'>;
}

export async function redrive(input: RedriveInput): Promise<number> {
  const { args, config, reader, io, clock, logger, signal } = input;
  const group = args.group ?? `${config.source.groupId}-dlq-redrive`;
  const reroutes = parseReroutes(args.reroute, config);
  if ('error' in reroutes) {
    io.stderr(reroutes.error);
    return 2;
  }
  let deliverer = input.deliverer;
  if (!args.dryRun && deliverer === undefined) {
    let token: string;
    try {
      token = tokenFromEnv(config, input.env);
    } catch (error) {
      io.stderr(isNotifierError(error) ? error.message : String(error));
      return 2;
    }
    try {
      const { createRedriveDeliverer } = await import('../delivery-root.ts');
      deliverer = await createRedriveDeliverer({
        config,
        token,
        env: input.env,
        clock,
        logger,
        ...input.adapters,
      });
    } catch (error) {
      if (isNotifierError(error) && error.code === 'CONFIG_INVALID') {
        io.stderr(`listing-notifier dlq redrive: ${error.message}`);
        return exitCodeOf(error);
      }
      io.stderr(
        `listing-notifier dlq redrive: Slack: ${error instanceof Error ? error.message : String(error)}`,
      );
      return 1;
    }
  }
  const members = await reader.members(group);
  if (members > 0 && !args.dryRun) {
    io.stderr(
      `listing-notifier dlq redrive: group ${group} has ${members} member(s): another redrive is running`,
    );
    return 1;
  }
  let registry: SchemaRegistryPort | undefined;
  if (config.source.registryUrl !== null) {
    const { createSchemaRegistry } = await import('../adapters/schema-registry.ts');
    registry = createSchemaRegistry({ host: config.source.registryUrl, ...input.connections.registry });
  }
  const pipeline = createPipeline(config, registry === undefined ? {} : { registry });
  const filtered = hasFilter(args.filter);
  const counts = new Map<RedriveAction, number>();
  const emit = (line: RedriveLine): void => {
    counts.set(line.action, (counts.get(line.action) ?? 0) + 1);
    io.stdout(args.json ? safeJson(line) : formatLine(line));
  };

  /**
   * The record to run through today's pipeline: the letter's own bytes, or, for a letter written
   * without its value (a null value is never a tombstone here: the pipeline drops tombstones, so none
   * is ever dead-lettered), the original record read back by its coordinates.
   */
  const originalOf = async (letter: DeadLetter): Promise<FetchedRecord> => {
    if (!lacksValue(letter)) return { kind: 'found', record: originalRecord(letter) };
    if (letter.original === null)
      return {
        kind: 'gone',
        reason: 'the letter holds no value and no dlq.original.* coordinates to read it back from',
      };
    const { topic, partition, offset } = letter.original;
    return reader.fetchRecord(topic, partition, offset);
  };

  const handle = async (letter: DeadLetter): Promise<RedriveLine> => {
    const { id } = letter;
    if (filtered && !matchesFilter(letter, args.filter))
      return args.skipUnmatched
        ? { id, action: 'skipped-unmatched', reason: 'does not match the filters' }
        : { id, action: 'left-unmatched', reason: 'does not match the filters; this partition stops here' };
    const source = await originalOf(letter);
    if (source.kind === 'gone')
      return args.skipFailing
        ? { id, action: 'skipped-failing', reason: source.reason }
        : { id, action: 'left-unretained', reason: `${source.reason}; this partition stops here` };
    const outcome = await pipeline.process(source.record);
    const plan = planRedrive(letter, outcome, reroutes);
    if (plan.kind === 'drop') return { id, action: 'dropped', reason: plan.reason };
    const failing = (reason: string): RedriveLine =>
      args.skipFailing
        ? { id, action: 'skipped-failing', reason }
        : { id, action: 'left-failing', reason: `${reason}; this partition stops here` };
    if (plan.kind === 'still-failing') return failing(`still fails: ${plan.reason}`);
    const channels = plan.messages.map((m) => m.channel);
    if (args.dryRun || deliverer === undefined) return { id, action: 'would-redrive', channels };
    const mark = {
      originalMs: originalTimeMs(letter, outcome),
      redrivenAtMs: clock.now(),
      timeZone: config.timeZone,
    };
    const results = await Promise.all(
      plan.messages.map((m) =>
        deliverer.deliver({ channel: m.channel, payload: markLate(m.payload, mark) }, signal),
      ),
    );
    const failed = results.flatMap((r, i) =>
      r.ok ? [] : [`${channels[i]}: ${r.error.code}: ${r.error.message}`],
    );
    if (failed.length > 0) return { ...failing(`delivery failed again: ${failed.join('; ')}`), channels };
    return { id, action: 'redriven', channels };
  };

  for (const topic of deadLetterTopics(config, args.topics)) {
    if (signal?.aborted) break;
    if (!(await reader.topicExists(topic))) {
      io.stderr(`${topic}: no such topic (no record has been dead-lettered there yet)`);
      continue;
    }
    const [marks, committed] = await Promise.all([reader.watermarks(topic), reader.committed(group, topic)]);
    const ranges = marks.map(({ partition, low, high }) => {
      const at = committed.find((c) => c.partition === partition)?.offset ?? '-1';
      const from = BigInt(at) < BigInt(low) ? low : at;
      return { partition, from, to: high };
    });
    await reader.read({
      topic,
      ranges,
      // A dry run must not move the progress group: it reads through a throw-away one.
      ...(args.dryRun ? {} : { groupId: group }),
      ...(signal === undefined ? {} : { signal }),
      onRecord: async (record, control) => {
        const letter = parseDeadLetter(record);
        const line = await handle(letter).catch((error: unknown): RedriveLine => {
          // Interrupted while delivering: the letter is not committed; the next redrive takes it.
          if (signal?.aborted) return { id: letter.id, action: 'interrupted', reason: 'not committed' };
          throw error;
        });
        emit(line);
        if (dealtWith.has(line.action)) {
          if (!args.dryRun) await control.commit();
        } else if (line.action !== 'would-redrive') control.stopPartition();
      },
    });
  }
  const summary = [...counts].map(([action, n]) => `${action} ${n}`).join(', ') || 'nothing to redrive';
  const note = args.dryRun ? ' (dry run: nothing delivered or committed)' : '';
  const interrupted = signal?.aborted ? ' (interrupted: the rest is left for the next redrive)' : '';
  io.stderr(`group ${group}: ${summary}${note}${interrupted}`);
  const left = (counts.get('left-failing') ?? 0) + (counts.get('left-unretained') ?? 0);
  return left > 0 || signal?.aborted ? 1 : 0;
}
