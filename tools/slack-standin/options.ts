/** The stand-in's channels and failure modes, and how a POST /_standin/fail body is read. */

export interface StandinChannel {
  id: string;
  name: string;
  /** Posting answers is_archived. Default false. */
  archived?: boolean;
  /** Whether the bot is in the channel; false answers not_in_channel. Default true. */
  member?: boolean;
}

export const defaultStandinToken = 'xoxb-standin-token';

/** The app signing secret the stand-in signs interaction payloads with (interactivity.ts). */
export const defaultStandinSigningSecret = 'standin0signing0secret0000000000';

export const defaultChannels: StandinChannel[] = [
  { id: 'C0SALESALRT', name: 'sales-alerts' },
  { id: 'C0INVENTWRN', name: 'inventory-warnings' },
  { id: 'C0SUPPORTHU', name: 'support-heads-up' },
  { id: 'C0MARKETUPD', name: 'marketing-updates' },
  { id: 'C0OLDANNOUN', name: 'old-announcements', archived: true },
  { id: 'C0PRIVFINAN', name: 'private-finance', member: false },
];

type Body = Record<string, unknown>;

export type FailRequest =
  | { mode: 'status'; status: number; forMs: number }
  | { mode: 'hang'; forMs: number }
  | {
      mode: 'error';
      error: string;
      channel?: string;
      count?: number;
      forMs?: number;
      /** The Web API method that answers the error. Default chat.postMessage. */
      method?: FailMethod;
    };

/** Methods an injected error can be aimed at. */
export const failMethods = [
  'chat.postMessage',
  'chat.update',
  'files.getUploadURLExternal',
  'files.completeUploadExternal',
] as const;
export type FailMethod = (typeof failMethods)[number];

/** Reads a POST /_standin/fail body; undefined when it is not one of the three modes (or names an unknown method). */
export function parseFail(body: Body): FailRequest | undefined {
  const forMs = body.forMs === undefined ? undefined : Number(body.forMs);
  if (forMs !== undefined && !(forMs >= 0)) return undefined;
  if (body.mode === 'status' && forMs !== undefined) {
    const status = Number(body.status ?? 503);
    return status >= 400 && status <= 599 ? { mode: 'status', status, forMs } : undefined;
  }
  if (body.mode === 'hang' && forMs !== undefined) return { mode: 'hang', forMs };
  if (body.mode === 'error' && typeof body.error === 'string') {
    const method = failMethods.find((m) => m === body.method);
    if (body.method !== undefined && method === undefined) return undefined;
    return {
      mode: 'error',
      error: body.error,
      ...(typeof body.channel === 'string' ? { channel: body.channel } : {}),
      ...(body.count === undefined ? {} : { count: Number(body.count) }),
      ...(forMs === undefined ? {} : { forMs }),
      ...(method === undefined ? {} : { method }),
    };
  }
  return undefined;
}
