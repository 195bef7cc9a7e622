/**
 * The routing ChatDestination: one port for the delivery lanes, dispatching each channel identifier
 * (src/config/schema.ts normalises every channel to one) to its destination:
 *   "teams:<URL_ENV>"                  a Teams Workflows webhook (teams.ts)
 *   "webhook:<URL_ENV>:<SECRET_ENV>"   a Standard Webhooks receiver (webhook.ts)
 *   anything else                      Slack, as before (slack-chat.ts)
 * URLs and secrets are read from the environment by name when a message is sent; a variable that is
 * unset is a SLACK_PERMANENT error naming the variable (never its value). `missingDestinationEnv`
 * lets the composition root refuse to start instead.
 *
 * Each channel identifier is a lane of its own in the scheduler, so each destination keeps its own pace
 * (delivery.perChannel) and its own retries; failures carry the SLACK_* codes the scheduler classifies.
 */
import { NotifierError } from '../domain/errors.ts';
import type { SlackPayload } from '../domain/message.ts';
import type { ChatDestination, ChatFile, Clock, PostOptions } from '../ports/index.ts';
import { postToTeams, uploadToTeams } from './teams.ts';
import { postToWebhook, uploadToWebhook, webhookBody } from './webhook.ts';

export type DestinationRef =
  | { type: 'slack'; channel: string }
  | { type: 'teams'; urlEnv: string }
  | { type: 'webhook'; urlEnv: string; secretEnv: string };

const ENV = '[A-Z_][A-Z0-9_]*';
const teamsPattern = new RegExp(`^teams:(${ENV})$`);
const webhookPattern = new RegExp(`^webhook:(${ENV}):(${ENV})$`);

/** Which destination a channel identifier names. Pure. */
export function destinationOf(channel: string): DestinationRef {
  const teams = teamsPattern.exec(channel);
  if (teams?.[1] !== undefined) return { type: 'teams', urlEnv: teams[1] };
  const hook = webhookPattern.exec(channel);
  if (hook?.[1] !== undefined && hook[2] !== undefined)
    return { type: 'webhook', urlEnv: hook[1], secretEnv: hook[2] };
  return { type: 'slack', channel };
}

/** Names of the environment variables the channels need and that are unset or empty. */
export function missingDestinationEnv(
  channels: Iterable<string>,
  env: Readonly<Record<string, string | undefined>>,
): string[] {
  const missing = new Set<string>();
  for (const channel of channels) {
    const d = destinationOf(channel);
    const names = d.type === 'teams' ? [d.urlEnv] : d.type === 'webhook' ? [d.urlEnv, d.secretEnv] : [];
    for (const name of names) if (!env[name]) missing.add(name);
  }
  return [...missing];
}

export interface RoutingDestinationOptions {
  /** Where Slack channels go (createSlackChat). */
  slack: ChatDestination & { authTest?: () => Promise<unknown> };
  /** Default process.env: read at each send, by the names the channel identifiers carry. */
  env?: Readonly<Record<string, string | undefined>>;
  clock: Clock;
  /** Per-call timeout for Teams and webhooks; default 10 000 ms. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export function createRoutingDestination(
  opts: RoutingDestinationOptions,
): ChatDestination & { authTest?: () => Promise<unknown> } {
  const env = opts.env ?? process.env;
  const http = {
    nowMs: () => opts.clock.now(),
    ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }),
    ...(opts.fetch === undefined ? {} : { fetch: opts.fetch }),
  };
  const read = (name: string): string => {
    const value = env[name];
    if (!value)
      throw new NotifierError('SLACK_PERMANENT', `environment variable ${name} is not set`, {
        details: { slackError: 'destination_not_configured' },
      });
    return value;
  };
  const routing: ChatDestination & { authTest?: () => Promise<unknown> } = {
    async post(channel: string, payload: SlackPayload, options?: PostOptions) {
      const d = destinationOf(channel);
      if (d.type === 'slack') return opts.slack.post(channel, payload, options);
      if (d.type === 'teams') return postToTeams({ url: read(d.urlEnv) }, payload, http);
      const target = { url: read(d.urlEnv), secret: read(d.secretEnv) };
      return postToWebhook(channel, target, webhookBody(payload, null), http);
    },
    canUpdate: (channel) => destinationOf(channel).type === 'slack' && opts.slack.update !== undefined,
    async update(channel, ts, payload) {
      if (destinationOf(channel).type !== 'slack' || opts.slack.update === undefined)
        throw new NotifierError('SLACK_PERMANENT', 'only Slack messages can be edited', {
          details: { slackError: 'cant_update_message' },
        });
      return opts.slack.update(channel, ts, payload);
    },
    async upload(channel: string, file: ChatFile, options?: PostOptions) {
      const d = destinationOf(channel);
      if (d.type === 'slack') return opts.slack.upload(channel, file, options);
      if (d.type === 'teams') return uploadToTeams({ url: read(d.urlEnv) }, file, http);
      const target = { url: read(d.urlEnv), secret: read(d.secretEnv) };
      return uploadToWebhook(channel, target, file, null, http);
    },
  };
  const { authTest } = opts.slack;
  if (authTest !== undefined) routing.authTest = () => authTest.call(opts.slack);
  return routing;
}
