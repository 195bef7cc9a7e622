/**
 * The lane's sender: one frozen item to the chat service, and what becomes of it. A single goes out as
 * one call (in its listing's thread, threads.ts); a digest as its message, then its complete list (a
 * CSV file or thread replies) in that message's thread. Around both: the delivery ledger's claim before
 * and its record after (ledger-claim.ts), so a record read again elsewhere is not posted twice. Each
 * call goes through the pace gates and is retried there until it has a final answer (../send.ts).
 *
 * An error thrown while sending (a single or a digest) ends in `failureOutcome` below: the one table,
 * dispositionOf (src/domain/errors.ts), decides whether the item is retried, fails alone (its records
 * dead-lettered) or stops delivery.
 */
import type { ChangeEvent } from '../../domain/change.ts';
import { asRecordFailure, describeError, dispositionOf, type NotifierError } from '../../domain/errors.ts';
import type { SlackPayload } from '../../domain/message.ts';
import { editedPayload, summaryLine } from '../../pipeline/edit.ts';
import type { ChatDestination, Fate, MessageComposer } from '../../ports/index.ts';
import { retrying } from '../retry-policy.ts';
import { type Gates, type SendDeps, sendGated } from '../send.ts';
import { digestChanges } from './buffer.ts';
import { decideUpdate, editGone, type InPlace, withLine } from './in-place.ts';
import { type DigestItem, foldedOf, type Item, originsOf, type SingleItem } from './item.ts';
import type { LedgerClaims } from './ledger-claim.ts';
import type { ListingThreads } from './threads.ts';

export interface SenderOptions extends SendDeps {
  channel: string;
  channelKey: string;
  destination: ChatDestination;
  composer: MessageComposer;
  gates: Gates;
  /** The complete list of a digest: a CSV file or thread replies. */
  completeList: 'file' | 'thread';
  /** Digests within this long of the first part of a flood are its parts (config delivery.flood.digestWindowMs). */
  digestWindowMs: number;
  ledger: LedgerClaims;
  threads: ListingThreads;
  /** Update in place for this channel (config delivery.updates); none: every message is new. */
  inPlace?: InPlace;
}

/** What the lane does with the item: settle its shares, stop delivery, or nothing (given up). */
export type SendOutcome =
  | { kind: 'settled'; fate: Fate }
  | { kind: 'stopped'; error: NotifierError }
  | { kind: 'given-up' };

export interface Sender {
  /** Sends the item; `signal` ends its waits (no share left, or delivery stopped). Never rejects. */
  send(item: Item, signal: AbortSignal): Promise<SendOutcome>;
}

/** The stage a bug met while sending is named after (PROCESSING_FAILED details.stage). */
const stageOf = (item: Item): string => (item.kind === 'digest' ? 'digest' : 'compose');

/**
 * What an error thrown while sending an item (composing it, its calls, the ledger's wait) does to it,
 * by the one table (dispositionOf):
 * - the item's signal aborted first (no share left to deliver for, or delivery stopped): nothing here;
 *   the shares learn it from their own signals or from the scheduler's stop, and nothing commits.
 * - 'stop' (SLACK_AUTH; INTERNAL, a destination that threw something uncoded): delivery stops, and the
 *   scheduler rejects everything pending and after.
 * - 'dead-letter' (RENDER_FAILED; a compose or digest bug met with this data, made PROCESSING_FAILED by
 *   asRecordFailure, issue 19): the item fails alone, its records are dead-lettered, the lane goes on.
 *   SLACK_PERMANENT is not thrown this far: sendGated answers it ({ ok: false }), with the same fate.
 * - 'retry' (SLACK_TRANSIENT, SLACK_RATE_LIMITED): sendGated retries each call, and `send` the item,
 *   until the signal aborts; so it only gets here aborted.
 */
export function failureOutcome(error: unknown, item: Item, aborted: boolean): SendOutcome {
  if (aborted) return { kind: 'given-up' };
  const failure = asRecordFailure(error, stageOf(item));
  if (dispositionOf(failure) === 'stop') return { kind: 'stopped', error: failure };
  return { kind: 'settled', fate: { kind: 'failed', error: failure } };
}

