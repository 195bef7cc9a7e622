/**
 * `listing-notifier mute list|add|remove --config FILE ...`: the running service's mutes (issue 17,
 * item 2) from a terminal, for people without Slack's interactivity switched on. The mutes live in the
 * shared store (store.url, Redis), which every replica reads; without one they live in the service's
 * own process, out of this command's reach, and it says so (exit 2).
 *
 * Exit codes: 0 done; 2 usage or configuration (no store.url, a bad duration, an unknown rule or
 * channel, no such mute to remove); 1 store failure.
 */
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import type { Connections } from '../config/connections.ts';
import type { Config } from '../config/index.ts';
import { exitCodes } from '../domain/errors.ts';
import { byName, isoTime, muteSubject, newMute, parseMuteDuration, type StoredMute } from '../domain/mute.ts';
import { ruleName } from '../pipeline/route.ts';
import type { Clock } from '../ports/index.ts';
import type { MuteStore } from '../ports/mutes.ts';
import { openCommandStore, startCommand } from './command-context.ts';
import type { CliIo } from './io.ts';
import { safeJson, safeText } from './safe-text.ts';

const usage = `usage: listing-notifier mute list   --config FILE [--listing ID] [--rule NAME] [--channel KEY] [--json]
       listing-notifier mute add    --config FILE (--listing ID | --rule NAME) [--channel KEY] [--for 24h]
                                    [--by NAME] [--reason TEXT] [--json]
       listing-notifier mute remove --config FILE ID... [--json]`;

export const help = `${usage}

The running service's mutes: a muted listing's changes (or a muted rule's messages) are dropped with
the reason "muted: by @NAME until TIME" until the mute ends by itself. They live in the shared store
(store.url), so every replica honours them (within 2 s of a change) and this command reaches them;
without a store they live in the service's own process, where this command cannot reach them.

  list     the mutes in force, one a line (id, what, until, who, why); --listing, --rule and
           --channel show only the mutes that apply to that listing, rule or channel
  add      mute a listing (--listing, in every channel unless --channel) or a rule (--rule, by its
           name in the rules file); prints the new mute's id
  remove   end the mutes with these ids now

Options:
  -c, --config FILE     the rules file (required): store.url, store.keyPrefix, rules' names, channels
      --listing ID      the listing (its primary key, as messages show it)
      --rule NAME       a rule's name (its "name", or "rule N" for an unnamed one)
      --channel KEY     a channel key of the rules file's \`channels\`; add: only there (default: everywhere)
      --for DURATION    add: how long, a whole number and m, h or d (30m, 1h, 24h, 7d; at most 90d;
                        default 24h)
      --by NAME         add: who mutes (default: the OS user running this)
      --reason TEXT     add: why, shown with the mute (default: none)
      --json            one JSON object per line instead of text
  -h, --help            this text

Exit codes:
  0  done
  2  usage or configuration error (no store.url, a bad duration, an unknown rule or channel, no such
     mute to remove)
  1  store failure (Redis unreachable or failing)`;

type Sub = 'list' | 'add' | 'remove';

export interface MuteArgs {
  sub: Sub;
  config: string;
  listing?: string;
  rule?: string;
  channel?: string;
  forMs: number;
  by?: string;
  reason?: string;
  json: boolean;
  ids: string[];
}

const stringOptions = ['config', 'listing', 'rule', 'channel', 'for', 'by', 'reason'] as const;

