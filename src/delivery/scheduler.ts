/**
 * Delivers messages to Slack at Slack's pace, one FIFO lane per channel plus a workspace-wide gate.
 *
 * Slack's rule for chat.postMessage (https://docs.slack.dev/apis/web-api/rate-limits, "Posting
 * messages"): about one message per second per channel, short bursts above that allowed but not
 * guaranteed to be stored, and an unnumbered workspace-wide limit; past it, HTTP 429 with Retry-After.
 *
 * How that is modelled here:
 * - Each channel has a p-queue with concurrency 1: messages to one channel leave in the order they
 *   were queued (order per listing is kept) and a message being retried holds back the ones behind it.
 * - Every HTTP call (first attempts and retries alike) passes two token-bucket gates (pace.ts): the
 *   channel's (`perChannel.cap` per `perChannel.intervalMs`, up to `burst` at once after a quiet spell)
 *   and the workspace's (`workspace.cap` per `workspace.intervalMs`, up to `workspace.cap` at once).
 *   With the defaults a busy channel gets one call every 1000 ms, evenly spaced, and a quiet one may
 *   send 3 at once. The gates count calls, not queue tasks (p-queue's `interval` counts task starts, and
 *   a task here may make several calls, or wait on the workspace gate after its channel slot opened,
 *   which would let two calls to one channel land closer than the pace). Both gates are checked at the
 *   same instant, just before the call. The workspace gate records the call then (it is shared, so the
 *   slot is taken at once); the channel gate records it when the answer arrives: Slack saw the call
 *   somewhere between our send and its answer, so pacing from the answer keeps the calls as Slack
 *   sees them within the pace whatever the network delays (measured against the stand-in: pacing from
 *   the send met a 429 every few hundred calls at equal pace; from the answer, none).
 * - A 429 blocks that channel's gate for Retry-After (the pause), then the same message is retried.
 * - Transient failures retry with capped exponential backoff and jitter (retry-policy.ts), without
 *   giving up, until the caller's signal aborts.
 * - Permanent failures resolve { ok: false } for the caller to dead-letter; an auth failure stops the
 *   scheduler: that call and every later or queued one reject with the same NotifierError.
 * The decision per error follows errorDispositions (src/domain/errors.ts), nowhere else.
 */
import PQueue from 'p-queue';
import { slackFailureLabel } from '../adapters/slack-chat.ts';
import { isNotifierError, NotifierError } from '../domain/errors.ts';
import type { OutboundMessage } from '../domain/message.ts';
import {
  type ChatDestination,
  type Clock,
  type Logger,
  type Metrics,
  noopLogger,
  noopMetrics,
} from '../ports/index.ts';
import { createPaceWindow, type PaceWindow } from './pace.ts';
import { backoffDelay, type RetryPolicy } from './retry-policy.ts';

export type DeliveryResult = { ok: true; ts: string } | { ok: false; error: NotifierError };

export interface DeliveryScheduler {
  /**
   * Queues one message on its channel's queue. Resolves when Slack accepted it, or with ok:false when
   * it failed permanently. Retries 429s and transient failures until `signal` aborts (then rejects with
   * the signal's reason). Rejects with the NotifierError (disposition 'stop') on SLACK_AUTH and from
   * then on rejects everything.
   */
  deliver(message: OutboundMessage, signal?: AbortSignal): Promise<DeliveryResult>;
  /** Resolves when the channel has fewer than maxQueuedPerChannel messages queued or in flight. */
  waitForRoom(channel: string): Promise<void>;
  /** Messages queued or in flight, in total. */
  pending(): number;
  /** Messages queued or in flight per channel (channels with none are left out). */
  pendingByChannel(): Record<string, number>;
  /** Resolves when nothing is queued or in flight. */
  onIdle(): Promise<void>;
}

export interface Rate {
  /** Length of one interval in ms. Config default 1000. */
  intervalMs: number;
  /** Calls allowed per interval. Config default 1 per channel, 20 for the workspace. */
  cap: number;
}

