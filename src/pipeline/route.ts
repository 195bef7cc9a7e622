/**
 * Routing: declarative rules send each significant change to one or more channels. A change may match
 * several rules (an unpublished listing goes to #support-heads-up and #marketing-updates); each channel
 * gets one message with the changes routed to it. Changes no rule matches are handled explicitly by
 * `unmatched`: dropped with a reason, or sent to one fallback channel.
 */
import type { Config, RuleConfig } from '../config/index.ts';
import type { ChangeEvent, ChangeOp } from '../domain/change.ts';
import type { MessageThrottle, RuleThrottle } from '../domain/message.ts';
import { codeOf } from './columns.ts';
import type { Signal } from './filter.ts';

export interface Route {
  /** The key in `channels`. */
  channelKey: string;
  /** What Slack's chat.postMessage receives as `channel` (an id or #name). */
  channel: string;
  /** The signals for this channel, in field order. */
  signals: Signal[];
  /** Names of the rules that sent them here ("unmatched" for the fallback). */
  rules: string[];
  /** urgent when any rule that sent a signal here is (config `rules[].priority`). */
  priority: 'normal' | 'urgent';
  /** The per-listing throttles of those rules (config `rules[].throttle`); absent when none has one. */
  throttle?: MessageThrottle;
}

export interface Routing {
  routes: Route[];
  /** Signals no rule matched and that were not sent to a fallback channel. */
  unmatched: Signal[];
}

const opNames: Partial<Record<ChangeOp, 'create' | 'update' | 'delete'>> = {
  create: 'create',
  update: 'update',
  delete: 'delete',
};

export const ruleName = (rule: RuleConfig, index: number): string => rule.name ?? `rule ${index + 1}`;

/** Every criterion the rule gives must hold for the signal. */
export function matches(rule: RuleConfig, signal: Signal, event: ChangeEvent, config: Config): boolean {
  return failedCriterion(rule, signal, event, config) === null;
}

const list = (values: readonly string[]): string => values.join(', ');

type Criterion = 'field' | 'condition' | 'op' | 'code-field' | 'from' | 'to';

/** The codes a signal's code field moved between (an unknown previous code is null: never guessed). */
const codesOf = (change: NonNullable<Signal['change']>): { from: string | null; to: string | null } => ({
  from: change.beforeUnknown ? null : codeOf(change.before),
  to: codeOf(change.after),
});

/**
 * The first criterion of the rule the signal fails, or null when the rule matches. Words are made
 * only for `mismatch` (routing asks every rule for every signal: issue 16); both read this one test.
 */
function failedCriterion(
  rule: RuleConfig,
  signal: Signal,
  event: ChangeEvent,
  config: Config,
): Criterion | null {
  const m = rule.match;
  if (m.field !== undefined && (signal.field === null || !m.field.includes(signal.field))) return 'field';
  if (m.condition !== undefined && !m.condition.includes(signal.condition)) return 'condition';
  if (m.op !== undefined) {
    const op = opNames[event.op];
    if (op === undefined || !m.op.includes(op)) return 'op';
  }
  if (m.from !== undefined || m.to !== undefined) {
    const field = signal.field === null ? undefined : config.fields[signal.field];
    if (field?.kind !== 'code' || signal.change === null) return 'code-field';
    const { from, to } = codesOf(signal.change);
    if (m.from !== undefined && (from === null || !m.from.includes(from))) return 'from';
    if (m.to !== undefined && (to === null || !m.to.includes(to))) return 'to';
  }
  return null;
}

/**
 * The first criterion of the rule the signal fails, in words ("field is stock, the rule wants price"),
 * or null when the rule matches. `explain` shows it; `matches` reads the same test, so the two never
 * disagree.
 */
export function mismatch(
  rule: RuleConfig,
  signal: Signal,
  event: ChangeEvent,
  config: Config,
): string | null {
  const criterion = failedCriterion(rule, signal, event, config);
  if (criterion === null) return null;
  const m = rule.match;
  const subject = signal.field ?? 'listing';
  const codes = signal.change === null ? { from: null, to: null } : codesOf(signal.change);
  switch (criterion) {
    case 'field':
      return `field is ${subject}, the rule wants ${list(m.field ?? [])}`;
    case 'condition':
      return `condition is ${signal.condition}, the rule wants ${list(m.condition ?? [])}`;
    case 'op':
      return `op is ${event.op}, the rule wants ${list(m.op ?? [])}`;
    case 'code-field':
      return `from/to need a code field; ${subject} is not one`;
    case 'from':
      return `from ${codes.from === null ? '(unknown)' : JSON.stringify(codes.from)}, the rule wants ${list(m.from ?? [])}`;
    case 'to':
      return `to ${codes.to === null ? '(none)' : JSON.stringify(codes.to)}, the rule wants ${list(m.to ?? [])}`;
  }
}

export function route(event: ChangeEvent, signals: Signal[], config: Config): Routing {
  const byChannel = new Map<string, Route>();
  /** Per channel, the throttles of the rules that sent something there (only channels with one). */
  const throttles = new Map<string, RuleThrottle[]>();
  const add = (
    channelKey: string,
    signal: Signal,
    rule: string,
    priority: Route['priority'],
    throttle: RuleConfig['throttle'],
  ) => {
    let r = byChannel.get(channelKey);
    if (r === undefined) {
      // Config validation guarantees every channel key used by a rule exists.
      const channel = config.channels[channelKey] ?? channelKey;
      r = { channelKey, channel, signals: [], rules: [], priority: 'normal' };
      byChannel.set(channelKey, r);
    }
    if (priority === 'urgent') r.priority = 'urgent';
    if (!r.signals.includes(signal)) r.signals.push(signal);
    if (!r.rules.includes(rule)) {
      r.rules.push(rule);
      if (throttle !== undefined) {
        const limits = throttles.get(channelKey) ?? [];
        limits.push({ rule, ...throttle });
        throttles.set(channelKey, limits);
      }
    }
  };

  const unmatched: Signal[] = [];
  for (const signal of signals) {
    let matched = false;
    for (let i = 0; i < config.rules.length; i += 1) {
      const rule = config.rules[i] as RuleConfig;
      if (!matches(rule, signal, event, config)) continue;
      matched = true;
      for (const channel of rule.channels)
        add(channel, signal, ruleName(rule, i), rule.priority, rule.throttle);
    }
    if (matched) continue;
    if (config.unmatched.action === 'send')
      add(config.unmatched.channel, signal, 'unmatched', 'normal', undefined);
    else unmatched.push(signal);
  }
  // Keep each channel's signals in the order the filter produced them (field order).
  const routes = [...byChannel.values()].map((r) => {
    const limits = throttles.get(r.channelKey);
    // Binding when every rule that sent something here has a throttle (MessageThrottle.binding).
    const throttle: MessageThrottle | undefined =
      limits === undefined ? undefined : { limits, binding: limits.length === r.rules.length };
    return {
      ...r,
      signals: signals.filter((s) => r.signals.includes(s)),
      ...(throttle === undefined ? {} : { throttle }),
    };
  });
  return { routes, unmatched };
}
