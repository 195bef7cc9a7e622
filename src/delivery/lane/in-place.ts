/**
 * Update in place as the sender uses it (config delivery.updates, rules[].update; issue 17): where a
 * listing's message in the channel is, and what it said, so that the listing's next message edits it
 * (chat.update) instead of posting again. The reference lives with the thread anchors (port
 * ThreadAnchors: the store for several replicas, this process without one) for the window, as JSON:
 * the message's ts, the channel's id (chat.update takes no "#name") and its earlier summaries.
 *
 * A store that fails costs the edit (a new message), not the message (store-failure.ts); a message
 * Slack no longer knows (deleted, too old to edit) is posted anew: the reference then names the new one.
 */
import type { ChangeEvent } from '../../domain/change.ts';
import type { NotifierError } from '../../domain/errors.ts';
import { EDIT_LINE_CHARS, type EditLine, MAX_EDIT_LINES } from '../../pipeline/edit.ts';
import type { PaceBucket, ThreadAnchors } from '../../ports/index.ts';
import { anchorKey } from '../anchors.ts';
import { type StoreFailureDeps, storeFailed } from './store-failure.ts';

/** Where the listing's message is and what it said before (oldest first). */
export interface MessageRef {
  ts: string;
  /** The channel's id, as chat.postMessage answered it. */
  channel: string;
  lines: EditLine[];
  /** Earlier lines no longer kept (only the last MAX_EDIT_LINES are). */
  dropped: number;
  /**
   * The change the message shows (slim: first before -> last after), that the listing's next change
   * nets against: the edit then says the net change. Absent when it was too big to keep (NET_MAX_CHARS).
   */
  net?: ChangeEvent;
}

/** A message's change bigger than this (as JSON) is not kept: its next edit says the newest change. */
export const NET_MAX_CHARS = 16_000;

/** What the sender does with an in-place message: edit the one it found, or post (and remember). */
export type UpdateDecision = { kind: 'post' } | { kind: 'update'; ref: MessageRef };

/** Pure: edit when the listing has a message in the channel the destination can edit; else post. */
export function decideUpdate(ref: MessageRef | undefined, canUpdate: boolean): UpdateDecision {
  if (ref === undefined || !canUpdate || ref.ts === '') return { kind: 'post' };
  return { kind: 'update', ref };
}

/**
 * Slack's answers to chat.update that mean "this message cannot be edited any more": post a new one.
 * https://docs.slack.dev/reference/methods/chat.update#errors
 */
const GONE = new Set(['message_not_found', 'cant_update_message', 'edit_window_closed', 'channel_not_found']);

/** Pure: does this refusal of an edit call for a new message rather than a dead letter? */
export function editGone(error: NotifierError): boolean {
  const slackError = error.details.slackError;
  return typeof slackError === 'string' && GONE.has(slackError);
}

/** The reference after the message said `line` (kept: the last MAX_EDIT_LINES). Pure. */
export function withLine(ref: MessageRef, said: EditLine): MessageRef {
  const lines = [...ref.lines, { summary: said.summary.slice(0, EDIT_LINE_CHARS), atMs: said.atMs }];
  const over = Math.max(0, lines.length - MAX_EDIT_LINES);
  return { ...ref, lines: lines.slice(over), dropped: ref.dropped + over };
}

/** The stored text back into a reference; undefined for anything else (an older or foreign value). */
export function decodeRef(text: string): MessageRef | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const { ts, channel, lines, dropped, net } = v as Record<string, unknown>;
  if (typeof ts !== 'string' || typeof channel !== 'string' || !Array.isArray(lines)) return undefined;
  const kept = lines
    .filter(
      (l): l is EditLine =>
        typeof l === 'object' && l !== null && typeof l.summary === 'string' && Number.isFinite(l.atMs),
    )
    .slice(-MAX_EDIT_LINES);
  const ref: MessageRef = {
    ts,
    channel,
    lines: kept,
    dropped: typeof dropped === 'number' && dropped > 0 ? dropped : 0,
  };
  // Written by remember below from a slim event: a change is an object with its op and source.
  const isChange =
    typeof net === 'object' &&
    net !== null &&
    typeof (net as { op?: unknown }).op === 'string' &&
    typeof (net as { source?: unknown }).source === 'object';
  if (isChange) ref.net = net as ChangeEvent;
  return ref;
}

/** The text kept for `ref`: its change left out when too big (the edit then says the newest change). */
export function encodeRef(ref: MessageRef): string {
  const text = JSON.stringify(ref);
  if (ref.net === undefined || text.length <= NET_MAX_CHARS) return text;
  const { net: _, ...small } = ref;
  return JSON.stringify(small);
}

export interface InPlace {
  /** The gate chat.update passes (workspace-wide, shared through the store). */
  bucket: PaceBucket;
  /** Whether a message sent by these rules edits the listing's earlier one (rules, then the channel). */
  wanted(rules: readonly string[] | undefined): boolean;
  /** The listing's message in the channel within the window, if any (a failed store: none). */
  refOf(listingKey: string): Promise<MessageRef | undefined>;
  /** The listing's message is now `ref` (for the window from now). */
  remember(listingKey: string, ref: MessageRef): Promise<void>;
}

export interface InPlaceDeps extends StoreFailureDeps {
  anchors: ThreadAnchors;
  channel: string;
  windowMs: number;
  bucket: PaceBucket;
  wanted(rules: readonly string[] | undefined): boolean;
}

export function createInPlace(deps: InPlaceDeps): InPlace {
  const { anchors, channel, windowMs } = deps;
  const keyOf = (listingKey: string): string => `edit|${anchorKey(channel, listingKey)}`;
  const guarded = async <T>(op: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await op();
    } catch (error) {
      storeFailed(deps, 'anchors', error, { channel }, 'message reference store failed: posting anew');
      return undefined;
    }
  };
  return {
    bucket: deps.bucket,
    wanted: deps.wanted,
    async refOf(listingKey) {
      const text = await guarded(() => anchors.get(keyOf(listingKey)));
      return text === undefined ? undefined : decodeRef(text);
    },
    async remember(listingKey, ref) {
      await guarded(() => anchors.set(keyOf(listingKey), encodeRef(ref), windowMs));
    },
  };
}
