/**
 * One channel's lane: the messages waiting for it, the digest collecting for it, and the p-queue that
 * sends them one at a time at the channel's pace, urgent ones first. A pipeline of its own:
 *
 *   submit -> decideFold (fold.ts) -> folding buffer (lane/buffer.ts) -> digest window (lane/window.ts)
 *          -> p-queue -> sender (lane/sender.ts: ledger claim, thread, calls) -> the shares settle
 *
 * An item (lane/item.ts) stays open to folding until its turn comes; then it is frozen, sent and every
 * share it carries is settled with the outcome. A record is finished only when all its shares are
 * (src/app/record-work.ts), so a record folded into a digest commits only once the digest went out; a
 * crash before that re-reads it from Kafka.
 *
 * The lane's throttle (throttle.ts) counts each listing's messages of their own per rule; the fold
 * decision sends a listing past its throttle to the digest.
 */
import PQueue from 'p-queue';
import type { ChangeEvent } from '../domain/change.ts';
import type { NotifierError } from '../domain/errors.ts';
import type { OutboundMessage, Priority, SlackPayload } from '../domain/message.ts';
import type {
  ChatDestination,
  DeliveryLedger,
  MessageComposer,
  Share,
  ThreadAnchors,
} from '../ports/index.ts';
import { type Arrival, decideFold, type FoldPolicy, type LaneView } from './fold.ts';
import { closeOpen, emptyBuffer, entryChange, freeze, joinDigest, takeEntry, viewOf } from './lane/buffer.ts';
import { createInPlace, type InPlaceDeps } from './lane/in-place.ts';
import {
  attach,
  type DigestEntry,
  type DigestItem,
  detach,
  type Item,
  newDigest,
  newSingle,
  type SingleItem,
  settle,
} from './lane/item.ts';
import { createLedgerClaims } from './lane/ledger-claim.ts';
import { createSender, type Sender } from './lane/sender.ts';
import { createListingThreads } from './lane/threads.ts';
import { watchWindow } from './lane/window.ts';
import type { Gates, SendDeps } from './send.ts';
import { createThrottleCounter, type ThrottleCounter } from './throttle.ts';

export interface LaneOptions extends SendDeps {
  channel: string;
  channelKey: string;
  destination: ChatDestination;
  composer: MessageComposer;
  gates: Gates;
  policy: FoldPolicy;
  /** What a listing change coming back to where it started does: drop the pending message or keep both. */
  netZero: 'drop' | 'keep';
  /** A digest goes out once no change joined it for this long (config delivery.flood.digestQuietMs)... */
  digestQuietMs: number;
  /** ...or this long after its first change at the latest (config delivery.flood.digestWindowMs). */
  digestWindowMs: number;
  /** A digest is closed early at this many listings (memory bound). */
  maxDigestItems: number;
  /** The complete list of a digest: a CSV file or thread replies. */
  completeList: 'file' | 'thread';
  /** A 'stop' error (an auth failure): the scheduler stops everything. */
  onStop(error: NotifierError): void;
  /** Pending count changed (metrics, room waiters). */
  onChange(): void;
  /** Counts folds for metrics: coalesced, digest, throttled (into the digest), lifted, cancelled. */
  onFold(kind: string): void;
  /** Cancels digest timers (scheduler shutdown). */
  lifetime: AbortSignal;
  /** Where accepted (record, channel) pairs are recorded; none: nothing is recorded. */
  ledger?: DeliveryLedger;
  /** Thread per listing in this channel (config delivery.threads); none: every message top-level. */
  threads?: { anchors: ThreadAnchors; windowMs: number };
  /**
   * Update in place (config delivery.updates, rules[].update): where the listings' messages are kept,
   * for how long, chat.update's gate, and which messages want it. None: every message is new.
   */
  updates?: Omit<InPlaceDeps, 'channel' | 'metrics' | 'logger'>;
}

