/**
 * The arguments of `listing-notifier dlq list|show|redrive` (their meaning: dlq.ts `help`), parsed and
 * checked; `dlq redrive` (dlq-redrive.ts) reads them too, so they live apart from the command.
 */
import { parseArgs } from 'node:util';
import { parseWhen, whenHelp } from './command-context.ts';
import { type DeadLetterFilter, parseId } from './dead-letters.ts';

export interface DlqArgs {
  action: 'list' | 'show' | 'redrive';
  config: string;
  topics: string[] | undefined;
  filter: DeadLetterFilter;
  /** list */
  limit: number;
  /** show */
  ids: string[];
  group: string | undefined;
  /** --reroute FROM=TO pairs, resolved against the config when it is loaded. */
  reroute: string[];
  dryRun: boolean;
  skipUnmatched: boolean;
  skipFailing: boolean;
  json: boolean;
}

const actions = ['list', 'show', 'redrive'] as const;

const dlqOptions = {
  config: { type: 'string', short: 'c' },
  topic: { type: 'string', multiple: true },
  code: { type: 'string', multiple: true },
  channel: { type: 'string', multiple: true },
  since: { type: 'string' },
  until: { type: 'string' },
  limit: { type: 'string' },
  group: { type: 'string' },
  reroute: { type: 'string', multiple: true },
  'dry-run': { type: 'boolean' },
  'skip-unmatched': { type: 'boolean' },
  'skip-failing': { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

export function parseDlqArgs(argv: string[], nowMs: number): DlqArgs | { error: string } {
  const [action, ...rest] = argv;
  if (!actions.includes(action as DlqArgs['action']))
    return { error: `expected list, show or redrive, got ${JSON.stringify(action ?? '')}` };
  let parsed: ReturnType<
    typeof parseArgs<{ options: typeof dlqOptions; strict: true; allowPositionals: true }>
  >;
  try {
    parsed = parseArgs({
      args: rest,
      strict: true,
      allowPositionals: action === 'show',
      options: dlqOptions,
    });
  } catch (error) {
    return { error: (error as Error).message };
  }
  const { values, positionals } = parsed;
  if (values.config === undefined || values.config === '') return { error: '--config: missing FILE' };
  const onlyFor = (flags: string[], allowed: DlqArgs['action'][]) =>
    flags.find(
      (f) => values[f as keyof typeof values] !== undefined && !allowed.includes(action as DlqArgs['action']),
    );
  const misplaced =
    onlyFor(['code', 'channel', 'since', 'until'], ['list', 'redrive']) ??
    onlyFor(['limit'], ['list']) ??
    onlyFor(['group', 'reroute', 'dry-run', 'skip-unmatched', 'skip-failing'], ['redrive']);
  if (misplaced !== undefined) return { error: `--${misplaced}: not an option of dlq ${action}` };

  const filter: DeadLetterFilter = {};
  if (values.code !== undefined) filter.codes = values.code;
  if (values.channel !== undefined) filter.channels = values.channel;
  for (const key of ['since', 'until'] as const) {
    const text = values[key];
    if (text === undefined) continue;
    const ms = parseWhen(text, nowMs);
    if (ms === null) return { error: `--${key}: expected ${whenHelp}, got ${JSON.stringify(text)}` };
    filter[key === 'since' ? 'sinceMs' : 'untilMs'] = ms;
  }
  const limit = values.limit === undefined ? 100 : Number(values.limit);
  if (!Number.isSafeInteger(limit) || limit < 1)
    return { error: `--limit: expected a positive whole number, got ${JSON.stringify(values.limit)}` };
  if (action === 'show') {
    if (positionals.length === 0) return { error: 'missing ID (topic:partition:offset, as dlq list prints)' };
    const bad = positionals.find((id) => parseId(id) === null);
    if (bad !== undefined)
      return { error: `expected an ID like my.topic.dlq:0:17, got ${JSON.stringify(bad)}` };
  }
  return {
    action: action as DlqArgs['action'],
    config: values.config,
    topics: values.topic,
    filter,
    limit,
    ids: positionals,
    group: values.group,
    reroute: values.reroute ?? [],
    dryRun: values['dry-run'] ?? false,
    skipUnmatched: values['skip-unmatched'] ?? false,
    skipFailing: values['skip-failing'] ?? false,
    json: values.json ?? false,
  };
}
