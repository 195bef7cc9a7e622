/**
 * One channel's lane: the messages waiting for it, the digest collecting for it, and the p-queue that
 * sends them one at a time at the channel's pace, urgent ones first.
 *
 * An item is what one Slack message (or one digest with its file or thread) carries: the shares of the
 * records it conveys. An item stays open to folding (fold.ts) until its turn comes; then it is frozen,
 * rendered and sent, and every share it carries is settled with the outcome. A record is finished only
 * when all its shares are (src/app/record-work.ts), so a record folded into a digest commits only once
 * the digest went out; a crash before that re-reads it from Kafka.
 */
import PQueue from 'p-queue';
import type { ChangeEvent } from '../domain/change.ts';
import type { NotifierError } from '../domain/errors.ts';
import { asRecordFailure, describeError, dispositionOf } from '../domain/errors.ts';
import type { OutboundMessage, Priority, SlackPayload } from '../domain/message.ts';
import type {
  ChatDestination,
  DeliveryLedger,
  Fate,
  MessageComposer,
  Share,
  ThreadAnchors,
} from '../ports/index.ts';
import { anchorKey } from './anchors.ts';
import { decideFold, type FoldDecision, type FoldPolicy } from './fold.ts';
import { ledgerKey } from './ledger.ts';
import { type Gates, type SendDeps, sendGated } from './send.ts';

const originsOf = (share: Share): readonly string[] =>
  share.origins?.() ?? (share.origin === undefined ? [] : [share.origin]);

interface DigestEntry {
  first: ChangeEvent;
  /** The net change so far (composer.net of every change joined: slim changes carry only what changed). */
  last: ChangeEvent;
  shares: Share[];
}

interface Item {
  id: string;
  kind: 'single' | 'digest';
  status: 'queued' | 'sending' | 'settled';
  priority: Priority;
  shares: Set<Share>;
  /**
   * The item's shares by the signal that gives them up, with the one listener the item keeps on it
   * (a partition's signal: one listener per item and signal, removed when the item settles; one per
   * share made the signal's listener list, walked on every add, grow with the bulk: issue 16).
   */
  bySignal: Map<AbortSignal, { shares: Set<Share>; listener: () => void }>;
  /** Aborts the item's sleeps once no share is left to deliver for. */
  abort: AbortController;
  // single
  listingKey: string | null;
  first?: ChangeEvent;
  payload?: SlackPayload;
  // digest
  entries: Map<string, DigestEntry>;
  fromMs: number;
  toMs: number;
  /** clock.now() when the digest opened, and when a change last joined it. */
  openedAt: number;
  lastAddAt: number;
  /** Ends the digest's collecting wait once it is closed. */
  windowEnd?: AbortController;
}

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
  /** An auth failure: the scheduler stops everything. */
  onStop(error: NotifierError): void;
  /** Pending count changed (metrics, room waiters). */
  onChange(): void;
  /** Counts folds for metrics: coalesced, digest, lifted, cancelled. */
  onFold(kind: string): void;
  /** Cancels digest timers (scheduler shutdown). */
  lifetime: AbortSignal;
  /** Where accepted (record, channel) pairs are recorded; none: nothing is recorded. */
  ledger?: DeliveryLedger;
  /** Thread per listing in this channel (config delivery.threads); none: every message top-level. */
  threads?: { anchors: ThreadAnchors; windowMs: number };
}

const URGENT = 1;
const NORMAL = 0;
/**
 * A claim outlives the longest a lane holds an item between claiming and its answer (the pace wait and
 * the call; a lane whose partition was revoked gives up its retries at once). A crashed sender's claims
 * are taken over after it; Kafka's session timeout (30 s) hands its partitions over later than that.
 */
const CLAIM_TTL_MS = 15_000;
/** How often a sender asks again about records another sender has on the wire. */
const CLAIM_POLL_MS = 200;