/** Where submit put a message: a message of its own (or folded into one), the digest, or the digest by its throttle. */
export type Submitted = 'queued' | 'digest' | 'throttled';

const URGENT = 1;
const NORMAL = 0;

export class Lane {
  readonly queue = new PQueue({ concurrency: 1 });
  /** Top-level messages queued or sending. */
  pending = 0;
  private readonly buffer = emptyBuffer();
  private readonly sender: Sender;
  private readonly throttle: ThrottleCounter;
  private seq = 0;

  private readonly o: LaneOptions;

  constructor(options: LaneOptions) {
    this.o = options;
    const { channel, metrics, logger } = options;
    this.sender = createSender({
      ...options,
      ledger: createLedgerClaims({ ledger: options.ledger, channel, clock: options.clock, metrics, logger }),
      threads: createListingThreads({ threads: options.threads, channel, metrics, logger }),
      ...(options.updates === undefined
        ? {}
        : { inPlace: createInPlace({ ...options.updates, channel, metrics, logger }) }),
    });
    this.throttle = createThrottleCounter();
  }

  /** Digest listings waiting, over the open and the closed unsent digests. */
  digestSize(): number {
    return this.buffer.inDigest.size;
  }

  /**
   * Where this message would fold as a digest line: the open digest's id, '+' for a digest it would
   * open, undefined when it would not go into a digest (a fold run joins records with the same answer).
   * Undefined too for a throttled change: its record waits on its own, so its line can say it was
   * throttled (a run logs one line; a throttled listing has a few changes per window, not a bulk).
   */
  foldTarget(message: OutboundMessage, listingKey: string | null): string | undefined {
    if (listingKey === null) return undefined;
    const decision = decideFold(this.view(), this.arrival(message, listingKey), this.o.policy);
    if (decision.kind !== 'digest' || decision.throttled === true) return undefined;
    // addToDigest: into the open digest, or one it opens (a listing in a closed digest too).
    return this.buffer.open?.id ?? '+';
  }

  /** Would this message be queued as a message of its own (room matters) rather than folded? */
  wouldQueue(message: OutboundMessage, listingKey: string | null): boolean {
    return decideFold(this.view(), this.arrival(message, listingKey), this.o.policy).kind === 'queue';
  }

  submit(message: OutboundMessage, event: ChangeEvent | undefined, share: Share): Submitted {
    const priority = message.priority ?? 'normal';
    const listingKey = event?.listingId ?? null;
    const slim = event === undefined ? undefined : this.o.composer.slim(event);
    if (slim === undefined || listingKey === null) {
      // Nothing to fold by (decideFold queues a change without a listing too): a message of its own.
      this.enqueueSingle(listingKey, priority, slim, message.payload, [share]);
      return 'queued';
    }
    const decision = decideFold(this.view(), this.arrival(message, listingKey), this.o.policy);
    switch (decision.kind) {
      case 'queue':
        if (decision.promote !== undefined) this.promote(decision.promote);
        this.enqueueFor(message, listingKey, priority, slim, message.payload, [share]);
        return 'queued';
      case 'coalesce':
        this.coalesce(listingKey, slim, message, share);
        return 'queued';
      case 'digest':
        this.addToDigest(listingKey, slim, share, decision.throttled === true ? 'throttled' : 'digest');
        return decision.throttled === true ? 'throttled' : 'digest';
      case 'lift':
        this.lift(listingKey, slim, message, share);
        return 'queued';
    }
  }

  /** Closes the open digest now (shutdown: its records should not wait out the window). */
  flush(): void {
    if (this.buffer.open !== undefined) this.close(this.buffer.open, false);
  }

  private view(): LaneView {
    return viewOf(this.buffer, this.pending, this.o.clock.now(), this.o.digestWindowMs);
  }

  private arrival(message: OutboundMessage, listingKey: string | null): Arrival {
    const priority = message.priority ?? 'normal';
    if (listingKey === null || message.throttle === undefined) return { listingKey, priority };
    return {
      listingKey,
      priority,
      throttled: this.throttle.over(listingKey, message.throttle, this.o.clock.now()),
    };
  }

