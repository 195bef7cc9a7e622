/**
 * Fakes for the app's unit tests (record loop, service): a manual clock, a scripted pipeline, a
 * deliverer whose deliveries the test completes one by one (the real scheduler is tested on its own),
 * a capturing logger and recording metrics. Fakes of the I/O ports live beside this file
 * (fake-chat.ts, fake-source.ts, fake-dead-letter.ts).
 */
import { NotifierError } from '../../src/domain/errors.ts';
import type { OutboundMessage } from '../../src/domain/message.ts';
import type { Outcome } from '../../src/domain/outcome.ts';
import type { SourceRecord } from '../../src/domain/record.ts';
import type {
  Clock,
  Deliverer,
  DeliveryResult,
  Fate,
  Logger,
  Metrics,
  RecordPipeline,
} from '../../src/ports/index.ts';

export interface ManualClock extends Clock {
  /** Moves time forward, waking sleepers in due order. */
  advance(ms: number): Promise<void>;
  sleeping(): number;
}

export function createManualClock(start = 1_767_225_600_000): ManualClock {
  let now = start;
  let sleepers: Array<{ at: number; resolve: () => void }> = [];
  return {
    now: () => now,
    sleep(ms, signal) {
      return new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        const sleeper = { at: now + ms, resolve };
        sleepers.push(sleeper);
        signal?.addEventListener(
          'abort',
          () => {
            sleepers = sleepers.filter((s) => s !== sleeper);
            reject(signal.reason);
          },
          { once: true },
        );
      });
    },
    async advance(ms) {
      const until = now + ms;
      for (;;) {
        const due = sleepers.filter((s) => s.at <= until).sort((a, b) => a.at - b.at)[0];
        if (due === undefined) break;
        now = Math.max(now, due.at);
        sleepers = sleepers.filter((s) => s !== due);
        due.resolve();
        await flush();
      }
      now = until;
      await flush();
    },
    sleeping: () => sleepers.length,
  };
}

/**
 * Waits until `condition` holds, letting pending callbacks run between checks (a macrotask turn each,
 * so timers at 0 ms and I/O callbacks run too); fails naming `what` when it still does not hold after
 * `maxTurns` turns. Prefer it to flush(): it says what the test waits for, and does not pass merely
 * because the turns ran out.
 */