export class Lane {
  readonly queue = new PQueue({ concurrency: 1 });
  /** Top-level messages queued or sending. */
  pending = 0;
  private readonly queuedByListing = new Map<string, Item>();
  private readonly digestOf = new Map<string, Item>();
  private open: Item | undefined;
  /** The last digest was cut by its window or size (fold.ts LaneView.flooding). */
  private flooding = false;
  /**
   * When a digest was last cut by its size or window. The flood counts as going on for a window after
   * that, even when a digest closes quiet in between: a source paused by the records digests hold goes
   * quiet too, and its next records are the same bulk, not news to post one by one (issue 16: a
   * 100,000-row bulk got seven messages of their own after every part).
   */
  private lastCutAt: number | undefined;
  /**
   * The digest thread of the flood going on: a digest cut by its size (maxDigestItems, a memory bound)
   * and the digests after it within the window are parts of one digest, posted in the first part's
   * thread, so a 100,000-row bulk stays one top-level digest per window (issue 16).
   */
  private episode: { ts: string; until: number } | undefined;
  private seq = 0;

  private readonly o: LaneOptions;

  constructor(options: LaneOptions) {
    this.o = options;
  }

  /** Digest listings waiting, over the open and the closed unsent digests. */
  digestSize(): number {
    return this.digestOf.size;
  }

  /**
   * Where this message would fold as a digest line: the open digest's id, '+' for a digest it would
   * open, undefined when it would not go into a digest (a fold run joins records with the same answer).
   */
  foldTarget(message: OutboundMessage, listingKey: string | null): string | undefined {
    if (listingKey === null) return undefined;
    const decision = decideFold(
      this.view(),
      { listingKey, priority: message.priority ?? 'normal' },
      this.o.policy,
    );
    if (decision.kind !== 'digest') return undefined;
    // addToDigest: into the open digest, or one it opens (a listing in a closed digest too).
    return this.open?.id ?? '+';
  }

  /** Would this message be queued as a message of its own (room matters) rather than folded? */
  wouldQueue(message: OutboundMessage, listingKey: string | null): boolean {
    const decision = decideFold(
      this.view(),
      { listingKey, priority: message.priority ?? 'normal' },
      this.o.policy,
    );
    return decision.kind === 'queue';
  }

  /** Returns true when the message went into a digest. */
  submit(message: OutboundMessage, event: ChangeEvent | undefined, share: Share): boolean {
    const priority = message.priority ?? 'normal';
    const listingKey = event?.listingId ?? null;
    const slim = event === undefined ? undefined : this.o.composer.slim(event);
    const decision: FoldDecision =
      slim === undefined
        ? { kind: 'queue' }
        : decideFold(this.view(), { listingKey, priority }, this.o.policy);
    switch (decision.kind) {
      case 'queue':
        if (decision.promote !== undefined) this.promote(decision.promote);
        this.enqueueSingle(listingKey, priority, slim, message.payload, [share]);
        return false;
      case 'coalesce':
        if (slim !== undefined && listingKey !== null) this.coalesce(listingKey, slim, message, share);
        return false;
      case 'digest':
        if (slim !== undefined && listingKey !== null) this.addToDigest(listingKey, slim, share);
        return true;
      case 'lift':
        if (slim !== undefined && listingKey !== null) this.lift(listingKey, slim, message, share);
        return false;
    }
  }

  /** Closes the open digest now (shutdown: its records should not wait out the window). */
  flush(): void {
    if (this.open !== undefined) this.close(this.open, false);
  }

  private view() {
    return {
      queued: (key: string) => {
        const item = this.queuedByListing.get(key);
        return item === undefined ? undefined : { id: item.id, priority: item.priority };
      },
      inDigest: (key: string) => {
        const digest = this.digestOf.get(key);
        if (digest === undefined) return undefined;
        return digest === this.open ? ('open' as const) : ('closed' as const);
      },
      digestOpen: this.open !== undefined,
      flooding:
        this.flooding ||
        (this.lastCutAt !== undefined && this.o.clock.now() - this.lastCutAt < this.o.digestWindowMs),
      pending: this.pending,
    };
  }

