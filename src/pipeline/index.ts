/**
 * The pure pipeline for one Kafka record:
 *   decode -> normalize -> diff -> significance filter -> route -> render
 * and the Outcome the service acts on (notify, dropped, dead-letter).
 *
 * It never throws for a record-level problem: a record that cannot be decoded, normalized or rendered
 * becomes a dead-letter outcome carrying its NotifierError. Only errors whose disposition is 'retry'
 * (the registry is down) or 'stop' propagate, because retrying or stopping is the service's call.
 * Drops (tombstones, control records, insignificant or unrouted changes) are successes.
 *
 * `reason` reads `<class>: <detail>`; the class before the first ':' is a small fixed set fit for a
 * metrics label (tombstone, control, snapshot, truncate, key-change, previous-unknown, insignificant,
 * unmatched, notify, or an error code).
 */
import type { Config } from '../config/index.ts';
import type { ChangeEvent } from '../domain/change.ts';
import { dispositionOf, type ErrorCode, isNotifierError, NotifierError } from '../domain/errors.ts';
import type { OutboundMessage, SlackPayload } from '../domain/message.ts';
import type { Outcome, OutcomeContext } from '../domain/outcome.ts';
import type { SourceRecord } from '../domain/record.ts';
import type { SchemaRegistryPort } from '../ports/index.ts';
import {
  fillBefore,
  type KnownValues,
  lacksBefore,
  learnedOf,
  positionOf,
  usable,
  watchedColumns,
} from './before-image.ts';
import { type Decoded, decodeResolved, type FramedParts, resolveFramed } from './decode/index.ts';
import { isConfluentFramed } from './decode/wire.ts';
import { diff } from './diff.ts';
import { type RememberedAlerts, type Signal, significance } from './filter.ts';
import { dropNoise } from './noise.ts';
import { listingIdOf, normalize } from './normalize.ts';
import { render } from './render.ts';
import { type Route, route } from './route.ts';

export interface Pipeline {
  process(record: SourceRecord): Promise<Outcome>;
}

export interface PipelineDeps {
  /** Needed only for Confluent-framed records. */
  registry?: SchemaRegistryPort;
  /**
   * The last-values store at the edge (src/app/last-values.ts): read for an update without a before
   * image, and every decided outcome says what it learned (Outcome.learned). Absent: neither.
   */
  lastValues?: { lookup(listingId: string): Promise<KnownValues | undefined> };
  /**
   * Messages are rendered when their payload is first read, not up front (decide's deferRender): for
   * the record loop, which folds most of a bulk into digests that never read them and renders the rest
   * through domain/outcome.ts rendered(). Default: false (rendered up front, a failure a dead letter).
   */
  deferRender?: boolean;
}

/** A short name for a signal in reasons: "price decreased", "listing deleted". */
const signalName = (s: Signal): string => `${s.field ?? 'listing'} ${s.condition}`;