export async function settled(
  condition: () => boolean,
  what = 'the condition',
  maxTurns = 1000,
): Promise<void> {
  for (let turn = 0; turn < maxTurns; turn += 1) {
    if (condition()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (!condition()) throw new Error(`not settled after ${maxTurns} turns: ${what}`);
}

/**
 * The other wait: for something that must not happen (yet), where there is nothing to wait for. Lets
 * pending callbacks run for `turns` macrotask turns and fails naming `what` as soon as `condition`
 * stops holding.
 */
export async function stays(condition: () => boolean, what: string, turns = 20): Promise<void> {
  for (let turn = 0; turn < turns; turn += 1) {
    if (!condition()) throw new Error(`no longer true after ${turn} turns: ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (!condition()) throw new Error(`no longer true after ${turns} turns: ${what}`);
}

/** Lets every pending promise callback run (five turns). Prefer settled(condition). */
export const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i += 1) await new Promise((resolve) => setImmediate(resolve));
};

/** Record values in these tests are tiny JSON scripts telling the pipeline what to decide. */
export interface Script {
  kind: 'notify' | 'dropped' | 'dead-letter';
  channels?: string[];
  listingId?: string;
  sourceTsMs?: number;
}

export const script = (s: Script): string => JSON.stringify(s);

export const outcomeFor = (record: SourceRecord): Outcome => {
  const s = JSON.parse(record.value?.toString() ?? '{"kind":"dropped"}') as Script;
  const context = {
    ...(s.listingId === undefined ? {} : { listingId: s.listingId }),
    ...(s.sourceTsMs === undefined ? {} : { sourceTsMs: s.sourceTsMs }),
  };
  if (s.kind === 'dropped')
    return { kind: 'dropped', reason: 'insignificant: no watched field changed', ...context };
  if (s.kind === 'dead-letter') {
    return {
      kind: 'dead-letter',
      reason: 'DECODE_FAILED: not JSON',
      error: new NotifierError('DECODE_FAILED', 'not JSON'),
      ...context,
    };
  }
  const messages: OutboundMessage[] = (s.channels ?? []).map((channel) => ({
    channel,
    payload: { text: `offset ${record.offset}`, blocks: [] },
  }));
  return { kind: 'notify', reason: 'notify: price decreased -> sales-alerts', messages, ...context };
};

export interface ScriptedPipeline extends RecordPipeline {
  calls: number;
  /** The next calls throw these errors, in order, before the pipeline answers normally again. */
  throwNext(...errors: unknown[]): void;
}

export function createScriptedPipeline(
  decide: (record: SourceRecord) => Outcome = outcomeFor,
): ScriptedPipeline {
  const queue: unknown[] = [];
  const pipeline: ScriptedPipeline = {
    calls: 0,
    async process(record) {
      pipeline.calls += 1;
      if (queue.length > 0) throw queue.shift();
      return decide(record);
    },
    throwNext(...errors) {
      queue.push(...errors);
    },
  };
  return pipeline;
}

interface PendingDelivery {
  message: OutboundMessage;
  resolve: (fate: Fate) => void;
  reject: (error: unknown) => void;
}

export interface ManualDeliverer extends Deliverer {
  /** Every message handed over, in order. */
  handed: OutboundMessage[];
  pending(channel?: string): number;
  /** Settles the oldest pending delivery of `channel` (default: ok). */
  complete(channel: string, result?: DeliveryResult | { reject: unknown }): void;
  /** Settles every pending delivery ok, repeatedly, until none is left. */
  completeAll(): Promise<void>;
  /** Abort signals that fired. */
  aborted: number;
}

export function createManualDeliverer(maxQueuedPerChannel = Number.POSITIVE_INFINITY): ManualDeliverer {
  const queues = new Map<string, PendingDelivery[]>();
  let roomWaiters: Array<{ channel: string; resolve: () => void }> = [];
  let ts = 0;
  const queue = (channel: string) => {
    let q = queues.get(channel);
    if (q === undefined) {
      q = [];
      queues.set(channel, q);
    }
    return q;
  };
  const wakeRoomWaiters = () => {
    const still: typeof roomWaiters = [];
    for (const w of roomWaiters) {
      if (queue(w.channel).length < maxQueuedPerChannel) w.resolve();
      else still.push(w);
    }
    roomWaiters = still;
  };
  const deliverer: ManualDeliverer = {
    handed: [],
    aborted: 0,
    submit(message, _event, signal) {
      deliverer.handed.push(message);
      const fate = new Promise<Fate>((resolve, reject) => {
        const entry: PendingDelivery = { message, resolve, reject };
        queue(message.channel).push(entry);
        signal.addEventListener(
          'abort',
          () => {
            const q = queue(message.channel);
            const i = q.indexOf(entry);
            if (i >= 0) q.splice(i, 1);
            deliverer.aborted += 1;
            reject(signal.reason);
            wakeRoomWaiters();
          },
          { once: true },
        );
      });
      return { digest: false, fate };
    },
    async deliver(message, signal = new AbortController().signal) {
      const fate = await deliverer.submit(message, undefined, signal).fate;
      if (fate.kind === 'failed') return { ok: false, error: fate.error };
      return { ok: true, ts: fate.kind === 'delivered' ? fate.ts : '' };
    },
    accepts: (message) => queue(message.channel).length < maxQueuedPerChannel,
    // No digests here: nothing folds, so the record loop never starts a fold run.
    foldTarget: () => undefined,
    submitShared: () => {
      throw new Error('the manual deliverer has no digests: no fold run can submit to it');
    },
    forget: () => {},
    flush: () => {},
    onIdle: async () => {
      while (deliverer.pending() > 0) await flush();
    },
    pendingByChannel() {
      const out: Record<string, number> = {};
      for (const [channel, q] of queues) if (q.length > 0) out[channel] = q.length;
      return out;
    },
    waitForRoom(channel) {
      if (queue(channel).length < maxQueuedPerChannel) return Promise.resolve();
      return new Promise((resolve) => roomWaiters.push({ channel, resolve }));
    },
    pending: (channel) =>
      channel === undefined ? [...queues.values()].reduce((n, q) => n + q.length, 0) : queue(channel).length,
    complete(channel, result) {
      const entry = queue(channel).shift();
      if (entry === undefined) throw new Error(`nothing pending for ${channel}`);
      if (result !== undefined && 'reject' in result) entry.reject(result.reject);
      else if (result !== undefined && !result.ok) entry.resolve({ kind: 'failed', error: result.error });
      else {
        ts += 1;
        entry.resolve({ kind: 'delivered', folded: 'no', ts: `1767225600.${String(ts).padStart(6, '0')}` });
      }
      wakeRoomWaiters();
    },
    async completeAll() {
      while (deliverer.pending() > 0) {
        for (const channel of [...queues.keys()])
          while (queue(channel).length > 0) deliverer.complete(channel);
        await flush();
      }
    },
  };
  return deliverer;
}

export interface CapturedLog {
  level: 'debug' | 'info' | 'warn' | 'error';
  fields: Record<string, unknown>;
  msg: string | undefined;
}

export function createCapturingLogger(): Logger & { lines: CapturedLog[] } {
  const lines: CapturedLog[] = [];
  const make = (bindings: Record<string, unknown>): Logger & { lines: CapturedLog[] } => ({
    lines,
    debug: (fields, msg) => lines.push({ level: 'debug', fields: { ...bindings, ...fields }, msg }),
    info: (fields, msg) => lines.push({ level: 'info', fields: { ...bindings, ...fields }, msg }),
    warn: (fields, msg) => lines.push({ level: 'warn', fields: { ...bindings, ...fields }, msg }),
    error: (fields, msg) => lines.push({ level: 'error', fields: { ...bindings, ...fields }, msg }),
    child: (more) => make({ ...bindings, ...more }),
  });
  return make({});
}

export function createRecordingMetrics(): Metrics & {
  outcomes: Array<[string, string]>;
  latencies: number[];
  lags: Map<string, number>;
} {
  const m = {
    outcomes: [] as Array<[string, string]>,
    latencies: [] as number[],
    lags: new Map<string, number>(),
    recordOutcome: (outcome: string, reason: string) => {
      m.outcomes.push([outcome, reason]);
    },
    observeEndToEndLatency: (seconds: number) => {
      m.latencies.push(seconds);
    },
    slackCall: () => {},
    rateLimited: () => {},
    setQueueDepth: () => {},
    folded: () => {},
    ledgerHit: () => {},
    paceWait: () => {},
    storeFallback: () => {},
    deadLetterWrite: () => {},
    deadLetterBlocked: () => {},
    kafkaContact: () => {},
    interaction: () => {},
    setConsumerLag: (topic: string, partition: number, lag: number) => {
      m.lags.set(`${topic}[${partition}]`, lag);
    },
  };
  return m;
}

/**
 * The record loop's tests step a manual clock by hand and read delays off this policy (100 ms, 200 ms,
 * ...); the delivery tests use src/delivery/retry-policy.ts's testRetryPolicy under fake timers.
 */
export const loopTestRetryPolicy = { minDelayMs: 100, maxDelayMs: 1000, factor: 2, jitter: 0 };
