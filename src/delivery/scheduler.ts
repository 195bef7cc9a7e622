/**
 * Delivery to the chat service: one lane per channel (lane.ts) at the channel's pace, a workspace-wide
 * gate over all of them, and flood control (fold.ts): a channel at its pace never holds up other
 * channels or the records behind it, because what it cannot send within its budget is folded into the
 * listing's pending message or the channel's digest instead of queueing.
 *
 * Gates (pace.ts): each channel `perChannel.cap` per `perChannel.intervalMs`, up to `burst` at once
 * after a quiet spell; the workspace `workspace.cap` per `workspace.intervalMs`. A busy channel gets one
 * call every 1000 ms with the defaults. An auth failure (SLACK_AUTH, disposition 'stop') stops the
 * scheduler: every pending and later submission rejects with it.
 */
import type { Config } from '../config/index.ts';
import { floodSchema } from '../config/service.ts';
import type { NotifierError } from '../domain/errors.ts';
import type { OutboundMessage } from '../domain/message.ts';
import {
  type ChatDestination,
  type Clock,
  type Deliverer,
  type DeliveryLedger,
  type DeliveryResult,
  type Fate,
  type Logger,
  type MessageComposer,
  type Metrics,
  noopLogger,
  noopMetrics,
  type PaceBucket,
  type PaceGate,
  type SharedShare,
  type ThreadAnchors,
} from '../ports/index.ts';
import { createMemoryAnchors } from './anchors.ts';
import { capacityOf } from './fold.ts';
import { Lane, type LaneOptions } from './lane.ts';
import { createMemoryPaceGate } from './pace-gate.ts';
import type { RetryPolicy } from './retry-policy.ts';

/**
 * The options come from the config schema (src/config/service.ts), validated there once: their types
 * are its output types, so a new option is one edit there, and nothing here checks them again.
 */
type DeliveryConfig = Config['delivery'];

/** `cap` calls per `intervalMs` (config `delivery.perChannel`, `delivery.workspace`). */
export type Rate = DeliveryConfig['perChannel'];

/** Config `delivery.flood` (floodSchema), less the record loop's own backpressure bound. */
export type FloodOptions = Omit<DeliveryConfig['flood'], 'maxFoldedRecords'>;

/**
 * Flood control off (dead-letter redrive: one late message is never folded into a digest): the
 * schema's defaults with `enabled: false`, so they cannot drift from the config's.
 */
export const floodOff: FloodOptions = floodSchema.parse({ enabled: false });

export interface DeliverySchedulerOptions {
  destination: ChatDestination;
  composer: MessageComposer;
  clock: Clock;
  metrics?: Metrics;
  logger?: Logger;
  /** Sustained pace per channel (config `delivery.perChannel`, default 1 per 1000 ms). */
  perChannel: Rate;
  /** How many calls a quiet channel may send at once before the pace applies (config default 3). */
  burst: number;
  /** Cap over all channels together (config `delivery.workspace`, default 20 per 1000 ms). */
  workspace: Rate;
  /** Messages of their own a lane may hold (urgent ones, or all with flood control off). Default 200. */
  maxQueuedPerChannel: number;
  flood: FloodOptions;
  retry: RetryPolicy;
  /** Jitter source, [0, 1); default Math.random. */
  random?: () => number;
  /** The pace gates (shared store, or this process). Default: in this process. */
  pace?: PaceGate;
  /** The delivery ledger accepted messages are recorded in. Default: none. */
  ledger?: DeliveryLedger;
  /** Thread per listing (config delivery.threads): channel keys and window. Default: no threads. */
  threads?: { channels: readonly string[]; windowMs: number };
  /** Where thread anchors (and the listings' messages to edit in place) live. Default: in this process. */
  anchors?: ThreadAnchors;
  /**
   * Update in place (config delivery.updates): the channel keys where it is on, the window, chat.update's
   * pace, and the rules' own say (rules[].update, by rule name; read per message: rules reload).
   * Default: off, unless a rule asks for it.
   */
  updates?: {
    channels: readonly string[];
    windowMs: number;
    pace: { cap: number; intervalMs: number; burst: number };
    modes?: () => ReadonlyMap<string, 'in-place' | 'new'>;
  };
}

/**
 * Pure: whether a message sent by `rules` edits its listing's earlier message. A rule that says
 * `update: in-place` turns it on; otherwise a rule that says `new` turns it off; otherwise the channel
 * decides (`listed`: in delivery.updates.channels).
 */
export function wantsInPlace(
  rules: readonly string[] | undefined,
  modes: ReadonlyMap<string, 'in-place' | 'new'>,
  listed: boolean,
): boolean {
  const said = (rules ?? []).map((r) => modes.get(r));
  if (said.includes('in-place')) return true;
  if (said.includes('new')) return false;
  return listed;
}

