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
  return mismatch(rule, signal, event, config) === null;
}

const list = (values: readonly string[]): string => values.join(', ');

/**
 * The first criterion of the rule the signal fails, in words ("field is stock, the rule wants price"),
 * or null when the rule matches. `explain` shows it; `matches` is defined by it, so the two never
 * disagree.
 */
export function mismatch(
  rule: RuleConfig,
  signal: Signal,
  event: ChangeEvent,
  config: Config,
): string | null {
  const m = rule.match;
  const subject = signal.field ?? 'listing';
  if (m.field !== undefined && (signal.field === null || !m.field.includes(signal.field)))
    return `field is ${subject}, the rule wants ${list(m.field)}`;
  if (m.condition !== undefined && !m.condition.includes(signal.condition))
    return `condition is ${signal.condition}, the rule wants ${list(m.condition)}`;
  if (m.op !== undefined) {
    const op = opNames[event.op];
    if (op === undefined || !m.op.includes(op)) return `op is ${event.op}, the rule wants ${list(m.op)}`;
  }
  if (m.from !== undefined || m.to !== undefined) {
    const field = signal.field === null ? undefined : config.fields[signal.field];
    if (field?.kind !== 'code' || signal.change === null)
      return `from/to need a code field; ${subject} is not one`;
    // An unknown previous code matches no `from` list: it is not guessed.
    const from = signal.change.beforeUnknown ? null : codeOf(signal.change.before);
    const to = codeOf(signal.change.after);
    if (m.from !== undefined && (from === null || !m.from.includes(from)))
      return `from ${from === null ? '(unknown)' : JSON.stringify(from)}, the rule wants ${list(m.from)}`;
    if (m.to !== undefined && (to === null || !m.to.includes(to)))
      return `to ${to === null ? '(none)' : JSON.stringify(to)}, the rule wants ${list(m.to)}`;
  }
  return null;
}

export function route(event: ChangeEvent, signals: Signal[], config: Config): Routing {
  const byChannel = new Map<string, Route>();
  /** Per channel, the throttles of the rules that sent something there, null for a rule without one. */
  const throttles = new Map<string, Array<RuleThrottle | null>>();
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
      throttles.set(channelKey, []);
    }
    if (priority === 'urgent') r.priority = 'urgent';
    if (!r.signals.includes(signal)) r.signals.push(signal);
    if (!r.rules.includes(rule)) {
      r.rules.push(rule);
      throttles.get(channelKey)?.push(throttle === undefined ? null : { rule, ...throttle });
    }
  };

  const unmatched: Signal[] = [];
  for (const signal of signals) {
    let matched = false;
    config.rules.forEach((rule, i) => {
      if (!matches(rule, signal, event, config)) return;
      matched = true;
      for (const channel of rule.channels)
        add(channel, signal, ruleName(rule, i), rule.priority, rule.throttle);
    });
    if (matched) continue;
    if (config.unmatched.action === 'send')
      add(config.unmatched.channel, signal, 'unmatched', 'normal', undefined);
    else unmatched.push(signal);
  }
  // Keep each channel's signals in the order the filter produced them (field order).
  const routes = [...byChannel.values()].map((r) => {
    const throttle = throttleOf(throttles.get(r.channelKey) ?? []);
    return {
      ...r,
      signals: signals.filter((s) => r.signals.includes(s)),
      ...(throttle === undefined ? {} : { throttle }),
    };
  });
  return { routes, unmatched };
}

/** The throttles of a channel's rules (null: a rule without one), or undefined when none has one. */
function throttleOf(rules: ReadonlyArray<RuleThrottle | null>): MessageThrottle | undefined {
  const limits = rules.filter((t): t is RuleThrottle => t !== null);
  if (limits.length === 0) return undefined;
  return { limits, binding: limits.length === rules.length };
}