  /**
   * A listing's message of its own for `message`: it edits the listing's earlier one when its rules
   * or channel ask (config delivery.updates, rules[].update), and counts under its rules' throttles.
   */
  private enqueueFor(
    message: OutboundMessage,
    listingKey: string,
    priority: Priority,
    net: ChangeEvent,
    payload: SlackPayload,
    shares: readonly Share[],
  ): void {
    const item = this.enqueueSingle(listingKey, priority, net, payload, shares);
    if (this.o.updates?.wanted(message.rules) === true) item.inPlace = true;
    this.throttle.count(listingKey, message.throttle, this.o.clock.now(), item);
  }

  private nextId(kind: Item['kind']): string {
    this.seq += 1;
    return `${kind}-${this.seq}`;
  }

  private enqueueSingle(
    listingKey: string | null,
    priority: Priority,
    net: ChangeEvent | undefined,
    payload: SlackPayload,
    shares: readonly Share[],
  ): SingleItem {
    const item = newSingle(this.nextId('single'), priority, listingKey, net, payload);
    for (const share of shares) attach(item, share);
    if (listingKey !== null) this.buffer.queued.set(listingKey, item);
    this.schedule(item);
    return item;
  }

  private schedule(item: Item): void {
    this.pending += 1;
    this.o.onChange();
    void this.queue
      .add(() => this.run(item), { priority: item.priority === 'urgent' ? URGENT : NORMAL, id: item.id })
      .finally(() => {
        this.pending -= 1;
        this.o.onChange();
      });
  }

  private promote(id: string): void {
    for (const item of this.buffer.queued.values()) {
      if (item.id !== id || item.priority === 'urgent') continue;
      item.priority = 'urgent';
      this.queue.setPriority(id, URGENT);
    }
  }

  private coalesce(listingKey: string, event: ChangeEvent, message: OutboundMessage, share: Share): void {
    const item = this.buffer.queued.get(listingKey);
    const net = item?.net === undefined ? null : this.o.composer.net(item.net, event);
    const composed = net === null ? undefined : this.o.composer.single(net, this.o.channelKey);
    if (item === undefined || net === null || (composed === null && this.o.netZero === 'keep')) {
      // Not combinable (a create or delete involved), or both are to be kept: a message of its own,
      // after the queued one (promoted first when this one is urgent, so it cannot overtake it).
      const priority = message.priority ?? 'normal';
      if (item !== undefined && priority === 'urgent') this.promote(item.id);
      this.enqueueFor(message, listingKey, priority, event, message.payload, [share]);
      return;
    }
    attach(item, share);
    if (composed === null || composed === undefined) {
      // Back where it started: nothing left to say in this channel.
      this.o.onFold('cancelled');
      this.throttle.uncount(item);
      this.buffer.queued.delete(listingKey);
      settle(item, {
        kind: 'dropped',
        reason: 'net-zero: the listing changed back before its message was sent',
      });
      return;
    }
    this.o.onFold('coalesced');
    // The net change so far: a later change nets against it (slim changes carry only what changed).
    item.net = net;
    item.payload = composed.payload;
    if (composed.priority === 'urgent') this.promote(item.id);
  }

  private addToDigest(
    listingKey: string,
    event: ChangeEvent,
    share: Share,
    kind: 'digest' | 'throttled',
  ): void {
    const inDigest = this.buffer.inDigest.get(listingKey);
    const digest = inDigest !== undefined && inDigest === this.buffer.open ? inDigest : this.openDigest(kind);
    const now = this.o.clock.now();
    joinDigest(this.buffer, digest, { listingKey, event, share, now }, this.o.composer.net, () =>
      String(this.seq++),
    );
    attach(digest, share);
    // A listing joining its own entry adds nothing new to the digest: it is a flood only by overflow.
    if (kind === 'digest' && inDigest !== digest) digest.overflow = true;
    this.o.onFold(kind);
    if (digest.entries.size >= this.o.maxDigestItems) this.close(digest, true);
  }