  private newItem(kind: Item['kind'], priority: Priority, listingKey: string | null): Item {
    this.seq += 1;
    return {
      id: `${kind}-${this.seq}`,
      kind,
      status: 'queued',
      priority,
      shares: new Set(),
      bySignal: new Map(),
      abort: new AbortController(),
      listingKey,
      entries: new Map(),
      fromMs: Number.POSITIVE_INFINITY,
      toMs: Number.NEGATIVE_INFINITY,
      openedAt: this.o.clock.now(),
      lastAddAt: this.o.clock.now(),
    };
  }

  /** Ties a share to an item: aborting the share takes it off, and an item with no share left is not sent. */
  private attach(item: Item, share: Share): void {
    if (item.shares.has(share)) return;
    item.shares.add(share);
    share.joined();
    const { signal } = share;
    let group = item.bySignal.get(signal);
    if (group === undefined) {
      const shares = new Set<Share>();
      const listener = (): void => {
        item.bySignal.delete(signal);
        let removed = false;
        for (const s of shares) removed = item.shares.delete(s) || removed;
        shares.clear();
        if (removed && item.shares.size === 0) item.abort.abort(signal.reason);
      };
      group = { shares, listener };
      item.bySignal.set(signal, group);
      signal.addEventListener('abort', listener, { once: true });
    }
    group.shares.add(share);
  }

  /** Removes the item's abort listeners (it is settled or moved on: nothing to give up any more). */
  private detach(item: Item): void {
    for (const [signal, group] of item.bySignal) signal.removeEventListener('abort', group.listener);
    item.bySignal.clear();
  }

  private enqueueSingle(
    listingKey: string | null,
    priority: Priority,
    first: ChangeEvent | undefined,
    payload: SlackPayload,
    shares: Share[],
  ): void {
    const item = this.newItem('single', priority, listingKey);
    if (first !== undefined) item.first = first;
    item.payload = payload;
    for (const share of shares) this.attach(item, share);
    if (listingKey !== null) this.queuedByListing.set(listingKey, item);
    this.schedule(item);
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
    for (const item of this.queuedByListing.values()) {
      if (item.id !== id || item.priority === 'urgent') continue;
      item.priority = 'urgent';
      this.queue.setPriority(id, URGENT);
    }
  }

  private coalesce(listingKey: string, event: ChangeEvent, message: OutboundMessage, share: Share): void {
    const item = this.queuedByListing.get(listingKey);
    const net = item?.first === undefined ? null : this.o.composer.net(item.first, event);
    const composed = net === null ? undefined : this.o.composer.single(net, this.o.channelKey);
    if (item === undefined || net === null || (composed === null && this.o.netZero === 'keep')) {
      // Not combinable (a create or delete involved), or both are to be kept: a message of its own,
      // after the queued one (promoted first when this one is urgent, so it cannot overtake it).
      const priority = message.priority ?? 'normal';
      if (item !== undefined && priority === 'urgent') this.promote(item.id);
      this.enqueueSingle(listingKey, priority, event, message.payload, [share]);
      return;
    }
    this.attach(item, share);
    if (composed === null || composed === undefined) {
      // Back where it started: nothing left to say in this channel.
      this.o.onFold('cancelled');
      this.queuedByListing.delete(listingKey);
      this.settle(item, {
        kind: 'dropped',
        reason: 'net-zero: the listing changed back before its message was sent',
      });
      return;
    }
    this.o.onFold('coalesced');
    // The net change so far: a later change nets against it (slim changes carry only what changed).
    item.first = net;
    item.payload = composed.payload;
    if (composed.priority === 'urgent') this.promote(item.id);
  }