export interface DeliverySchedulerOptions {
  destination: ChatDestination;
  clock: Clock;
  metrics?: Metrics;
  logger?: Logger;
  /** Sustained pace per channel (config `delivery.perChannel`, default 1 per 1000 ms). */
  perChannel: Rate;
  /** How many calls a quiet channel may send at once before the pace applies (config default 3). */
  burst: number;
  /** Cap over all channels together (config `delivery.workspace`, default 20 per 1000 ms). */
  workspace: Rate;
  /** Soft bound behind waitForRoom (config default 200). */
  maxQueuedPerChannel: number;
  retry: RetryPolicy;
  /** Jitter source, [0, 1); default Math.random. */
  random?: () => number;
}

interface Lane {
  queue: PQueue;
  pace: PaceWindow;
  count: number;
}

interface Entry {
  /** Aborts the sleeps of this delivery (caller's signal, or the scheduler stopping). */
  readonly abort: (reason: unknown) => void;
}

function checkOptions(opts: DeliverySchedulerOptions): void {
  const positiveInts: Array<[string, number]> = [
    ['delivery.perChannel.intervalMs', opts.perChannel.intervalMs],
    ['delivery.perChannel.cap', opts.perChannel.cap],
    ['delivery.burst', opts.burst],
    ['delivery.workspace.intervalMs', opts.workspace.intervalMs],
    ['delivery.workspace.cap', opts.workspace.cap],
    ['delivery.maxQueuedPerChannel', opts.maxQueuedPerChannel],
  ];
  for (const [path, value] of positiveInts) {
    if (!Number.isInteger(value) || value < 1) {
      throw new NotifierError('CONFIG_INVALID', `${path}: expected a positive integer, got ${String(value)}`);
    }
  }
}

