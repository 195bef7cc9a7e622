/**
 * `listing-notifier dlq list|show|redrive`: the dead-letter topic for people. `list` and `show` only
 * read (a throw-away consumer group that never commits); `redrive` runs dead letters through today's
 * rules and delivers them marked as late, and its progress is a committed consumer group on the
 * dead-letter topic, so a redriven record is never redriven twice. See `help` below for the options
 * and the rules of the walk.
 */
import type { Config } from '../config/index.ts';
import type { Clock, TopicReader } from '../ports/index.ts';
import {
  commandLogger,
  interruptSignal,
  kafkaFailure,
  openReader,
  startCommand,
  whenHelp,
} from './command-context.ts';
import {
  type DeadLetter,
  deadLetterTopics,
  hasFilter,
  letterJson,
  listLine,
  matchesFilter,
  parseDeadLetter,
  parseId,
  resolveChannels,
  showLines,
} from './dead-letters.ts';
import { type DlqArgs, parseDlqArgs } from './dlq-args.ts';
import { redrive } from './dlq-redrive.ts';
import type { CliIo } from './io.ts';
import { safeJson } from './safe-text.ts';

const usage = `usage: listing-notifier dlq list    --config FILE [FILTERS] [--topic T]... [--limit N] [--json]
       listing-notifier dlq show    --config FILE ID... [--json]
       listing-notifier dlq redrive --config FILE [FILTERS] [--topic T]... [--group G] [--dry-run]
                                    [--reroute FROM=TO]... [--skip-unmatched] [--skip-failing] [--json]`;

export const help = `${usage}

The dead-letter topic (source.deadLetterTopic, default "<topic>.dlq" for each of source.topics) holds
records that could never succeed, with headers saying why (dlq.error.code, dlq.error.message,
dlq.channel, dlq.failed.at, dlq.original.{topic,partition,offset,timestamp}) and the original bytes.

  list     one line per dead letter: ID, failed at, code, channel, original record, message
  show     every header, the key and the value of the dead letters named by ID (topic:partition:offset)
  redrive  runs each dead letter through TODAY's rules and delivers it where "run" would (Slack, Teams
           or a webhook), marked as late ("Late delivery (redriven <when>): changed at <original
           time>"). A letter for one channel (dlq.channel) goes to that channel only (see --reroute).
           Records today's rules drop are dealt with too. A letter written without its value (a
           record of a digest that was refused, or one too large for the dead-letter topic) is
           redriven from its original record (dlq.original.*) while the source topic holds it;
           otherwise it is left uncommitted ("original record no longer retained").
           Progress is the consumer group --group on the dead-letter topic (committed per record), so
           a record is never redriven twice. The walk goes in offset order per partition and stops
           on a partition at a letter that does not match the filters (unless --skip-unmatched) or
           that fails again (unless --skip-failing): such a letter is left for a later redrive.
           Deliveries keep config.delivery's pace; 429s and transient failures are retried until
           Ctrl-C, which stops the walk and leaves the letter in flight uncommitted.

Filters (list, redrive):
  --code CODE        dlq.error.code (repeatable), e.g. SLACK_PERMANENT, DECODE_FAILED
  --channel CH       dlq.channel: a Slack channel (#name or id) or a channel key (repeatable)
  --since WHEN       failed at or after WHEN: ${whenHelp}
  --until WHEN       failed before WHEN

Options:
  -c, --config FILE      the rules file (required)
      --topic T          a dead-letter topic instead of the configured one(s) (repeatable)
      --limit N          list: show the last N matching letters; default 100
      --group G          redrive: the progress group; default "<source.groupId>-dlq-redrive"
      --reroute FROM=TO  redrive: a letter for channel FROM gets today's message for channel TO
                         (repeatable; for a channel replaced in the config since it failed)
      --dry-run          redrive: say what would happen; deliver and commit nothing
      --skip-unmatched   redrive: pass over letters that do not match the filters, for good
      --skip-failing     redrive: pass over letters that fail again, for good
      --json             one JSON object per line instead of text
  -h, --help             this text

Environment: the Slack token variable (slack.tokenEnv; redrive only), KAFKA_BROKERS, SLACK_API_URL,
LOG_LEVEL (unset: one "waiting for Kafka" line while a broker is unreachable; set: JSON log lines on
stderr at that level).

Exit codes:
  0  done (redrive: every letter reached was redriven, dropped by today's rules or skipped)
  2  usage or configuration error, an ID that names no record
  1  Kafka or Slack error, another redrive running on the group, or letters that failed again`;

