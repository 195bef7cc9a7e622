/**
 * Mutes (issue 17, item 2): someone quieted a listing, or a rule, until a point in time. Pure: which
 * mutes are in force, which one applies to a message, the drop reason it gives, and the durations
 * people type ("24h"). No clock here: every function takes `now`.
 *
 * Here in domain/ rather than pipeline/ because four sides read it and domain is what they all may
 * import: the pipeline (dropping a muted listing's changes), the store port and its adapters
 * (src/ports/mutes.ts), the interactivity endpoint, and the `mute` command (src/cli/mute.ts).
 */

interface MuteCommon {
  /** Only in this channel (a channel key of the rules file's `channels`); absent: in every channel. */
  channel?: string;
  /** Who muted: a Slack user name (shown as @name) or whoever ran the CLI. */
  by: string;
  /** Epoch ms: the mute is in force while now < until. */
  until: number;
  /** Free text, shown with the mute (untrusted, as `by` is: escape both wherever they are shown). */
  reason?: string;
}

/** A listing muted (its changes in any channel, or in `channel`), or a rule muted by name. */
export type Mute =
  | (MuteCommon & { scope: 'listing'; listingId: string })
  | (MuteCommon & { scope: 'rule'; rule: string });

/** A mute as a store keeps it: with the id `remove` takes. */
export type StoredMute = Mute & { id: string };

/** What a message is, as far as mutes are concerned. Absent parts match no mute that names them. */
export interface MuteTarget {
  listingId?: string;
  /**
   * The rule that sent the message, or the rules (a route's `rules`: several rules may send one listing's
   * message to the same channel). With several, rule mutes silence the message only when every one of
   * its rules is muted: a rule nobody muted still wants it sent.
   */
  rule?: string | readonly string[];
  channel?: string;
}

/** The mutes still in force at `now` (until is exclusive: at `until` the mute has ended). */
export function activeMutes<M extends Mute>(mutes: readonly M[], now: number): M[] {
  return mutes.filter((m) => m.until > now);
}

/** Whether `mute` (in force or not) names `target`: its listing, or one of its rules, in its channel. */
export function mutesTarget(mute: Mute, target: MuteTarget): boolean {
  if (mute.channel !== undefined && mute.channel !== target.channel) return false;
  if (mute.scope === 'listing') return mute.listingId === target.listingId;
  return typeof target.rule === 'string'
    ? mute.rule === target.rule
    : (target.rule?.includes(mute.rule) ?? false);
}

/** Of the mutes in force that name `target`, the one lasting longest (on a tie, the first). */
function longest<M extends Mute>(mutes: readonly M[], target: MuteTarget, now: number): M | undefined {
  let found: M | undefined;
  for (const m of mutes) {
    if (m.until <= now || !mutesTarget(m, target)) continue;
    if (found === undefined || m.until > found.until) found = m;
  }
  return found;
}

/**
 * The mute that applies to `target` at `now`, or undefined: a mute of its listing, or mutes of all of its
 * rules. The one returned is the one whose end is when the message is heard again: of several listing
 * mutes the one lasting longest (on a tie, the first in `mutes`); of its rules' mutes, each rule's
 * longest, and of those the one ending first; of a listing's and the rules' mute, the later (on a
 * tie, the listing's).
 */
export function muteFor<M extends Mute>(mutes: readonly M[], target: MuteTarget, now: number): M | undefined {
  const listing = longest(
    mutes.filter((m) => m.scope === 'listing'),
    target,
    now,
  );
  const rules = typeof target.rule === 'string' ? [target.rule] : (target.rule ?? []);
  let byRules: M | undefined;
  for (const rule of new Set(rules)) {
    const m = longest(
      mutes.filter((x) => x.scope === 'rule'),
      { ...target, rule },
      now,
    );
    if (m === undefined) {
      byRules = undefined;
      break;
    }
    if (byRules === undefined || m.until < byRules.until) byRules = m;
  }
  if (listing === undefined || byRules === undefined) return listing ?? byRules;
  return byRules.until > listing.until ? byRules : listing;
}

/** What a new mute names: a listing, or a rule by its name in the rules file. */
export type MuteSubject = { listingId: string } | { rule: string };

/**
 * A new mute of `subject` for `forMs` from `now`: what `listing-notifier mute add` and a click on
 * "Mute this listing" / "Mute this rule" in Slack (src/app/interactivity.ts) both store.
 */
export function newMute(o: {
  subject: MuteSubject;
  by: string;
  now: number;
  forMs: number;
  channel?: string;
  reason?: string;
}): Mute {
  const common = {
    by: o.by,
    until: o.now + o.forMs,
    ...(o.channel === undefined ? {} : { channel: o.channel }),
    ...(o.reason === undefined ? {} : { reason: o.reason }),
  };
  return 'listingId' in o.subject
    ? { scope: 'listing', listingId: o.subject.listingId, ...common }
    : { scope: 'rule', rule: o.subject.rule, ...common };
}

/** Epoch ms as ISO 8601 UTC, without milliseconds when they are 0 ("2026-01-01T10:00:00Z"). */
export const isoTime = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

/** "@ana" for "ana" and for "@ana". */
export const byName = (by: string): string => (by.startsWith('@') ? by : `@${by}`);

/**
 * The drop reason of a muted message: "muted: by @ana until 2026-01-01T10:00:00Z" (and the mute's own
 * reason in parentheses). The colon after "muted" is deliberate: outcome metrics label a reason by
 * what precedes its first colon (src/app/record-log.ts reasonClass), and the ISO time's own colons
 * would otherwise make every mute a label of its own.
 */
export function muteReason(mute: Mute): string {
  const why = mute.reason === undefined || mute.reason === '' ? '' : ` (${mute.reason})`;
  return `muted: by ${byName(mute.by)} until ${isoTime(mute.until)}${why}`;
}

/** What a mute names, for people: "listing 42", "rule price-drops", with " in #sales" when set. */
export function muteSubject(mute: Mute): string {
  const what = mute.scope === 'listing' ? `listing ${mute.listingId}` : `rule ${mute.rule}`;
  return mute.channel === undefined ? what : `${what} in ${mute.channel}`;
}

const unitMs = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Longest mute: 90 days. A mute is meant to end; a listing quiet for good belongs in the rules file. */
export const maxMuteMs = 90 * unitMs.d;

/**
 * A mute's length as people type it: a whole number and one unit, m (minutes), h (hours) or d (days):
 * "30m", "1h", "24h", "7d". Strict: no spaces, no fractions, no combinations, no 0, at most 90 days.
 * The error names the value.
 */
export function parseMuteDuration(text: string): { ms: number } | { error: string } {
  const match = /^([1-9]\d{0,5})([mhd])$/.exec(text);
  const shown = JSON.stringify(text);
  if (match === null)
    return {
      error: `expected a duration like 30m, 1h, 24h or 7d (a whole number and m, h or d), got ${shown}`,
    };
  const ms = Number(match[1]) * unitMs[match[2] as keyof typeof unitMs];
  if (ms > maxMuteMs) return { error: `expected at most 90d, got ${shown}` };
  return { ms };
}
