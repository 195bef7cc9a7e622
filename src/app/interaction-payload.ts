/**
 * What the interactivity endpoint (interactivity.ts) decides before it acts, as pure functions: the
 * signature gate, the form body and its block_actions payload, and replays.
 *
 * Slack POSTs `payload=<JSON>` (application/x-www-form-urlencoded) signed with X-Slack-Signature over
 * the raw body (src/adapters/slack-signature.ts).
 * https://docs.slack.dev/reference/interaction-payloads/block_actions-payload
 * https://docs.slack.dev/authentication/verifying-requests-from-slack
 */
import type { SlackSignatureVerdict } from '../adapters/slack-signature.ts';

/** Why a request was refused (each a label of listing_notifier_interactions_total). */
export type Refusal = 'forged' | 'stale' | 'replayed' | 'malformed' | 'too-large';

/** Slack's payloads hold the whole message clicked (blocks of up to ~13k characters, URL-encoded). */
export const MAX_INTERACTION_BYTES = 256 * 1024;

/** The HTTP status a refusal answers with: 401 for what the signature check refuses. */
export function refusalStatus(refusal: Refusal): number {
  if (refusal === 'too-large') return 413;
  if (refusal === 'malformed') return 400;
  return 401;
}

/**
 * The signature check's verdict as the gate's answer: ok, or the refusal. Headers missing or not in
 * Slack's shape are 'malformed' but still 401: the request is unauthenticated.
 */
export function signatureGate(
  verdict: SlackSignatureVerdict,
): { ok: true } | { ok: false; refusal: Refusal; status: number } {
  if (verdict === 'ok') return { ok: true };
  return { ok: false, refusal: verdict, status: 401 };
}

/** One click, as far as the endpoint needs it. Every field is from Slack's (signed) payload. */
export interface Click {
  /** Who clicked: their id, and their name (username, else name, else the id) for "by". */
  user: { id: string; name: string };
  /** The channel id the message is in. */
  channelId: string;
  /** The message clicked, and the thread it is in (absent for a top-level message). */
  messageTs: string;
  threadTs?: string;
  /** Where an ephemeral answer goes (valid for 30 minutes, 5 answers). */
  responseUrl: string;
  /** The element clicked: its action_id, and the chosen option's or the button's value. */
  actionId: string;
  value?: string;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * Origins a response_url may point at: Slack's (https://hooks.slack.com) and the Web API's own
 * (config slack.apiUrl: the stand-in in tests). Anything else would make the service POST wherever
 * a payload says.
 */
export function responseUrlAllowed(url: string, apiUrl: string): boolean {
  if (!URL.canParse(url)) return false;
  const origin = new URL(url).origin;
  return origin === 'https://hooks.slack.com' || (URL.canParse(apiUrl) && origin === new URL(apiUrl).origin);
}

/**
 * The form body's block_actions click, or why not. Strict: exactly one `payload` field, JSON, type
 * block_actions, a user, a channel, the message's ts, a response_url Slack's (or the API's) origin,
 * and at least one action with an action_id (the first is the click: Slack sends one per request).
 */
export function parseInteraction(body: Buffer | string, apiUrl: string): Click | { error: string } {
  const form = new URLSearchParams(typeof body === 'string' ? body : body.toString('utf8'));
  const fields = form.getAll('payload');
  if (fields.length !== 1) return { error: `expected one payload field, got ${fields.length}` };
  let payload: unknown;
  try {
    payload = JSON.parse(fields[0] ?? '');
  } catch {
    return { error: 'payload is not JSON' };
  }
  if (!isObject(payload)) return { error: 'payload is not an object' };
  if (payload.type !== 'block_actions')
    return { error: `not a block_actions payload: ${JSON.stringify(String(payload.type)).slice(0, 40)}` };
  const user = isObject(payload.user) ? payload.user : {};
  const userId = text(user.id);
  if (userId === undefined) return { error: 'no user.id' };
  const container = isObject(payload.container) ? payload.container : {};
  const channel = isObject(payload.channel) ? payload.channel : {};
  const channelId = text(channel.id) ?? text(container.channel_id);
  if (channelId === undefined) return { error: 'no channel' };
  const message = isObject(payload.message) ? payload.message : {};
  const messageTs = text(container.message_ts) ?? text(message.ts);
  if (messageTs === undefined) return { error: 'no message ts' };
  const responseUrl = text(payload.response_url);
  if (responseUrl === undefined || !responseUrlAllowed(responseUrl, apiUrl))
    return { error: 'response_url missing or not Slack’s' };
  const actions = Array.isArray(payload.actions) ? payload.actions : [];
  const action = isObject(actions[0]) ? actions[0] : undefined;
  const actionId = text(action?.action_id);
  if (action === undefined || actionId === undefined) return { error: 'no action' };
  const selected = isObject(action.selected_option) ? text(action.selected_option.value) : undefined;
  const value = selected ?? text(action.value);
  const threadTs = text(message.thread_ts);
  return {
    user: { id: userId, name: text(user.username) ?? text(user.name) ?? userId },
    channelId,
    messageTs,
    ...(threadTs === undefined ? {} : { threadTs }),
    responseUrl,
    actionId,
    ...(value === undefined ? {} : { value }),
  };
}

/**
 * Signatures seen within the tolerance: the same signed request a second time is a replay (the
 * timestamp check alone lets one through for 5 minutes). Per replica; the 5-minute check is the
 * bound across replicas. `now` is passed in: no clock here.
 */
export function createReplayGuard(toleranceMs: number): { seen(signature: string, now: number): boolean } {
  const seen = new Map<string, number>();
  return {
    seen(signature, now) {
      for (const [s, expires] of seen) if (expires <= now) seen.delete(s);
      if (seen.has(signature)) return true;
      // A timestamp may be up to the tolerance in the future too: keep the signature for twice as long.
      seen.set(signature, now + 2 * toleranceMs);
      return false;
    },
  };
}