export interface DlqDeps {
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
  /** Ends a redrive early; default SIGINT/SIGTERM. */
  signal?: AbortSignal;
}

export async function run(argv: string[], io: CliIo, deps: DlqDeps = {}): Promise<number> {
  const started = await startCommand(argv, io, deps, usage, parseDlqArgs);
  if ('exit' in started) return started.exit;
  const { args, config, connections, env, clock } = started;
  if (args.filter.channels !== undefined)
    args.filter.channels = resolveChannels(args.filter.channels, config);
  const logger = commandLogger(env, io);
  let reader: TopicReader | undefined;
  const interrupt = deps.signal === undefined ? interruptSignal() : undefined;
  const signal = deps.signal ?? interrupt?.signal;
  try {
    reader = await openReader(config, connections, logger, 'dlq');
    if (args.action === 'list') return await list(args, config, reader, io);
    if (args.action === 'show') return await show(args, reader, io);
    return await redrive({
      args,
      config,
      connections,
      reader,
      io,
      env,
      clock,
      logger,
      ...(signal ? { signal } : {}),
    });
  } catch (error) {
    return kafkaFailure(io, `dlq ${args.action}`, error);
  } finally {
    interrupt?.dispose();
    await reader?.close();
  }
}

/** Reads every letter of the topics (whole range), handing each to `each`. Missing topics are noted. */
export async function readLetters(
  reader: TopicReader,
  topics: string[],
  io: CliIo,
  each: (letter: DeadLetter) => void,
): Promise<void> {
  for (const topic of topics) {
    if (!(await reader.topicExists(topic))) {
      io.stderr(`${topic}: no such topic (no record has been dead-lettered there yet)`);
      continue;
    }
    const ranges = (await reader.watermarks(topic)).map((w) => ({
      partition: w.partition,
      from: w.low,
      to: w.high,
    }));
    await reader.read({ topic, ranges, onRecord: async (record) => each(parseDeadLetter(record)) });
  }
}

async function list(args: DlqArgs, config: Config, reader: TopicReader, io: CliIo): Promise<number> {
  const shown: DeadLetter[] = [];
  let total = 0;
  let matched = 0;
  await readLetters(reader, deadLetterTopics(config, args.topics), io, (letter) => {
    total += 1;
    if (!matchesFilter(letter, args.filter)) return;
    matched += 1;
    // Only the last `limit` are kept: a large dead-letter topic is read, not held.
    shown.push(letter);
    if (shown.length > args.limit) shown.shift();
  });
  for (const letter of shown) io.stdout(args.json ? safeJson(letterJson(letter, false)) : listLine(letter));
  const filtered = hasFilter(args.filter) ? `, ${matched} matching the filters` : '';
  const cut = shown.length < matched ? ` (the last ${shown.length}; see --limit)` : '';
  io.stderr(`${total} dead letter(s)${filtered}; shown ${shown.length}${cut}`);
  return 0;
}

async function show(args: DlqArgs, reader: TopicReader, io: CliIo): Promise<number> {
  const wanted = args.ids.map((id) => ({ id, ...(parseId(id) as NonNullable<ReturnType<typeof parseId>>) }));
  const found = new Map<string, DeadLetter>();
  for (const topic of new Set(wanted.map((w) => w.topic))) {
    if (!(await reader.topicExists(topic))) continue;
    const marks = await reader.watermarks(topic);
    const ranges = wanted
      .filter((w) => w.topic === topic)
      .flatMap((w) => {
        const mark = marks.find((m) => m.partition === w.partition);
        const inside =
          mark !== undefined && BigInt(w.offset) >= BigInt(mark.low) && BigInt(w.offset) < BigInt(mark.high);
        return inside
          ? [{ partition: w.partition, from: w.offset, to: (BigInt(w.offset) + 1n).toString() }]
          : [];
      });
    // One read per partition and offset: a range of one record each.
    for (const range of ranges)
      await reader.read({
        topic,
        ranges: [range],
        onRecord: async (record) => {
          const letter = parseDeadLetter(record);
          found.set(letter.id, letter);
        },
      });
  }
  let exit = 0;
  for (const { id } of wanted) {
    const letter = found.get(id);
    if (letter === undefined) {
      io.stderr(`${id}: no such record (wrong topic, partition or offset, or removed by retention)`);
      exit = 2;
      continue;
    }
    if (args.json) io.stdout(safeJson(letterJson(letter, true)));
    else for (const line of showLines(letter)) io.stdout(line);
  }
  return exit;
}
