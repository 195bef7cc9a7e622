/**
 * Explain: the pipeline's stages for one record, each with its decision, for `listing-notifier
 * explain` ("why did I not get a notification?"). It runs the same stage functions as the pipeline
 * (decode, normalize, diff, significance, route with `mismatch`, render) and, as the verdict, the
 * pipeline's own Outcome for the record, so the explanation cannot drift from what the service does.
 * Pure apart from the registry that decode may consult, like the pipeline itself.
 */
import type { Config } from '../config/index.ts';
import type { ChangeEvent, ColumnValue, FieldChange } from '../domain/change.ts';
import { isNotifierError } from '../domain/errors.ts';
import type { MessageThrottle, SlackPayload } from '../domain/message.ts';
import type { Outcome } from '../domain/outcome.ts';
import type { SourceRecord } from '../domain/record.ts';
import type { SchemaRegistryPort } from '../ports/index.ts';
import { decodeRecord } from './decode/index.ts';
import { diff } from './diff.ts';
import { significance } from './filter.ts';
import { createPipeline, decimalColumnsOf } from './index.ts';
import { normalize } from './normalize.ts';
import { render } from './render.ts';
import { mismatch, route, ruleName } from './route.ts';

export interface FieldView {
  /** The `fields` key (price) and its column (prc_amt). */
  key: string;
  column: string;
  before: ColumnValue | undefined;
  after: ColumnValue | undefined;
  /** Whether diff lists the column as changed. */
  changed: boolean;
}

export interface RuleCheck {
  rule: string;
  /** null: matched; else the first criterion the signal fails. */
  mismatch: string | null;
  channels: string[];
}

export interface SignalView {
  field: string | null;
  condition: string;
  rules: RuleCheck[];
  /** What happened to it: the channel keys it went to, or how `unmatched` treated it. */
  routedTo: string[];
}

export interface MessageView {
  channelKey: string;
  channel: string;
  rules: string[];
  payload: SlackPayload;
  /**
   * Its rules' per-listing throttles (config rules[].throttle). Whether the listing is past them is the
   * running service's count (src/delivery/throttle.ts), which explain does not know.
   */
  throttle?: MessageThrottle;
}

export interface Explanation {
  /** Where the stages stopped, and why (decode error, tombstone, control record, ...). */
  stoppedAt: null | { stage: 'decode' | 'normalize' | 'render'; reason: string };
  event?: {
    op: ChangeEvent['op'];
    listingId: string | null;
    sourceTsMs?: number;
    beforeComplete: boolean;
    keyChange?: ChangeEvent['keyChange'];
  };
  /** The configured fields: their values on both sides. */
  fields: FieldView[];
  /** Every column diff found changed (watched or not). */
  changedColumns: string[];
  significance?: { significant: true } | { significant: false; reason: string };
  signals: SignalView[];
  unmatched: Config['unmatched'];
  messages: MessageView[];
  /** What the pipeline decided: the service acts on exactly this. */
  outcome: Outcome;
}

export interface ExplainDeps {
  registry?: SchemaRegistryPort;
}

const stop = (stage: 'decode' | 'normalize' | 'render', error: unknown): Explanation['stoppedAt'] => ({
  stage,
  reason: isNotifierError(error) ? `${error.code}: ${error.message}` : String(error),
});

export async function explainRecord(
  record: SourceRecord,
  config: Config,
  deps: ExplainDeps = {},
): Promise<Explanation> {
  // The verdict first, from the very pipeline the service runs ('retry'/'stop' errors propagate).
  const outcome = await createPipeline(config, deps).process(record);
  const base: Explanation = {
    stoppedAt: null,
    fields: [],
    changedColumns: [],
    signals: [],
    unmatched: config.unmatched,
    messages: [],
    outcome,
  };
  let decoded: Awaited<ReturnType<typeof decodeRecord>>;
  try {
    decoded = await decodeRecord(record, { ...deps, decimalColumns: decimalColumnsOf(config) });
  } catch (error) {
    return { ...base, stoppedAt: stop('decode', error) };
  }
  if (decoded.kind === 'tombstone')
    return { ...base, stoppedAt: { stage: 'decode', reason: 'tombstone (null value): nothing to notify' } };
  if (decoded.kind === 'control') return { ...base, stoppedAt: { stage: 'decode', reason: decoded.reason } };
  let event: ChangeEvent;
  try {
    event = normalize(decoded);
  } catch (error) {
    return { ...base, stoppedAt: stop('normalize', error) };
  }
  return { ...base, ...explainEvent(event, config) };
}

/** The stages after normalize, for one event. */
export function explainEvent(event: ChangeEvent, config: Config): Omit<Explanation, 'outcome' | 'unmatched'> {
  const changes: FieldChange[] = diff(event);
  const changed = new Set(changes.map((c) => c.column));
  const fields: FieldView[] = Object.entries(config.fields).map(([key, field]) => ({
    key,
    column: field.column,
    before: event.before?.[field.column],
    after: event.after?.[field.column],
    changed: changed.has(field.column),
  }));
  const result: Omit<Explanation, 'outcome' | 'unmatched'> = {
    stoppedAt: null,
    event: {
      op: event.op,
      listingId: event.listingId,
      beforeComplete: event.beforeComplete,
      ...(event.source.tsMs === undefined ? {} : { sourceTsMs: event.source.tsMs }),
      ...(event.keyChange === undefined ? {} : { keyChange: event.keyChange }),
    },
    fields,
    changedColumns: [...changed],
    signals: [],
    messages: [],
  };
  const verdict = significance(event, changes, config);
  if (!verdict.significant)
    return { ...result, significance: { significant: false, reason: verdict.reason } };

  const routing = route(event, verdict.signals, config);
  const signals: SignalView[] = verdict.signals.map((signal) => ({
    field: signal.field,
    condition: signal.condition,
    rules: config.rules.map((rule, i) => ({
      rule: ruleName(rule, i),
      mismatch: mismatch(rule, signal, event, config),
      channels: rule.channels,
    })),
    routedTo: routing.routes.filter((r) => r.signals.includes(signal)).map((r) => r.channelKey),
  }));
  const messages: MessageView[] = [];
  try {
    for (const r of routing.routes)
      messages.push({
        channelKey: r.channelKey,
        channel: r.channel,
        rules: r.rules,
        payload: render({ event, signals: r.signals, config }),
        ...(r.throttle === undefined ? {} : { throttle: r.throttle }),
      });
  } catch (error) {
    return {
      ...result,
      significance: { significant: true },
      signals,
      messages,
      stoppedAt: stop('render', error),
    };
  }
  return { ...result, significance: { significant: true }, signals, messages };
}
