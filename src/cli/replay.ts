/**
 * `listing-notifier replay --config FILE (--to-datetime ISO8601 | --to-earliest | --to-latest |
 * --by-duration 1h30m) [--topic T]... [--dry-run]`: resets the consumer group's committed offsets so
 * that the service, once started again, re-reads (or skips) records. Prints, per partition, the
 * committed offset, the new one and how many records that replays or skips.
 *
 * Uses source.brokers (KAFKA_BROKERS overrides), source.groupId, source.clientId and source.topics
 * (--topic replaces them). kafkajs can only set the offsets of a group without running members, so a
 * group with members is refused: stop the service first. --dry-run prints the plan and changes nothing.
 *
 * Exit codes: 0 done (or dry run); 1 Kafka error or a group with members; 2 usage or configuration error.
 */
import { parseArgs } from 'node:util';
import { createLogger } from '../adapters/logger.ts';
import {
  changes,
  describeTarget,
  formatPlanLine,
  formatSummary,
  type PartitionPlan,
  parseDateTime,
  parseDuration,
  planTopic,
  type ReplayTarget,
  targetTimestamp,
} from '../app/replay.ts';
import { loadCommandConfig } from './command-context.ts';
import type { CliIo } from './io.ts';

const usage =
  'usage: listing-notifier replay --config FILE (--to-datetime ISO8601 | --to-earliest | --to-latest | --by-duration 1h30m) [--topic T]... [--dry-run]';

export const help = `${usage}

Resets the consumer group's committed offsets (source.groupId) so that the service, once started
again, re-reads (or skips) records. Prints, per partition, \`topic[p]: committed -> new (replays N
records)\` (or skips N) and a summary. kafkajs can only set the offsets of a group without running
members: stop the service first.

Options:
  -c, --config FILE        the rules file (required): source.brokers, groupId, clientId, topics
      --to-datetime ISO    the first record at or after this time (with a zone: 2025-01-31T09:00:00Z)
      --to-earliest        the first record still kept
      --to-latest          the end (skip everything not yet read)
      --by-duration D      the first record at or after now - D (1h30m; units d, h, m, s)
      --topic T            a topic instead of source.topics (repeatable)
      --dry-run            print the plan and change nothing
  -h, --help               this text
Exactly one of --to-datetime, --to-earliest, --to-latest, --by-duration.

Environment: KAFKA_BROKERS replaces source.brokers; LOG_LEVEL (default warn) for kafkajs's lines.

Exit codes:
  0  done, or dry run
  2  usage or configuration error, or a --topic that does not exist
  1  Kafka error, or a group with running members`;

export interface ReplayArgs {
  config: string;
  target: ReplayTarget;
  /** Topics from --topic; undefined means source.topics. */
  topics: string[] | undefined;
  dryRun: boolean;
}

const modes = ['--to-datetime', '--to-earliest', '--to-latest', '--by-duration'] as const;

export function parseReplayArgs(argv: string[]): ReplayArgs | { help: true } | { error: string } {
  let values: {
    config?: string;
    'to-datetime'?: string;
    'to-earliest'?: boolean;
    'to-latest'?: boolean;
    'by-duration'?: string;
    topic?: string[];
    'dry-run'?: boolean;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        config: { type: 'string', short: 'c' },
        'to-datetime': { type: 'string' },
        'to-earliest': { type: 'boolean' },
        'to-latest': { type: 'boolean' },
        'by-duration': { type: 'string' },
        topic: { type: 'string', multiple: true },
        'dry-run': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    // node:util names the option (ERR_PARSE_ARGS_UNKNOWN_OPTION, ..._INVALID_OPTION_VALUE, ...).
    return { error: error instanceof Error ? error.message : String(error) };
  }
  if (values.help) return { help: true };
  if (values.config === undefined || values.config === '') return { error: '--config: missing FILE' };

  const given = modes.filter((flag) => values[flag.slice(2) as keyof typeof values] !== undefined);
  if (given.length !== 1) {
    return {
      error:
        given.length === 0
          ? `missing target: give one of ${modes.join(', ')}`
          : `give only one of ${modes.join(', ')}; got ${given.join(' and ')}`,
    };
  }
  let target: ReplayTarget;
  const datetime = values['to-datetime'];
  const duration = values['by-duration'];
  if (datetime !== undefined) {
    const ms = parseDateTime(datetime);
    if (ms === null) {
      return {
        error: `--to-datetime: expected an ISO 8601 date-time with a zone (e.g. 2025-01-31T09:00:00Z), got ${JSON.stringify(datetime)}`,
      };
    }
    target = { kind: 'datetime', ms, text: datetime };
  } else if (duration !== undefined) {
    const ms = parseDuration(duration);
    if (ms === null) {
      return {
        error: `--by-duration: expected a positive duration like 1h30m (units d, h, m, s), got ${JSON.stringify(duration)}`,
      };
    }
    target = { kind: 'duration', ms, text: duration };
  } else {
    target = { kind: values['to-earliest'] ? 'earliest' : 'latest' };
  }
  const emptyTopic = values.topic?.find((t) => t.trim() === '');
  if (emptyTopic !== undefined)
    return { error: `--topic: expected a topic name, got ${JSON.stringify(emptyTopic)}` };
  return { config: values.config, target, topics: values.topic, dryRun: values['dry-run'] ?? false };
}