  /**
   * A digest a throttled listing opens collects for the whole window (digestWindowMs), not until a
   * pause: a flapping listing's changes are minutes or seconds apart, and closing on the first pause
   * would post a digest per change. So the channel gets at most one digest per window for all its
   * throttled listings, and a throttled change waits no longer than a flood's does.
   */
  private openDigest(by: 'digest' | 'throttled'): DigestItem {
    if (this.buffer.open !== undefined) return this.buffer.open;
    const digest = newDigest(this.nextId('digest'), this.o.clock.now(), by === 'digest');
    this.buffer.open = digest;
    this.o.onChange();
    digest.windowEnd = watchWindow(
      digest,
      {
        clock: this.o.clock,
        quietMs: by === 'throttled' ? this.o.digestWindowMs : this.o.digestQuietMs,
        windowMs: this.o.digestWindowMs,
        digest: digest.abort.signal,
        lifetime: this.o.lifetime,
      },
      (flooding) => this.close(digest, flooding),
    );
    return digest;
  }

  /** `flooding`: cut by its window or size while changes keep coming (the next overflow is a digest too). */
  private close(digest: DigestItem, flooding: boolean): void {
    if (!closeOpen(this.buffer, digest, flooding, this.o.clock.now())) return;
    digest.windowEnd?.abort();
    this.schedule(digest);
  }

  /** Urgent for a listing in a digest: its entry leaves the digest and goes ahead as the net change. */
  private lift(listingKey: string, event: ChangeEvent, message: OutboundMessage, share: Share): void {
    const entry = takeEntry(this.buffer, listingKey);
    if (entry === undefined) {
      this.enqueueFor(message, listingKey, 'urgent', event, message.payload, [share]);
      return;
    }
    this.o.onFold('lifted');
    const net = this.o.composer.net(entry.last, event);
    const composed = net === null ? null : this.o.composer.single(net, this.o.channelKey);
    if (net === null || composed === null) {
      // The folded changes say nothing on their own now: send them as their own line, then this one.
      this.enqueueDigestEntryAlone(listingKey, entry);
      this.enqueueFor(message, listingKey, 'urgent', event, message.payload, [share]);
      return;
    }
    this.enqueueFor(message, listingKey, 'urgent', net, composed.payload, [...entry.shares, share]);
  }

  private enqueueDigestEntryAlone(listingKey: string, entry: DigestEntry): void {
    const net = entryChange(entry, this.o.composer.net);
    const composed = this.o.composer.single(net, this.o.channelKey);
    // Nothing to say on its own (changed back): its shares finish with the digest they are still on.
    if (composed === null) return;
    this.enqueueSingle(listingKey, 'urgent', net, composed.payload, entry.shares);
  }

  /** The item's turn: freeze it, hand it to the sender, apply the outcome. Never throws (p-queue must go on). */
  private async run(item: Item): Promise<void> {
    if (item.status === 'settled') return;
    freeze(this.buffer, item);
    if (item.shares.size === 0 || this.o.lifetime.aborted) {
      // Nobody waits for it any more, or delivery stopped (the shares learn that from the scheduler).
      item.status = 'settled';
      detach(item);
      return;
    }
    item.status = 'sending';
    // An item's calls end when no share is left to deliver for, or when delivery stops.
    const outcome = await this.sender.send(item, AbortSignal.any([item.abort.signal, this.o.lifetime]));
    switch (outcome.kind) {
      case 'settled':
        settle(item, outcome.fate);
        return;
      case 'stopped':
        detach(item);
        this.o.onStop(outcome.error);
        return;
      case 'given-up':
        // The shares learn it from their own signals or from the scheduler's stop.
        detach(item);
        return;
    }
  }
}