  private addToDigest(listingKey: string, event: ChangeEvent, share: Share): void {
    let digest = this.digestOf.get(listingKey);
    if (digest === undefined || digest !== this.open) digest = this.openDigest();
    const entry = digest.entries.get(listingKey);
    const net = entry === undefined ? null : this.o.composer.net(entry.first, event);
    if (entry !== undefined && net !== null) {
      entry.last = this.o.composer.net(entry.last, event) ?? event;
      // A run's records share one share: one reference per listing is enough.
      if (entry.shares[entry.shares.length - 1] !== share) entry.shares.push(share);
    } else if (entry !== undefined) {
      // A create or delete after an update: its own line, under a second key.
      digest.entries.set(`${listingKey}\u0000${this.seq++}`, { first: event, last: event, shares: [share] });
    } else {
      digest.entries.set(listingKey, { first: event, last: event, shares: [share] });
      this.digestOf.set(listingKey, digest);
    }
    this.attach(digest, share);
    digest.lastAddAt = this.o.clock.now();
    const at = event.source.tsMs;
    if (at !== undefined) {
      digest.fromMs = Math.min(digest.fromMs, at);
      digest.toMs = Math.max(digest.toMs, at);
    }
    this.o.onFold('digest');
    if (digest.entries.size >= this.o.maxDigestItems) this.close(digest, true);
  }

  private openDigest(): Item {
    if (this.open !== undefined) return this.open;
    const digest = this.newItem('digest', 'normal', null);
    this.open = digest;
    this.o.onChange();
    const windowEnd = new AbortController();
    digest.windowEnd = windowEnd;
    const end = (): void => windowEnd.abort();
    digest.abort.signal.addEventListener('abort', end, { once: true });
    // The lane's lifetime outlives every digest: its listener goes with the window, or the lifetime
    // signal would pin each digest ever opened, entries and all (issue 16: 67,000 entries of sent
    // digests were still on the heap 30 s into a 100,000-row bulk).
    this.o.lifetime.addEventListener('abort', end, { once: true });
    windowEnd.signal.addEventListener(
      'abort',
      () => {
        this.o.lifetime.removeEventListener('abort', end);
        digest.abort.signal.removeEventListener('abort', end);
      },
      { once: true },
    );
    this.collect(digest, windowEnd.signal).then(
      (paused) => this.close(digest, !paused),
      () => this.close(digest, false),
    );
    return digest;
  }

  /**
   * Waits while the digest keeps growing: until no change joined it for digestQuietMs, or digestWindowMs
   * after it opened. A bulk change streams in over seconds; closing on a fixed beat would cut it into
   * several digests and let messages of their own in between.
   */
  private async collect(digest: Item, signal: AbortSignal): Promise<boolean> {
    for (;;) {
      const now = this.o.clock.now();
      const quiet = digest.lastAddAt + this.o.digestQuietMs - now;
      const window = digest.openedAt + this.o.digestWindowMs - now;
      if (quiet <= 0) return true;
      if (window <= 0) return false;
      await this.o.clock.sleep(Math.min(quiet, window), signal);
    }
  }

  /** `flooding`: cut by its window or size while changes keep coming (the next overflow is a digest too). */
  private close(digest: Item, flooding: boolean): void {
    if (this.open !== digest) return;
    this.open = undefined;
    this.flooding = flooding;
    if (flooding) this.lastCutAt = this.o.clock.now();
    digest.windowEnd?.abort();
    this.schedule(digest);
  }