export async function run(argv: string[], io: CliIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const args = parseReplayArgs(argv);
  if ('help' in args) {
    io.stdout(help);
    return 0;
  }
  if ('error' in args) {
    io.stderr(`${args.error}\n${usage}`);
    return 2;
  }
  const loaded = await loadCommandConfig(args.config, env);
  if ('error' in loaded) {
    io.stderr(loaded.error);
    return 2;
  }
  const { config, connections } = loaded;
  const { brokers, clientId, groupId } = config.source;
  const topics = args.topics ?? config.source.topics;
  const topicSource = args.topics === undefined ? 'source.topics' : '--topic';
  // The one clock read: the edge owns time, the plan does not.
  const nowMs = Date.now();

  // kafkajs's own warnings go to stderr as JSON; stdout stays the plan.
  const logger = createLogger({
    level: env.LOG_LEVEL ?? 'warn',
    destination: process.stderr,
    secrets: connections.secrets,
  });
  // Imported here so that a usage error does not pay for kafkajs.
  const { connectReplayAdmin } = await import('../adapters/kafka-replay.ts');
  let admin: Awaited<ReturnType<typeof connectReplayAdmin>> | undefined;
  try {
    admin = await connectReplayAdmin({ brokers, clientId, logger, security: connections.kafka });
    const group = await admin.group(groupId);
    const busy = `stop the service first: ${group.members} member${group.members === 1 ? '' : 's'} in group ${groupId} (state ${group.state}); kafkajs can only set the offsets of an empty group`;
    if (group.members > 0 && !args.dryRun) {
      io.stderr(`listing-notifier replay: ${busy}`);
      return 1;
    }
    for (const topic of topics) {
      if (!(await admin.topicExists(topic))) {
        io.stderr(`${topicSource}: no topic ${JSON.stringify(topic)} on ${brokers.join(',')}`);
        return 2;
      }
    }

    io.stdout(`group ${groupId}: reset to ${describeTarget(args.target, nowMs)}`);
    const timestamp = targetTimestamp(args.target, nowMs);
    const plans: PartitionPlan[] = [];
    for (const topic of topics) {
      const [watermarks, committed, byTimestamp] = await Promise.all([
        admin.watermarks(topic),
        admin.committed(groupId, topic),
        timestamp === null ? Promise.resolve(undefined) : admin.offsetsAt(topic, timestamp),
      ]);
      plans.push(...planTopic({ topic, target: args.target, watermarks, committed, byTimestamp }));
    }
    for (const plan of plans) io.stdout(formatPlanLine(plan));
    io.stdout(formatSummary(plans));

    if (args.dryRun) {
      if (group.members > 0) io.stderr(`listing-notifier replay: note: ${busy}`);
      io.stdout('dry run: nothing changed');
      return 0;
    }
    for (const topic of topics) {
      const partitions = plans
        .filter((p) => p.topic === topic && changes(p))
        .map(({ partition, target }) => ({ partition, offset: target }));
      if (partitions.length > 0) await admin.setOffsets(groupId, topic, partitions);
    }
    io.stdout(
      plans.some(changes)
        ? `group ${groupId}: offsets set; the service resumes from them when started`
        : `group ${groupId}: nothing to change`,
    );
    return 0;
  } catch (error) {
    io.stderr(
      `listing-notifier replay: Kafka error: ${error instanceof Error ? error.message : String(error)}`,
    );
    return 1;
  } finally {
    await admin?.close().catch(() => undefined);
  }
}