export interface DeliveryScheduler extends Deliverer {
  /** Top-level messages queued or being sent, over all channels. */
  pending(): number;
  /** Digest listings waiting per channel (open and closed, unsent). */
  digestSizes(): Record<string, number>;
  /**
   * Ends every wait (digest windows, retries, pace) after the service has drained: what is still
   * unsent was not committed and will be read again. Without it a digest window's timer would keep the
   * process alive after a graceful stop.
   */
  close(): void;
}

interface Waiter {
  reject(error: unknown): void;
}

const RANK: Record<Fate['kind'], number> = { dropped: 0, delivered: 1, failed: 2 };
/** A share carried by several items ends with the gravest fate: one refusal dead-letters it. */
export const graver = (a: Fate | undefined, b: Fate): Fate =>
  a === undefined || RANK[b.kind] > RANK[a.kind] ? b : a;

/** A promise and its settlers, made outside any caller's scope (so it captures nothing of theirs). */
function deferred<T>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
} {
  let resolve: (value: T) => void = () => {};
  let reject: (error: unknown) => void = () => {};
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export function createDeliveryScheduler(opts: DeliverySchedulerOptions): DeliveryScheduler {
  const { clock, flood } = opts;
  const metrics = opts.metrics ?? noopMetrics;
  const logger = opts.logger ?? noopLogger;
  const random = opts.random ?? Math.random;
  const pace = opts.pace ?? createMemoryPaceGate(clock);
  const anchors = opts.anchors ?? createMemoryAnchors(clock);
  const threaded = new Set(opts.threads?.channels ?? []);
  /** Update in place for a lane of a channel the destination can edit; none without `updates`. */
  const { updates } = opts;
  const updatesFor = (channel: string, channelKey: string): LaneOptions['updates'] => {
    if (updates === undefined || opts.destination.canUpdate?.(channel) !== true) return undefined;
    const listed = updates.channels.includes(channelKey);
    const noModes: ReadonlyMap<string, 'in-place' | 'new'> = new Map();
    return {
      anchors,
      windowMs: updates.windowMs,
      bucket: { key: 'method:chat.update', ...updates.pace },
      wanted: (rules) => wantsInPlace(rules, updates.modes?.() ?? noModes, listed),
    };
  };
  const workspace: PaceBucket = { key: 'workspace', ...opts.workspace, burst: opts.workspace.cap };
  const lifetime = new AbortController();
  const lanes = new Map<string, Lane>();
  const policy = {
    enabled: flood.enabled,
    coalesce: flood.enabled && flood.coalesce,
    capacity: capacityOf(flood.budgetMs, opts.perChannel),
  };
  let stopError: NotifierError | undefined;
  /**
   * Submissions waiting for their fate, by the signal that gives them up. One abort listener per signal
   * (a partition's), never one per submission: a signal's listeners are a list that every add walks
   * (Node's EventTarget checks for duplicates), so a listener per folded record made a 100,000-row bulk
   * quadratic: 130 s of adds alone on this machine (issue 16). The same registry rejects them all on stop.
   */
  const waiting = new Map<AbortSignal, Set<Waiter>>();
  const waitOn = (signal: AbortSignal, waiter: Waiter): Set<Waiter> => {
    let set = waiting.get(signal);
    if (set === undefined) {
      const created = new Set<Waiter>();
      set = created;
      waiting.set(signal, created);
      signal.addEventListener(
        'abort',
        () => {
          waiting.delete(signal);
          for (const w of created) w.reject(signal.reason);
          created.clear();
        },
        { once: true },
      );
    }
    set.add(waiter);
    return set;
  };
  let idleWaiters: Array<() => void> = [];
  let roomWaiters: Array<{ channel: string; resolve: () => void }> = [];

  const busy = (): boolean => [...lanes.values()].some((l) => l.pending > 0 || l.digestSize() > 0);

  const changed = (channel: string, lane: Lane): void => {
    metrics.setQueueDepth(channel, lane.pending);
    if (lane.pending < opts.maxQueuedPerChannel) {
      const ready = roomWaiters.filter((w) => w.channel === channel);
      roomWaiters = roomWaiters.filter((w) => w.channel !== channel);
      for (const w of ready) w.resolve();
    }
    if (!busy()) {
      const ready = idleWaiters;
      idleWaiters = [];
      for (const resolve of ready) resolve();
    }
  };

  const stop = (error: NotifierError): void => {
    if (stopError !== undefined) return;
    stopError = error;
    logger.error({ err: error, code: error.code }, 'delivery stopped');
    lifetime.abort(error);
    const all = [...waiting.values()];
    waiting.clear();
    for (const set of all) {
      for (const w of set) w.reject(error);
      set.clear();
    }
  };

  const laneFor = (message: OutboundMessage): Lane => {
    const { channel } = message;
    let lane = lanes.get(channel);
    if (lane === undefined) {
      const channelKey = message.channelKey ?? channel;
      const editing = updatesFor(channel, channelKey);
      const created: Lane = new Lane({
        channel,
        channelKey,
        destination: opts.destination,
        composer: opts.composer,
        gates: {
          pace,
          channel: { key: `channel:${channel}`, ...opts.perChannel, burst: opts.burst },
          workspace,
        },
        ...(opts.ledger === undefined ? {} : { ledger: opts.ledger }),
        ...(threaded.has(channelKey) && opts.threads !== undefined
          ? { threads: { anchors, windowMs: opts.threads.windowMs } }
          : {}),
        ...(editing === undefined ? {} : { updates: editing }),
        policy,
        netZero: flood.netZero,
        digestQuietMs: flood.digestQuietMs,
        digestWindowMs: flood.digestWindowMs,
        maxDigestItems: flood.maxDigestItems,
        completeList: flood.channels[channelKey]?.completeList ?? flood.completeList,
        clock,
        metrics,
        logger,
        retry: opts.retry,
        random,
        lifetime: lifetime.signal,
        onStop: stop,
        onChange: () => changed(channel, created),
        onFold: (kind) => metrics.folded(channel, kind),
      });
      lane = created;
      lanes.set(channel, lane);
    }
    return lane;
  };

  const submit: Deliverer['submit'] = (message, event, signal, origin) => {
    if (stopError !== undefined) return { digest: false, fate: Promise.reject(stopError) };
    if (signal.aborted) return { digest: false, fate: Promise.reject(signal.reason) };
    const lane = laneFor(message);
    // No closure here may capture `message` or `event`: a record folded into a digest waits with its
    // share, and the share must not keep the whole decoded event (or the rendered payload) alive.
    const { promise, resolve, reject } = deferred<Fate>();
    const waiter: Waiter = { reject };
    const set = waitOn(signal, waiter);
    // Once per item the share joined (lane/item.ts attach), the gravest fate of them when the last settles.
    let items = 0;
    let fate: Fate | undefined;
    const submitted = lane.submit(message, event, {
      joined: () => {
        items += 1;
      },
      settle: (f) => {
        items -= 1;
        fate = graver(fate, f);
        if (items > 0) return;
        set.delete(waiter);
        resolve(fate);
      },
      signal,
      ...(origin === undefined ? {} : { origin }),
    });
    return {
      digest: submitted !== 'queued',
      ...(submitted === 'throttled' ? { throttled: true } : {}),
      fate: promise,
    };
  };

  /** Fold runs being watched for a stop or an abort: one waiter each, not one per record. */
  const watched = new WeakMap<SharedShare, () => void>();
  const submitShared: Deliverer['submitShared'] = (message, event, share) => {
    if (stopError !== undefined || share.signal.aborted) {
      share.fail(stopError ?? share.signal.reason);
      return;
    }
    if (!watched.has(share)) {
      const waiter: Waiter = { reject: (error) => share.fail(error) };
      const set = waitOn(share.signal, waiter);
      watched.set(share, () => set.delete(waiter));
    }
    laneFor(message).submit(message, event, share);
  };

  return {
    submit,
    submitShared,
    forget(share) {
      watched.get(share)?.();
      watched.delete(share);
    },
    foldTarget(message, event) {
      if (stopError !== undefined || event === undefined) return undefined;
      return lanes.get(message.channel)?.foldTarget(message, event.listingId ?? null);
    },
    accepts(message, event) {
      const lane = lanes.get(message.channel);
      if (lane === undefined || lane.pending < opts.maxQueuedPerChannel) return true;
      return !lane.wouldQueue(message, event?.listingId ?? null);
    },
    waitForRoom: (channel) =>
      (lanes.get(channel)?.pending ?? 0) < opts.maxQueuedPerChannel
        ? Promise.resolve()
        : new Promise((resolve) => roomWaiters.push({ channel, resolve })),
    pending: () => [...lanes.values()].reduce((n, l) => n + l.pending, 0),
    pendingByChannel: () =>
      Object.fromEntries([...lanes].filter(([, l]) => l.pending > 0).map(([ch, l]) => [ch, l.pending])),
    digestSizes: () =>
      Object.fromEntries(
        [...lanes].filter(([, l]) => l.digestSize() > 0).map(([ch, l]) => [ch, l.digestSize()]),
      ),
    async deliver(message, signal = new AbortController().signal): Promise<DeliveryResult> {
      const fate = await submit(message, undefined, signal).fate;
      if (fate.kind === 'failed') return { ok: false, error: fate.error };
      return { ok: true, ts: fate.kind === 'delivered' ? fate.ts : '' };
    },
    flush() {
      for (const lane of lanes.values()) lane.flush();
    },
    close() {
      for (const lane of lanes.values()) lane.flush();
      if (!lifetime.signal.aborted) lifetime.abort(new Error('delivery closed'));
    },
    onIdle: () => (busy() ? new Promise((resolve) => idleWaiters.push(resolve)) : Promise.resolve()),
  };
}
