/**
 * The one composition of delivery, shared by `run` (src/main.ts) and `dlq redrive`
 * (src/cli/dlq-redrive.ts): which destination a channel goes to (Slack, a Teams Workflows webhook, a
 * Standard Webhooks receiver: src/adapters/destinations.ts), Slack's token check, and the delivery
 * scheduler in front of them, built from config.delivery. Two roots that built these differently sent
 * a redriven Teams or webhook letter to Slack (issue 19, finding 3); both now come through here, and
 * only what a caller must differ in is an option (redrive: no flood control, so one late message is
 * never folded into a digest). Nothing else picks a destination or builds a scheduler.
 */
import { createRoutingDestination, missingDestinationEnv } from './adapters/destinations.ts';
import { createSlackChat } from './adapters/slack-chat.ts';
import type { Config } from './config/index.ts';
import type { FloodOptions } from './delivery/scheduler.ts';
import { createDeliveryScheduler, type DeliveryScheduler, floodOff } from './delivery/scheduler.ts';
import { NotifierError } from './domain/errors.ts';
import { createComposer } from './pipeline/compose.ts';
import { ruleName } from './pipeline/route.ts';
import type {
  ChatDestination,
  Clock,
  DeliveryLedger,
  Logger,
  Metrics,
  PaceGate,
  ThreadAnchors,
} from './ports/index.ts';

export type Destinations = ChatDestination & { authTest?: () => Promise<unknown> };

export interface DestinationsOptions {
  config: Config;
  /** The Slack bot token (process.env[config.slack.tokenEnv]); never logged. */
  token: string;
  /** Where Teams URLs and webhook URLs and secrets are read, by the names the channels give. */
  env: Readonly<Record<string, string | undefined>>;
  clock: Clock;
  logger: Logger;
  /** Instead of @slack/web-api on config.slack.apiUrl (tests). */
  slack?: Destinations;
  /** What Teams and webhook posts go through; default the global fetch (tests pass a fake). */
  fetch?: typeof fetch;
}

/**
 * Every channel's destination behind one port. Throws CONFIG_INVALID, naming the variables, when a
 * Teams or webhook channel's environment variable is unset: all there, or no start.
 */
export function createDestinations(opts: DestinationsOptions): Destinations {
  const { config } = opts;
  const missing = missingDestinationEnv(Object.values(config.channels), opts.env);
  if (missing.length > 0)
    throw new NotifierError(
      'CONFIG_INVALID',
      `channels need environment variables that are not set: ${missing.join(', ')}`,
    );
  return createRoutingDestination({
    slack:
      opts.slack ?? createSlackChat({ token: opts.token, apiUrl: config.slack.apiUrl, logger: opts.logger }),
    env: opts.env,
    clock: opts.clock,
    ...(opts.fetch === undefined ? {} : { fetch: opts.fetch }),
  });
}

/**
 * createDestinations, then Slack's auth.test when the Slack adapter has one: a bad token fails here
 * with SLACK_AUTH, before any record or letter is read. `accepted` holds what auth.test answered (the
 * bot's identity), for the caller to log; undefined when there was no check.
 */
export async function openDestinations(
  opts: DestinationsOptions,
): Promise<{ destinations: Destinations; accepted?: { identity: unknown } }> {
  const destinations = createDestinations(opts);
  if (destinations.authTest === undefined) return { destinations };
  return { destinations, accepted: { identity: await destinations.authTest() } };
}

export interface SchedulerOptions {
  /** The delivery settings and, through `rules`, the rules messages are composed with. */
  config: Config;
  destination: ChatDestination;
  /** The rules in effect (a reload reaches folded messages too); default `config` itself. */
  rules?: () => Config;
  /** Default config.delivery.flood. */
  flood?: FloodOptions;
  clock: Clock;
  logger: Logger;
  metrics?: Metrics;
  /** From the shared store (main.ts openStore); default in this process / none. */
  store?: { pace?: PaceGate; ledger?: DeliveryLedger; anchors?: ThreadAnchors };
}

const modesByConfig = new WeakMap<Config, ReadonlyMap<string, 'in-place' | 'new'>>();
/** rules[].update by rule name, once per config (a reload is a new one). */
function updateModes(config: Config): ReadonlyMap<string, 'in-place' | 'new'> {
  let modes = modesByConfig.get(config);
  if (modes === undefined) {
    const made = new Map<string, 'in-place' | 'new'>();
    config.rules.forEach((rule, i) => {
      if (rule.update !== undefined) made.set(ruleName(rule, i), rule.update);
    });
    modes = made;
    modesByConfig.set(config, made);
  }
  return modes;
}

/** The delivery scheduler on config.delivery. */
export function createScheduler(opts: SchedulerOptions): DeliveryScheduler {
  const { delivery } = opts.config;
  const rules = opts.rules ?? (() => opts.config);
  const store = opts.store ?? {};
  return createDeliveryScheduler({
    ...(store.pace === undefined ? {} : { pace: store.pace }),
    ...(store.ledger === undefined ? {} : { ledger: store.ledger }),
    ...(store.anchors === undefined ? {} : { anchors: store.anchors }),
    ...(opts.metrics === undefined ? {} : { metrics: opts.metrics }),
    threads: delivery.threads,
    updates: { ...delivery.updates, modes: () => updateModes(rules()) },
    destination: opts.destination,
    composer: createComposer(rules),
    flood: opts.flood ?? delivery.flood,
    clock: opts.clock,
    logger: opts.logger,
    perChannel: delivery.perChannel,
    burst: delivery.burst,
    workspace: delivery.workspace,
    maxQueuedPerChannel: delivery.maxQueuedPerChannel,
    retry: delivery.retry,
  });
}

/**
 * What `dlq redrive` delivers through: the destinations `run` uses, checked the same way, and a
 * scheduler on the same config.delivery (pace, retries), without flood control: one late message per
 * letter, never folded into a digest (which would lose the late mark).
 */
export async function createRedriveDeliverer(opts: DestinationsOptions): Promise<DeliveryScheduler> {
  const { destinations } = await openDestinations(opts);
  return createScheduler({
    config: opts.config,
    destination: destinations,
    flood: floodOff,
    clock: opts.clock,
    logger: opts.logger,
  });
}