/** Record-level failures are dead letters; anything unexpected is wrapped in the stage's own code. */
function asError(error: unknown, code: ErrorCode): NotifierError {
  if (isNotifierError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new NotifierError(code, `${code.toLowerCase().replace('_', ' ')}: ${message}`, { cause: error });
}

/**
 * Everything after decoding; synchronous and pure. Exported for the CLI and tests. With `deferRender`
 * each message's payload is rendered on its first read (and RENDER_FAILED thrown there): the caller
 * must read it through rendered() (domain/outcome.ts) before anything else does.
 */
export function decide(
  event: ChangeEvent,
  config: Config,
  remembered: RememberedAlerts = {},
  deferRender = false,
): Outcome {
  const context = contextOf(event);
  const verdict = significance(event, diff(event), config, remembered);
  if (!verdict.significant) return { kind: 'dropped', reason: verdict.reason, ...context };

  const { routes, unmatched } = route(event, verdict.signals, config);
  if (routes.length === 0) {
    return {
      kind: 'dropped',
      reason: `unmatched: no rule matched ${unmatched.map(signalName).join(', ')}`,
      ...context,
    };
  }
  const messages: OutboundMessage[] = routes.map((r: Route) => {
    const renderIt = () =>
      render({ event, signals: r.signals, config, route: { rules: r.rules, channelKey: r.channelKey } });
    const base = {
      channel: r.channel,
      channelKey: r.channelKey,
      priority: r.priority,
      rules: r.rules,
      ...(r.throttle === undefined ? {} : { throttle: r.throttle }),
    };
    if (!deferRender) return { ...base, payload: renderIt() };
    let payload: SlackPayload | undefined;
    return {
      ...base,
      get payload(): SlackPayload {
        payload ??= renderIt();
        return payload;
      },
    };
  });
  const sent = routes.map((r) => `${r.signals.map(signalName).join(' + ')} -> ${r.channelKey}`).join('; ');
  const skipped = unmatched.length === 0 ? '' : ` (no rule for ${unmatched.map(signalName).join(', ')})`;
  return { kind: 'notify', reason: `notify: ${sent}${skipped}`, messages, event, ...context };
}

function contextOf(event: ChangeEvent): OutcomeContext {
  const context: OutcomeContext = {};
  if (event.listingId !== null) context.listingId = event.listingId;
  if (event.source.tsMs !== undefined) context.sourceTsMs = event.source.tsMs;
  return context;
}

/**
 * NUMERIC columns the records may not describe themselves (decimal.handling.mode string or double,
 * or a topic without schemas): the money fields that give `decimalScale`.
 */
export function decimalColumnsOf(config: Config): Record<string, number> {
  const columns: Record<string, number> = {};
  for (const field of Object.values(config.fields))
    if (field.kind === 'money' && field.decimalScale !== null) columns[field.column] = field.decimalScale;
  return columns;
}

const decimalColumnsByConfig = new WeakMap<Config, Record<string, number>>();
const decimalColumnsCached = (config: Config): Record<string, number> => {
  let columns = decimalColumnsByConfig.get(config);
  if (columns === undefined) {
    columns = decimalColumnsOf(config);
    decimalColumnsByConfig.set(config, columns);
  }
  return columns;
};

const deadLetter = (error: NotifierError, context: OutcomeContext): Outcome => {
  if (dispositionOf(error) !== 'dead-letter') throw error;
  return { kind: 'dead-letter', reason: `${error.code}: ${error.message}`, error, ...context };
};

/**
 * Pure: one record, its Confluent-framed parts already resolved through the registry (resolveFramed),
 * to its Outcome. Noise (an update of unwatched columns only) is recognised from the raw text first
 * (noise.ts), with the same Outcome, at a fraction of the cost of decoding it.
 */
export function decideRecord(
  record: SourceRecord,
  framed: FramedParts,
  config: Config,
  deferRender = false,
): Outcome {
  if (framed.key === undefined && framed.value === undefined) {
    let noise: Outcome | undefined;
    try {
      noise = dropNoise(record, config, decimalColumnsCached(config));
    } catch {
      // The fast path only ever answers "noise" or "don't know": whatever it could not read (a bug, a
      // value deeper than the stack) the full path decides, and dead-letters if it must (issue 19,
      // finding 1: a RangeError here used to stop the service).
      noise = undefined;
    }
    if (noise !== undefined) return noise;
  }
  return decideDecoded(record, framed, config, deferRender);
}

/** decideRecord without the noise fast path (noise.ts): every record decoded in full. */
export function decideDecoded(
  record: SourceRecord,
  framed: FramedParts,
  config: Config,
  deferRender = false,
): Outcome {
  const decoded = decodeStage(record, framed, config);
  return 'outcome' in decoded
    ? decoded.outcome
    : decideEnvelope(decoded, config, undefined, false, deferRender);
}

/**
 * decodeResolved as the service decodes a record: the config's decimal columns and the column map of
 * the record's topic (or of `columnsOf`, for a copy of a source topic under another name). Throws as
 * decodeResolved does.
 */
export function decodeWithConfig(
  record: SourceRecord,
  framed: FramedParts,
  config: Config,
  columnsOf: string = record.topic,
): Decoded {
  const columns = config.source.columns[columnsOf];
  return decodeResolved(
    record,
    framed,
    columns === undefined
      ? { decimalColumns: decimalColumnsCached(config) }
      : { decimalColumns: decimalColumnsCached(config), columns },
  );
}

/** Decoding, or the outcome of a record that has nothing to normalize (tombstone, control, undecodable). */
function decodeStage(
  record: SourceRecord,
  framed: FramedParts,
  config: Config,
): Extract<Decoded, { kind: 'envelope' }> | { outcome: Outcome } {
  let decoded: Decoded;
  try {
    decoded = decodeWithConfig(record, framed, config);
  } catch (error) {
    return { outcome: deadLetter(asError(error, 'DECODE_FAILED'), {}) };
  }
  if (decoded.kind === 'tombstone')
    return { outcome: { kind: 'dropped', reason: 'tombstone: delete marker for log compaction' } };
  if (decoded.kind === 'control')
    return { outcome: { kind: 'dropped', reason: `control: ${decoded.reason}` } };
  return decoded;
}

/**
 * normalize -> decide for a decoded envelope. With `known` (the last values the store holds for the
 * listing, older than this change) an update without a before image has it filled for the watched
 * columns (before-image.ts); with `learn`, the outcome carries what the store should hold afterwards.
 */
export function decideEnvelope(
  decoded: Extract<Decoded, { kind: 'envelope' }>,
  config: Config,
  known?: KnownValues,
  learn = false,
  deferRender = false,
): Outcome {
  const position = learn || known !== undefined ? positionOf(decoded.envelope.source) : undefined;
  const watched = watchedColumns(config);
  const envelope = usable(known, position) ? fillBefore(decoded.envelope, known, watched) : decoded.envelope;
  let event: ChangeEvent;
  try {
    event = normalize(envelope === decoded.envelope ? decoded : { ...decoded, envelope });
  } catch (error) {
    return deadLetter(asError(error, 'NORMALIZE_FAILED'), sourceContext(decoded.envelope.source));
  }
  let outcome: Outcome;
  try {
    outcome = decide(event, config, {}, deferRender);
  } catch (error) {
    outcome = deadLetter(asError(error, 'RENDER_FAILED'), contextOf(event));
  }
  const learned = learn ? learnedOf(event, position, watched) : undefined;
  if (learned === undefined) return outcome;
  const ownBefore = envelope === decoded.envelope && event.beforeComplete && event.before !== null;
  return ownBefore ? { ...outcome, learned, ownBefore } : { ...outcome, learned };
}

/**
 * With the last-values store: the noise fast path first (it applies only to complete before images,
 * so never needs the store), then decoding, the store lookup when the before image is missing (the
 * only I/O), and the pure decision on the filled envelope.
 */
function decideRemembering(
  record: SourceRecord,
  framed: FramedParts,
  config: Config,
  lastValues: NonNullable<PipelineDeps['lastValues']>,
  deferRender: boolean,
): Outcome | Promise<Outcome> {
  if (framed.key === undefined && framed.value === undefined) {
    const noise = dropNoise(record, config, decimalColumnsCached(config));
    if (noise !== undefined) return noise;
  }
  const decoded = decodeStage(record, framed, config);
  if ('outcome' in decoded) return decoded.outcome;
  const { envelope } = decoded;
  if (lacksBefore(envelope, watchedColumns(config))) {
    const listingId = listingIdOf(envelope.key, envelope.after);
    if (listingId !== null)
      return lastValues
        .lookup(listingId)
        .then((known) => decideEnvelope(decoded, config, known, true, deferRender));
  }
  // A complete before image (REPLICA IDENTITY FULL): nothing to wait for, so no await (issue 16).
  return decideEnvelope(decoded, config, undefined, true, deferRender);
}

/** Whether a part of the record is Confluent-framed, so resolveFramed has work to do (I/O). */
const framedPart = (record: SourceRecord): boolean =>
  (record.value !== null && isConfluentFramed(record.value)) ||
  (record.key !== null && isConfluentFramed(record.key));

/** The registry lookup at the edge (I/O), then the pure decision. */
export function createPipeline(config: Config, deps: PipelineDeps = {}): Pipeline {
  const deferRender = deps.deferRender ?? false;
  const decideFramed = (record: SourceRecord, framed: FramedParts): Outcome | Promise<Outcome> =>
    deps.lastValues === undefined
      ? decideRecord(record, framed, config, deferRender)
      : decideRemembering(record, framed, config, deps.lastValues, deferRender);
  return {
    process(record: SourceRecord): Promise<Outcome> {
      if (framedPart(record)) {
        return resolveFramed(record, deps.registry).then(
          (framed) => decideFramed(record, framed),
          (error: unknown) => deadLetter(asError(error, 'DECODE_FAILED'), {}),
        );
      }
      // JSON records (no registry) are decided without a turn of the event loop per stage: the
      // promise is made once, here (issue 16). A throw is a rejection, as from an async function.
      try {
        return Promise.resolve(decideFramed(record, {}));
      } catch (error) {
        return Promise.reject(error);
      }
    },
  };
}

/** What can still be said about a record whose envelope would not normalize. */
function sourceContext(source: Record<string, unknown>): OutcomeContext {
  const tsMs = Number(source.ts_ms);
  return source.ts_ms !== undefined && source.ts_ms !== null && Number.isFinite(tsMs)
    ? { sourceTsMs: tsMs }
    : {};
}
