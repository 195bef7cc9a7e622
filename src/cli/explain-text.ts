/**
 * The text and JSON forms of an Explanation (src/pipeline/explain.ts) for `listing-notifier explain`.
 * Every value from the record passes through safeText/safeJson: database text is untrusted here too.
 */
import type { ColumnValue } from '../domain/change.ts';
import { byName, isoTime, muteFor, mutesTarget, type StoredMute } from '../domain/mute.ts';
import type { SourceRecord } from '../domain/record.ts';
import { textOf } from '../pipeline/columns.ts';
import type { Explanation } from '../pipeline/explain.ts';
import { safeJson, safeText } from './safe-text.ts';

/** Where the service's consumer group stands on the record's partition. */
export interface GroupPosition {
  groupId: string;
  /** The committed offset (the next record the group reads), or null when it has none. */
  committed: string | null;
}

export function positionText(record: SourceRecord, position: GroupPosition): string {
  const { groupId, committed } = position;
  if (committed === null)
    return `service: group ${groupId} has no committed offset on partition ${record.partition}: it has not processed this record`;
  const read = BigInt(committed) > BigInt(record.offset);
  return `service: group ${groupId} committed offset ${committed} on partition ${record.partition}: ${
    read ? 'it has processed this record' : 'it has NOT processed this record yet'
  }`;
}

/**
 * The mutes `explain` reads from the shared store (issue 17, item 2): the service drops a muted
 * message whatever the rules say, so the explanation says so. `unknown`: why they could not be read
 * (no shared store: the service's own process holds them; or the store did not answer).
 */
export type MuteFacts = { mutes: readonly StoredMute[]; now: number } | { unknown: string };

/** A mute that applies to the record: silencing its message in `channelKey`, or naming its listing. */
export interface MuteHit {
  /** The message's channel key it silences; absent: a mute of the listing with no message to silence. */
  channelKey?: string;
  mute: StoredMute;
}

/**
 * Pure: the mutes in force that apply. For each message, the mute that silences it there (muteFor, as
 * the service's filter decides); with no message (not significant, no rule), the listing's own mutes,
 * which would silence it if it had one.
 */
export function muteHits(ex: Explanation, facts: MuteFacts): MuteHit[] {
  if ('unknown' in facts) return [];
  const listingId = ex.outcome.listingId ?? ex.event?.listingId ?? null;
  const hits: MuteHit[] = [];
  for (const m of ex.messages) {
    const mute = muteFor(
      facts.mutes,
      { ...(listingId === null ? {} : { listingId }), rule: m.rules, channel: m.channelKey },
      facts.now,
    );
    if (mute !== undefined) hits.push({ channelKey: m.channelKey, mute });
  }
  if (ex.messages.length === 0 && listingId !== null)
    for (const mute of facts.mutes)
      if (
        mute.until > facts.now &&
        mute.scope === 'listing' &&
        mutesTarget(mute, { listingId, ...(mute.channel === undefined ? {} : { channel: mute.channel }) })
      )
        hits.push({ mute });
  return hits;
}

/** "muted by @ana until 2026-12-08T10:00:00Z in sales-alerts (mute abc123): ...", escaped. */
function muteHitLine(hit: MuteHit): string {
  const { mute } = hit;
  const what = mute.scope === 'listing' ? 'the listing' : `rule "${safeText(mute.rule)}"`;
  const where =
    hit.channelKey === undefined
      ? mute.channel === undefined
        ? ' everywhere'
        : ` in ${safeText(mute.channel)}`
      : '';
  const why = mute.reason === undefined ? '' : ` (${safeText(mute.reason, 200)})`;
  const effect =
    hit.channelKey === undefined ? '' : `: the service drops the message to ${safeText(hit.channelKey)}`;
  return `    ${what}${where} muted by ${safeText(byName(mute.by), 80)} until ${isoTime(mute.until)}${why} (mute ${safeText(mute.id)})${effect}`;
}

const iso = (ms: number | undefined): string =>
  ms === undefined || !Number.isFinite(ms) ? 'unknown' : new Date(ms).toISOString();

function column(value: ColumnValue | undefined): string {
  if (value === undefined) return '(not in this image)';
  if (value === null) return 'null';
  if (typeof value === 'object' && value.type === 'unavailable') return '(unchanged, not sent)';
  const text = textOf(value) ?? '';
  return typeof value === 'string' ? safeText(JSON.stringify(text), 120) : safeText(text, 120);
}