  /** Urgent for a listing in a digest: its entry leaves the digest and goes ahead as the net change. */
  private lift(listingKey: string, event: ChangeEvent, message: OutboundMessage, share: Share): void {
    const digest = this.digestOf.get(listingKey);
    const entry = digest?.entries.get(listingKey);
    this.digestOf.delete(listingKey);
    if (digest === undefined || entry === undefined) {
      this.enqueueSingle(listingKey, 'urgent', event, message.payload, [share]);
      return;
    }
    digest.entries.delete(listingKey);
    // The entry's shares stay on the digest as well: a share may carry other listings of it (a fold
    // run), and each share settles once per item it joined, so it finishes when both went out.
    this.o.onFold('lifted');
    const net = this.o.composer.net(entry.last, event);
    const composed = net === null ? null : this.o.composer.single(net, this.o.channelKey);
    if (net === null || composed === null) {
      // The folded changes say nothing on their own now: send them as their own line, then this one.
      this.enqueueDigestEntryAlone(listingKey, entry);
      this.enqueueSingle(listingKey, 'urgent', event, message.payload, [share]);
      return;
    }
    this.enqueueSingle(listingKey, 'urgent', net, composed.payload, [...entry.shares, share]);
  }

  private enqueueDigestEntryAlone(listingKey: string, entry: DigestEntry): void {
    const net = this.o.composer.net(entry.first, entry.last) ?? entry.last;
    const composed = this.o.composer.single(net, this.o.channelKey);
    const first = net;
    // Nothing to say on its own (changed back): its shares finish with the digest they are still on.
    if (composed === null) return;
    this.enqueueSingle(listingKey, 'urgent', first, composed.payload, entry.shares);
  }

  private settle(item: Item, fate: Fate): void {
    if (item.status === 'settled') return;
    item.status = 'settled';
    this.detach(item);
    const listing = item.kind === 'single' && item.listingKey !== null ? item.listingKey : undefined;
    for (const share of item.shares) share.settle(fate, listing);
    item.shares.clear();
  }

  /** The item's turn: freeze it, send it, settle its shares. Never throws (p-queue must go on). */
  private async run(item: Item): Promise<void> {
    if (item.status === 'settled') return;
    if (item.listingKey !== null && this.queuedByListing.get(item.listingKey) === item) {
      this.queuedByListing.delete(item.listingKey);
    }
    if (item.kind === 'digest') for (const key of item.entries.keys()) this.forgetDigestKey(key, item);
    if (item.shares.size === 0 || this.o.lifetime.aborted) {
      // Nobody waits for it any more, or delivery stopped (the shares learn that from the scheduler).
      item.status = 'settled';
      this.detach(item);
      return;
    }
    item.status = 'sending';
    // Taken now: a share given up while the message is on the wire was carried all the same.
    const origins = [...item.shares].flatMap(originsOf);
    let claimed = false;
    try {
      const go = await this.claim(origins, this.signalOf(item));
      if (go === 'done') {
        // Another sender (the partition's old owner) delivered it meanwhile.
        this.o.metrics.ledgerHit(this.o.channel);
        const folded = item.kind === 'digest' ? 'digest' : item.shares.size > 1 ? 'coalesced' : 'no';
        this.settle(item, { kind: 'delivered', folded, ts: '' });
        return;
      }
      claimed = true;
      const fate =
        item.kind === 'single' ? await this.sendSingle(item) : await this.sendDigest(item, origins);
      if (fate.kind === 'delivered') await this.remember(origins);
      else void this.release(origins);
      this.settle(item, fate);
    } catch (error) {
      if (claimed) void this.release(origins);
      // Aborted (no share left to deliver for, or delivery stopped): the shares learn it from their own
      // signals or from the scheduler's stop.
      if (this.signalOf(item).aborted) {
        this.detach(item);
        return;
      }
      // A 'stop' error stops delivery. Anything else is this item's own failure (a compose or digest
      // bug met while sending, issue 19): its records are dead-lettered, the lane goes on.
      const failure = asRecordFailure(error, item.kind === 'digest' ? 'digest' : 'compose');
      if (dispositionOf(failure) === 'stop') {
        this.detach(item);
        this.o.onStop(failure);
        return;
      }
      this.settle(item, { kind: 'failed', error: failure });
    }
  }

  /** The delivery ledger's keys of these records in this channel. */
  private keysOf(origins: readonly string[]): string[] {
    return origins.map((origin) => ledgerKey(origin, this.o.channel));
  }