export function createSender(o: SenderOptions): Sender {
  const { channel, destination, gates } = o;
  /**
   * The digest thread of the flood going on: a digest cut by its size (maxDigestItems, a memory bound)
   * and the digests after it within the window are parts of one digest, posted in the first part's
   * thread, so a 100,000-row bulk stays one top-level digest per window (issue 16).
   */
  let episode: { ts: string; until: number } | undefined;

  const call = <T>(fn: () => Promise<T>, signal: AbortSignal) => sendGated(channel, gates, fn, o, signal);

  /**
   * A listing's message that edits its earlier one in the channel: chat.update through its own gate
   * (workspace-wide, Tier 3), the earlier summaries struck through (pipeline/edit.ts). The record
   * finishes when the edit is applied. No message to edit (first in the window, a failed store) or one
   * Slack no longer knows: a new top-level message, which the listing's next change edits.
   */
  const sendInPlace = async (
    item: SingleItem,
    listingKey: string,
    inPlace: InPlace,
    signal: AbortSignal,
  ): Promise<Fate> => {
    const folded = foldedOf(item);
    const now = o.clock.now();
    const ref = await inPlace.refOf(listingKey);
    const update = destination.canUpdate?.(channel) === true ? destination.update : undefined;
    const decision = decideUpdate(ref, update !== undefined);
    if (decision.kind === 'update' && update !== undefined) {
      // The net change since the message was first posted, when it says anything on its own; else the
      // newest change (a stock "low" then "recovered": "Stock recovered: 20" under "~Stock is low~").
      const { ref: edited } = decision;
      const shown = netShown(edited.net, item);
      const payload = editedPayload(shown.payload, edited.lines, now, edited.dropped);
      const answer = await sendGated(
        channel,
        { ...gates, channel: inPlace.bucket },
        () => update.call(destination, edited.channel, edited.ts, payload),
        o,
        signal,
      );
      if (answer.ok) {
        o.metrics.folded(channel, 'edited');
        const next = withLine(edited, { summary: summaryLine(shown.payload), atMs: now });
        if (shown.net === undefined) delete next.net;
        else next.net = shown.net;
        await inPlace.remember(listingKey, next);
        return { kind: 'delivered', folded, ts: edited.ts };
      }
      if (!editGone(answer.error)) return { kind: 'failed', error: answer.error };
      o.metrics.folded(channel, 'edit-gone');
      o.logger.info(
        { channel, slackError: answer.error.details.slackError },
        'the message to edit is gone: posting the change anew',
      );
    }
    const posted = await call(() => destination.post(channel, item.payload), signal);
    if (!posted.ok) return { kind: 'failed', error: posted.error };
    const { ts } = posted.value;
    await inPlace.remember(listingKey, {
      ts,
      channel: posted.value.channel ?? channel,
      lines: [{ summary: summaryLine(item.payload), atMs: now }],
      dropped: 0,
      ...(item.net === undefined ? {} : { net: item.net }),
    });
    return { kind: 'delivered', folded, ts };
  };

  /** What an edit shows: the net of the message's change and this one, if it says anything; else this. */
  const netShown = (
    first: ChangeEvent | undefined,
    item: SingleItem,
  ): { payload: SlackPayload; net: ChangeEvent | undefined } => {
    const net = first === undefined || item.net === undefined ? null : o.composer.net(first, item.net);
    const composed = net === null ? null : o.composer.single(net, o.channelKey);
    return composed === null || net === null
      ? { payload: item.payload, net: item.net }
      : { payload: composed.payload, net };
  };

  const sendSingle = async (item: SingleItem, signal: AbortSignal): Promise<Fate> => {
    const { payload } = item;
    if (item.inPlace === true && o.inPlace !== undefined && item.listingKey !== null)
      return sendInPlace(item, item.listingKey, o.inPlace, signal);
    const folded = foldedOf(item);
    const threadTs = await o.threads.threadOf(item.listingKey);
    const result = await call(
      () =>
        threadTs === undefined
          ? destination.post(channel, payload)
          : destination.post(channel, payload, { threadTs }),
      signal,
    );
    if (!result.ok) return { kind: 'failed', error: result.error };
    // The listing's first message in the window: its later changes reply under it.
    if (threadTs === undefined) await o.threads.started(item.listingKey, result.value.ts);
    return { kind: 'delivered', folded, ts: result.value.ts };
  };

  const sendDigest = async (item: DigestItem, origins: string[], signal: AbortSignal): Promise<Fate> => {
    const events = digestChanges(item, o.composer.net);
    const digest = o.composer.digest(o.channelKey, events, {
      fromMs: Number.isFinite(item.fromMs) ? item.fromMs : o.clock.now(),
      toMs: Number.isFinite(item.toMs) ? item.toMs : o.clock.now(),
      upload: o.completeList === 'file',
    });
    if (digest === null)
      return { kind: 'dropped', reason: 'net-zero: every change in the digest changed back' };
    const parent = episode !== undefined && item.openedAt < episode.until ? episode.ts : undefined;
    // Posted before a crash, its file not: the file and replies go on in that message's thread.
    let threadTs = await o.ledger.headBefore(origins);
    if (threadTs !== undefined) {
      o.logger.info(
        { channel, threadTs, listings: events.length },
        'digest message already posted before a restart: its list goes on in that thread',
      );
    } else {
      const top = await call(
        () =>
          parent === undefined
            ? destination.post(channel, digest.payload)
            : destination.post(channel, digest.payload, { threadTs: parent }),
        signal,
      );
      if (!top.ok) return { kind: 'failed', error: top.error };
      threadTs = parent ?? top.value.ts;
      // The thread its file and replies go into (the first part's, for a later part).
      await o.ledger.markHead(origins, threadTs);
    }
    if (parent === undefined) episode = { ts: threadTs, until: item.openedAt + o.digestWindowMs };
    const thread = { threadTs };
    const file = digest.file;
    if (file !== undefined) {
      const up = await call(() => destination.upload(channel, file, thread), signal);
      if (!up.ok) return { kind: 'failed', error: up.error };
    }
    for (const reply of digest.replies) {
      const r = await call(() => destination.post(channel, reply, thread), signal);
      if (!r.ok) return { kind: 'failed', error: r.error };
    }
    return { kind: 'delivered', folded: 'digest', ts: threadTs };
  };

  /** One try: claim, send, then record (accepted) or release (not sent) the records' keys. */
  const attempt = async (item: Item, origins: string[], signal: AbortSignal): Promise<Fate> => {
    if ((await o.ledger.claim(origins, signal)) === 'done') {
      // Another sender (the partition's old owner) delivered it meanwhile.
      o.metrics.ledgerHit(channel);
      return { kind: 'delivered', folded: foldedOf(item), ts: '' };
    }
    try {
      const fate =
        item.kind === 'single' ? await sendSingle(item, signal) : await sendDigest(item, origins, signal);
      if (fate.kind === 'delivered') await o.ledger.remember(origins);
      else void o.ledger.release(origins);
      return fate;
    } catch (error) {
      void o.ledger.release(origins);
      throw error;
    }
  };

  return {
    async send(item, signal) {
      // Taken now: a share given up while the message is on the wire was carried all the same.
      const origins = [...item.shares].flatMap(originsOf);
      try {
        const fate = await retrying(() => attempt(item, origins, signal), {
          policy: o.retry,
          random: o.random,
          sleep: (ms) => o.clock.sleep(ms, signal),
          verdict: (error) =>
            !signal.aborted && dispositionOf(asRecordFailure(error, stageOf(item))) === 'retry'
              ? 'backoff'
              : 'throw',
          onRetry: (error, backoffs, delayMs) =>
            o.logger.warn(
              { channel, item: item.id, error: describeError(error), attempt: backoffs + 1, delayMs },
              'sending failed; retrying the item',
            ),
        });
        return { kind: 'settled', fate };
      } catch (error) {
        return failureOutcome(error, item, signal.aborted);
      }
    },
  };
}