export function parseMuteArgs(argv: string[]): MuteArgs | { error: string } {
  const [sub, ...rest] = argv;
  if (sub !== 'list' && sub !== 'add' && sub !== 'remove')
    return { error: `expected the subcommand list, add or remove, got ${JSON.stringify(sub ?? '')}` };
  let values: Partial<Record<(typeof stringOptions)[number], string>> & { json?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: rest,
      strict: true,
      allowPositionals: sub === 'remove',
      options: {
        config: { type: 'string', short: 'c' },
        listing: { type: 'string' },
        rule: { type: 'string' },
        channel: { type: 'string' },
        for: { type: 'string' },
        by: { type: 'string' },
        reason: { type: 'string' },
        json: { type: 'boolean' },
      },
    }));
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
  for (const name of stringOptions)
    if (values[name] === '') return { error: `--${name}: empty (give a value or leave the option out)` };
  if (values.config === undefined) return { error: '--config: missing FILE' };
  const only = (names: readonly (typeof stringOptions)[number][], what: string): string | undefined => {
    const extra = names.find((n) => values[n] !== undefined);
    return extra === undefined ? undefined : `--${extra}: only with ${what}`;
  };
  const notHere =
    sub === 'list'
      ? only(['for', 'by', 'reason'], 'mute add')
      : sub === 'remove'
        ? only(['listing', 'rule', 'channel', 'for', 'by', 'reason'], 'mute add or list')
        : undefined;
  if (notHere !== undefined) return { error: notHere };
  if (sub === 'remove' && positionals.length === 0)
    return { error: 'mute remove: missing ID (see mute list)' };
  if (sub === 'add' && (values.listing === undefined) === (values.rule === undefined))
    return { error: '--listing or --rule: give exactly one (a mute is of a listing or of a rule)' };
  const duration = parseMuteDuration(values.for ?? '24h');
  if ('error' in duration) return { error: `--for: ${duration.error}` };
  return {
    sub,
    config: values.config,
    forMs: duration.ms,
    json: values.json === true,
    ids: positionals,
    ...(values.listing === undefined ? {} : { listing: values.listing }),
    ...(values.rule === undefined ? {} : { rule: values.rule }),
    ...(values.channel === undefined ? {} : { channel: values.channel }),
    ...(values.by === undefined ? {} : { by: values.by }),
    ...(values.reason === undefined ? {} : { reason: values.reason }),
  };
}

/** A mute store the command opens and closes (the Redis one; tests hand in the memory one). */
export interface OpenedMutes {
  mutes: MuteStore;
  close(): Promise<void>;
}

export interface MuteDeps {
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
  /** Default: the Redis mute store at store.url. */
  openMutes?: (config: Config, connections: Connections, url: string) => Promise<OpenedMutes>;
  /** Who --by defaults to. Default: the OS user. */
  user?: () => string;
}

/** This command's exit codes, from the table every command shares (src/domain/errors.ts). */
const { stopped: ok, config: usageError, failed } = exitCodes;

/** The Redis mute store at store.url, as this command and `explain` open it. */
export async function openRedisMutes(
  config: Config,
  connections: Connections,
  url: string,
): Promise<OpenedMutes> {
  const store = await openCommandStore(config, connections, url);
  return { mutes: store.mutes, close: () => store.close() };
}

const osUser = (): string => {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
};

export async function run(argv: string[], io: CliIo, deps: MuteDeps = {}): Promise<number> {
  const started = await startCommand(argv, io, deps, usage, parseMuteArgs);
  if ('exit' in started) return started.exit;
  const { args, config, connections, clock } = started;
  const url = config.store.url;
  if (url === null) {
    io.stderr(
      "store.url: null; mutes need the shared store (store.url, Redis) for this command to reach the running service's mutes. Without one they live in the service's own process: mute from the Slack message instead.",
    );
    return usageError;
  }
  const unknown = args.sub === 'add' ? unknownName(args, config) : undefined;
  if (unknown !== undefined) {
    io.stderr(unknown);
    return usageError;
  }
  let opened: OpenedMutes | undefined;
  try {
    opened = await (deps.openMutes ?? openRedisMutes)(config, connections, url);
    if (args.sub === 'list') return await list(args, opened.mutes, clock, io);
    if (args.sub === 'add') return await add(args, opened.mutes, clock, io, deps.user ?? osUser);
    return await remove(args, opened.mutes, io);
  } catch (error) {
    io.stderr(
      `listing-notifier mute: store error: ${error instanceof Error ? error.message : String(error)}`,
    );
    return failed;
  } finally {
    await opened?.close();
  }
}