  /** Records what the accepted item carried; a store that fails costs only the protection, not the item. */
  private async remember(origins: string[]): Promise<void> {
    const { ledger, channel } = this.o;
    if (ledger === undefined || origins.length === 0) return;
    try {
      await ledger.record(this.keysOf(origins));
    } catch (error) {
      this.o.metrics.storeFallback('ledger');
      this.o.logger.warn(
        { channel, records: origins.length, error: describeError(error) },
        'delivery ledger write failed: these records could be posted again if read again',
      );
    }
  }

  /**
   * Claims the item's (record, channel) keys before sending. 'busy' (another replica has them on the
   * wire, e.g. the partition's owner before a rebalance) waits until that sender recorded them
   * ('done': nothing to send) or gave them up. A store that fails costs the check, not the item.
   */
  private async claim(origins: string[], signal: AbortSignal): Promise<'send' | 'done'> {
    const { ledger, channel } = this.o;
    if (ledger === undefined || origins.length === 0) return 'send';
    const keys = this.keysOf(origins);
    for (;;) {
      let states: Map<string, string>;
      try {
        states = await ledger.claim(keys, CLAIM_TTL_MS);
      } catch (error) {
        this.o.metrics.storeFallback('ledger');
        this.o.logger.warn({ channel, error: describeError(error) }, 'delivery ledger claim failed; sending');
        return 'send';
      }
      const values = [...states.values()];
      if (values.length > 0 && values.every((v) => v === 'done')) return 'done';
      if (!values.includes('busy')) return 'send';
      await this.o.clock.sleep(CLAIM_POLL_MS, signal);
    }
  }

  private async release(origins: string[]): Promise<void> {
    const { ledger } = this.o;
    if (ledger === undefined || origins.length === 0) return;
    await ledger.release(this.keysOf(origins)).catch(() => {});
  }

  /** An anchor read or write; a store that fails costs the thread (a top-level message), not the item. */
  private async anchor<T>(op: () => Promise<T> | undefined): Promise<T | undefined> {
    try {
      return await op();
    } catch (error) {
      this.o.metrics.storeFallback('anchors');
      this.o.logger.warn(
        { channel: this.o.channel, error: describeError(error) },
        'thread anchor store failed',
      );
      return undefined;
    }
  }

  /** An item's calls end when no share is left to deliver for, or when delivery stops. */
  private signalOf(item: Item): AbortSignal {
    return AbortSignal.any([item.abort.signal, this.o.lifetime]);
  }

  private forgetDigestKey(key: string, digest: Item): void {
    const listingKey = key.split('\u0000')[0] ?? key;
    if (this.digestOf.get(listingKey) === digest) this.digestOf.delete(listingKey);
  }

  private async sendSingle(item: Item): Promise<Fate> {
    const payload = item.payload as SlackPayload;
    const folded = item.shares.size > 1 ? 'coalesced' : 'no';
    const { channel, destination, threads } = this.o;
    const key =
      threads !== undefined && item.listingKey !== null ? anchorKey(channel, item.listingKey) : undefined;
    const threadTs = key === undefined ? undefined : await this.anchor(() => threads?.anchors.get(key));
    const result = await sendGated(
      channel,
      this.o.gates,
      () =>
        threadTs === undefined
          ? destination.post(channel, payload)
          : destination.post(channel, payload, { threadTs }),
      this.o,
      this.signalOf(item),
    );
    if (result.ok && key !== undefined && threadTs === undefined && threads !== undefined) {
      // The listing's first message in the window: its later changes reply under it.
      await this.anchor(() => threads.anchors.set(key, result.value.ts, threads.windowMs));
    }
    return result.ok
      ? { kind: 'delivered', folded, ts: result.value.ts }
      : { kind: 'failed', error: result.error };
  }