export function explanationLines(
  record: SourceRecord,
  ex: Explanation,
  position?: GroupPosition,
  mutes?: MuteFacts,
): string[] {
  const out: string[] = [];
  const listing = ex.outcome.listingId ?? ex.event?.listingId ?? null;
  out.push(
    `record ${record.topic}[${record.partition}]@${record.offset}  Kafka time ${iso(Number(record.timestamp))}${
      listing === null ? '' : `  listing ${safeText(listing, 60)}`
    }`,
  );
  if (ex.event !== undefined) {
    const e = ex.event;
    const before =
      e.op === 'create' || e.op === 'read'
        ? 'a new row (no before image)'
        : e.beforeComplete
          ? 'before image complete'
          : 'no full before image (REPLICA IDENTITY DEFAULT?)';
    out.push(`  decode: op ${e.op}, committed in the database ${iso(e.sourceTsMs)}, ${before}`);
    if (e.keyChange !== undefined) out.push(`  key change: ${e.keyChange.role}`);
    out.push('  fields:');
    for (const f of ex.fields)
      out.push(
        `    ${safeText(f.key)} (${safeText(f.column)}): ${column(f.before)} -> ${column(f.after)}${f.changed ? '  CHANGED' : ''}`,
      );
    const changed = ex.changedColumns.map((c) => safeText(c, 60));
    out.push(`  changed columns: ${changed.length === 0 ? '(none)' : changed.join(', ')}`);
  }
  if (ex.significance !== undefined)
    out.push(
      ex.significance.significant
        ? `  significance: significant: ${ex.signals.map((s) => `${s.field ?? 'listing'} ${s.condition}`).join(', ')}`
        : `  significance: not significant: ${safeText(ex.significance.reason, 500)}`,
    );
  if (ex.signals.length > 0) {
    out.push('  route:');
    for (const s of ex.signals) {
      out.push(`    ${s.field ?? 'listing'} ${s.condition}:`);
      for (const r of s.rules)
        out.push(
          r.mismatch === null
            ? `      matched  rule "${safeText(r.rule)}" -> ${r.channels.map((c) => safeText(c)).join(', ')}`
            : `      no       rule "${safeText(r.rule)}": ${safeText(r.mismatch, 200)}`,
        );
      if (s.routedTo.length === 0)
        out.push(`      => no rule matched; unmatched.action is ${ex.unmatched.action}: dropped`);
      else if (s.rules.every((r) => r.mismatch !== null))
        out.push(
          `      => no rule matched; unmatched.action is send: ${s.routedTo.map((c) => safeText(c)).join(', ')}`,
        );
    }
  }
  if (ex.messages.length > 0) {
    out.push('  messages:');
    for (const m of ex.messages) {
      out.push(
        `    ${safeText(m.channel)} (${m.rules.map((r) => safeText(r)).join(', ')}): ${safeText(m.payload.text, 400)}`,
      );
      if (m.throttle !== undefined) out.push(`      ${throttleText(m.throttle)}`);
    }
  }
  if (mutes !== undefined) {
    const hits = muteHits(ex, mutes);
    if ('unknown' in mutes) out.push(`  mutes: unknown (${safeText(mutes.unknown, 300)})`);
    else if (hits.length === 0) out.push('  mutes: none apply');
    else {
      out.push('  mutes:');
      for (const hit of hits) out.push(muteHitLine(hit));
    }
  }
  if (ex.stoppedAt !== null)
    out.push(`  stopped at ${ex.stoppedAt.stage}: ${safeText(ex.stoppedAt.reason, 500)}`);
  out.push(`  outcome: ${ex.outcome.kind}: ${safeText(ex.outcome.reason.replace(/^[a-z-]+: /, ''), 500)}`);
  if (position !== undefined) out.push(`  ${positionText(record, position)}`);
  return out;
}

export function explanationJson(
  record: SourceRecord,
  ex: Explanation,
  position?: GroupPosition,
  mutes?: MuteFacts,
): string {
  const { outcome } = ex;
  return safeJson({
    record: {
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      timestamp: record.timestamp,
    },
    ...ex,
    outcome: {
      kind: outcome.kind,
      reason: outcome.reason,
      ...(outcome.listingId === undefined ? {} : { listingId: outcome.listingId }),
      ...(outcome.kind === 'dead-letter' ? { code: outcome.error.code } : {}),
      ...(outcome.kind === 'notify' ? { channels: outcome.messages.map((m) => m.channel) } : {}),
    },
    ...(mutes === undefined
      ? {}
      : 'unknown' in mutes
        ? { mutes: { unknown: mutes.unknown } }
        : {
            mutes: muteHits(ex, mutes).map((h) => ({
              ...(h.channelKey === undefined ? {} : { channelKey: h.channelKey }),
              ...h.mute,
              until: isoTime(h.mute.until),
              untilMs: h.mute.until,
            })),
          }),
    ...(position === undefined
      ? {}
      : {
          service: {
            ...position,
            processed: position.committed !== null && BigInt(position.committed) > BigInt(record.offset),
          },
        }),
  });
}

/** What a message's throttles mean (whether the listing is past them is the running service's count). */
function throttleText(throttle: NonNullable<Explanation['messages'][number]['throttle']>): string {
  const limits = throttle.limits
    .map((l) => `rule "${safeText(l.rule)}" ${l.perListing} per listing per ${l.windowMs} ms`)
    .join(', ');
  return throttle.binding
    ? `throttle: ${limits}; past it the listing's normal changes go to the channel's digest`
    : `throttle: ${limits}; not applied here: another rule without a throttle sends it too`;
}