export function createDeliveryScheduler(opts: DeliverySchedulerOptions): DeliveryScheduler {
  checkOptions(opts);
  const { destination, clock, retry } = opts;
  const metrics = opts.metrics ?? noopMetrics;
  const logger = opts.logger ?? noopLogger;
  const random = opts.random ?? Math.random;
  const workspace = createPaceWindow({ ...opts.workspace, burst: opts.workspace.cap });
  const lanes = new Map<string, Lane>();
  const live = new Set<Entry>();
  let total = 0;
  let stopError: NotifierError | undefined;
  let idleWaiters: Array<() => void> = [];
  let roomWaiters: Array<{ channel: string; resolve: () => void }> = [];

  const laneFor = (channel: string): Lane => {
    let lane = lanes.get(channel);
    if (lane === undefined) {
      lane = {
        queue: new PQueue({ concurrency: 1 }),
        pace: createPaceWindow({ ...opts.perChannel, burst: opts.burst }),
        count: 0,
      };
      lanes.set(channel, lane);
    }
    return lane;
  };

  const changed = (channel: string, lane: Lane): void => {
    metrics.setQueueDepth(channel, lane.count);
    if (lane.count < opts.maxQueuedPerChannel) {
      const ready = roomWaiters.filter((w) => w.channel === channel);
      roomWaiters = roomWaiters.filter((w) => w.channel !== channel);
      for (const w of ready) w.resolve();
    }
    if (total === 0) {
      const ready = idleWaiters;
      idleWaiters = [];
      for (const resolve of ready) resolve();
    }
  };

  const stop = (error: NotifierError): void => {
    if (stopError !== undefined) return;
    stopError = error;
    logger.error({ err: error, code: error.code }, 'Slack rejected the bot token; delivery stopped');
    for (const entry of live) entry.abort(error);
  };

  /**
   * Waits until both the channel's and the workspace's gates allow a call, and takes the workspace's
   * slot. The channel's is recorded by the caller when the call ends (one call per channel at a time).
   */
  const acquire = async (lane: Lane, signal: AbortSignal): Promise<void> => {
    for (;;) {
      const now = clock.now();
      // Whole ms: timers round fractions (intervalMs / cap need not be an integer) down.
      const delay = Math.ceil(Math.max(lane.pace.delayAt(now), workspace.delayAt(now)));
      if (delay <= 0) {
        workspace.record(now);
        return;
      }
      await clock.sleep(delay, signal);
    }
  };

  /** One message through to a final answer: Slack's ts, a permanent failure, or a throw. */
  const run = async (message: OutboundMessage, lane: Lane, signal: AbortSignal): Promise<DeliveryResult> => {
    const { channel } = message;
    let transientFailures = 0;
    for (;;) {
      signal.throwIfAborted();
      await acquire(lane, signal);
      try {
        const { ts } = await destination.post(channel, message.payload);
        lane.pace.record(clock.now());
        metrics.slackCall('ok');
        return { ok: true, ts };
      } catch (thrown) {
        lane.pace.record(clock.now());
        const error = isNotifierError(thrown)
          ? thrown
          : new NotifierError('SLACK_TRANSIENT', 'chat destination threw a non-NotifierError', {
              cause: thrown,
              details: { failure: 'unknown' },
            });
        metrics.slackCall(slackFailureLabel(error));
        if (error.disposition === 'stop') {
          stop(error);
          throw error;
        }
        if (error.disposition === 'dead-letter') {
          logger.warn({ channel, code: error.code, details: error.details }, 'Slack refused the message');
          return { ok: false, error };
        }
        if (error.code === 'SLACK_RATE_LIMITED') {
          const retryAfterMs = Number(error.details.retryAfterMs ?? 1000);
          lane.pace.blockUntil(clock.now() + retryAfterMs);
          metrics.rateLimited(channel);
          logger.warn(
            { channel, retryAfterMs },
            'Slack rate limited the channel; pausing it for Retry-After',
          );
          continue;
        }
        const delayMs = backoffDelay(retry, transientFailures, random);
        transientFailures += 1;
        logger.warn(
          { channel, code: error.code, details: error.details, attempt: transientFailures, delayMs },
          'Slack call failed; retrying',
        );
        await clock.sleep(delayMs, signal);
      }
    }
  };

  const deliver = (message: OutboundMessage, signal?: AbortSignal): Promise<DeliveryResult> => {
    if (stopError !== undefined) return Promise.reject(stopError);
    if (signal?.aborted) return Promise.reject(signal.reason);
    const { channel } = message;
    const lane = laneFor(channel);
    // Two controllers: p-queue's signal may only fire while the task still waits (aborting a running
    // p-queue task frees its slot while the call goes on, breaking order and pace); the run's own
    // signal ends its sleeps whenever it fires.
    const whileQueued = new AbortController();
    const whileRunning = new AbortController();
    let started = false;
    return new Promise<DeliveryResult>((resolve, reject) => {
      const entry: Entry = {
        abort: (reason) => {
          if (!started) whileQueued.abort(reason);
          whileRunning.abort(reason);
          reject(reason);
        },
      };
      const onAbort = (): void => entry.abort(signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      live.add(entry);
      total += 1;
      lane.count += 1;
      metrics.setQueueDepth(channel, lane.count);
      lane.queue
        .add(
          () => {
            started = true;
            if (stopError !== undefined) throw stopError;
            return run(message, lane, whileRunning.signal);
          },
          { signal: whileQueued.signal },
        )
        .then(resolve, reject)
        .finally(() => {
          signal?.removeEventListener('abort', onAbort);
          live.delete(entry);
          total -= 1;
          lane.count -= 1;
          changed(channel, lane);
        });
    });
  };

  return {
    deliver,
    waitForRoom: (channel) =>
      (lanes.get(channel)?.count ?? 0) < opts.maxQueuedPerChannel
        ? Promise.resolve()
        : new Promise((resolve) => roomWaiters.push({ channel, resolve })),
    pending: () => total,
    pendingByChannel: () =>
      Object.fromEntries(
        [...lanes].filter(([, lane]) => lane.count > 0).map(([ch, lane]) => [ch, lane.count]),
      ),
    onIdle: () => (total === 0 ? Promise.resolve() : new Promise((resolve) => idleWaiters.push(resolve))),
  };
}