  /**
   * The message an earlier sender posted for these records' digest and died before finishing (no file
   * or replies yet, nothing recorded): the one most of them went out in. A store that fails costs the
   * check (the digest is posted as new).
   */
  private async headBefore(origins: string[]): Promise<string | undefined> {
    const { ledger, channel } = this.o;
    if (ledger?.heads === undefined || origins.length === 0) return undefined;
    let heads: Map<string, string>;
    try {
      heads = await ledger.heads(this.keysOf(origins));
    } catch (error) {
      this.o.metrics.storeFallback('ledger');
      this.o.logger.warn({ channel, error: describeError(error) }, 'digest head lookup failed; posting');
      return undefined;
    }
    const counts = new Map<string, number>();
    for (const ts of heads.values()) counts.set(ts, (counts.get(ts) ?? 0) + 1);
    let best: string | undefined;
    for (const [ts, n] of counts) if (best === undefined || n > (counts.get(best) ?? 0)) best = ts;
    return best;
  }

  /** The digest's message was accepted: remembered until its records are, in case this sender dies. */
  private async markHead(origins: string[], ts: string): Promise<void> {
    const { ledger, channel } = this.o;
    if (ledger?.markHead === undefined || origins.length === 0) return;
    try {
      await ledger.markHead(this.keysOf(origins), ts);
    } catch (error) {
      this.o.metrics.storeFallback('ledger');
      this.o.logger.warn(
        { channel, error: describeError(error) },
        'digest head write failed: a crash before its file would post the digest again',
      );
    }
  }

  private async sendDigest(item: Item, origins: string[]): Promise<Fate> {
    const events: ChangeEvent[] = [];
    for (const entry of item.entries.values()) {
      events.push(this.o.composer.net(entry.first, entry.last) ?? entry.last);
    }
    const digest = this.o.composer.digest(this.o.channelKey, events, {
      fromMs: Number.isFinite(item.fromMs) ? item.fromMs : this.o.clock.now(),
      toMs: Number.isFinite(item.toMs) ? item.toMs : this.o.clock.now(),
      upload: this.o.completeList === 'file',
    });
    if (digest === null)
      return { kind: 'dropped', reason: 'net-zero: every change in the digest changed back' };
    const { channel, destination, gates } = this.o;
    const signal = this.signalOf(item);
    const episode = this.episode;
    const parent = episode !== undefined && item.openedAt < episode.until ? episode.ts : undefined;
    // Posted before a crash, its file not: the file and replies go on in that message's thread.
    let threadTs = await this.headBefore(origins);
    if (threadTs !== undefined) {
      this.o.logger.info(
        { channel, threadTs, listings: events.length },
        'digest message already posted before a restart: its list goes on in that thread',
      );
    } else {
      const top = await sendGated(
        channel,
        gates,
        () =>
          parent === undefined
            ? destination.post(channel, digest.payload)
            : destination.post(channel, digest.payload, { threadTs: parent }),
        this.o,
        signal,
      );
      if (!top.ok) return { kind: 'failed', error: top.error };
      threadTs = parent ?? top.value.ts;
      // The thread its file and replies go into (the first part's, for a later part).
      await this.markHead(origins, threadTs);
    }
    if (parent === undefined) this.episode = { ts: threadTs, until: item.openedAt + this.o.digestWindowMs };
    const file = digest.file;
    if (file !== undefined) {
      const up = await sendGated(
        channel,
        gates,
        () => destination.upload(channel, file, { threadTs }),
        this.o,
        signal,
      );
      if (!up.ok) return { kind: 'failed', error: up.error };
    }
    for (const reply of digest.replies) {
      const r = await sendGated(
        channel,
        gates,
        () => destination.post(channel, reply, { threadTs }),
        this.o,
        signal,
      );
      if (!r.ok) return { kind: 'failed', error: r.error };
    }
    return { kind: 'delivered', folded: 'digest', ts: threadTs };
  }
}