/** A rule or channel the rules file does not have: a mute of it would silence nothing. */
function unknownName(args: MuteArgs, config: Config): string | undefined {
  const rules = config.rules.map(ruleName);
  if (args.rule !== undefined && !rules.includes(args.rule))
    return `--rule: no rule ${safeJson(args.rule)} in ${args.config} (rules: ${rules.map((r) => safeJson(r)).join(', ')})`;
  const channels = Object.keys(config.channels);
  if (args.channel !== undefined && !channels.includes(args.channel))
    return `--channel: no channel ${safeJson(args.channel)} in ${args.config} (channels: ${channels.map((c) => safeJson(c)).join(', ')})`;
  return undefined;
}

/** Whether the mute applies to what `mute list`'s filters name. */
const listed = (m: StoredMute, args: MuteArgs): boolean => {
  if (args.channel !== undefined && m.channel !== undefined && m.channel !== args.channel) return false;
  if (args.listing === undefined && args.rule === undefined) return true;
  return m.scope === 'listing' ? m.listingId === args.listing : m.rule === args.rule;
};

/** A mute as --json shows it: its fields, `until` as ISO time and `untilMs` as epoch ms. */
export const muteJson = (m: StoredMute): Record<string, unknown> => ({
  ...m,
  until: isoTime(m.until),
  untilMs: m.until,
});

/** "abc12345  listing 42 in sales-alerts  until 2026-01-02T00:00:00Z (in 24 h)  by @ana  bulk import" */
export function muteLine(m: StoredMute, now: number): string {
  const left = m.until - now;
  const inText =
    left >= 3_600_000 ? `${Math.round(left / 3_600_000)} h` : `${Math.max(1, Math.round(left / 60_000))} min`;
  const why = m.reason === undefined ? '' : `  ${safeText(m.reason, 200)}`;
  return `${safeText(m.id)}  ${safeText(muteSubject(m), 120)}  until ${isoTime(m.until)} (in ${inText})  by ${safeText(byName(m.by), 80)}${why}`;
}

async function list(args: MuteArgs, store: MuteStore, clock: Clock, io: CliIo): Promise<number> {
  const now = clock.now();
  const shown = (await store.list(now)).filter((m) => listed(m, args)).sort((a, b) => a.until - b.until);
  for (const m of shown) io.stdout(args.json ? safeJson(muteJson(m)) : muteLine(m, now));
  if (!args.json) io.stderr(`${shown.length} mute(s) in force`);
  return ok;
}

async function add(
  args: MuteArgs,
  store: MuteStore,
  clock: Clock,
  io: CliIo,
  user: () => string,
): Promise<number> {
  const mute = newMute({
    subject: args.listing !== undefined ? { listingId: args.listing } : { rule: args.rule ?? '' },
    by: args.by ?? user(),
    now: clock.now(),
    forMs: args.forMs,
    ...(args.channel === undefined ? {} : { channel: args.channel }),
    ...(args.reason === undefined ? {} : { reason: args.reason }),
  });
  const id = await store.add(mute);
  io.stdout(args.json ? safeJson(muteJson({ ...mute, id })) : muteLine({ ...mute, id }, clock.now()));
  return ok;
}

async function remove(args: MuteArgs, store: MuteStore, io: CliIo): Promise<number> {
  let exit: number = ok;
  for (const id of args.ids) {
    const removed = await store.remove(id);
    if (args.json) io.stdout(safeJson({ id, removed }));
    else if (removed) io.stdout(`removed ${safeText(id)}`);
    if (!removed) {
      io.stderr(`${safeText(id)}: no such mute (never was, removed, or ended)`);
      exit = usageError;
    }
  }
  return exit;
}
