/**
 * Quarantine of a record that kills the process (issue 19): an OOM, a native stack overflow, a bug that
 * exits. No try/catch sees those, so the evidence is kept where a restarted process (or another
 * replica) finds it: in the partition's committed offset's metadata string (Kafka's OffsetCommit
 * `committed_metadata`, https://kafka.apache.org/protocol#The_Messages_OffsetCommit; kafkajs
 * commitOffsets `metadata`). Pure: no I/O, no clock (time comes in as `now`).
 *
 * How it counts (per partition, at committed offset C):
 * 1. The first batch after an assignment: the member writes a marker at C ("member M starts from C;
 *    d deaths known here"). Normal commits carry no metadata, so the first committed progress clears
 *    it: a process that made progress did not die on C, and the count starts again where it died.
 * 2. The next owner reads the marker. Its member still in the group (a rebalance handed the partition
 *    over) or gone cleanly (member '' after a clean stop): not a death. Gone without a word: a death.
 * 3. At `maxAttempts - 1` deaths the member is careful: it hands records to the pipeline one at a
 *    time, committing C again with "probing k" before record k. Dying then names k exactly.
 * 4. The next owner finds "died probing k": k is dead-lettered as POISON_RECORD, undecoded, and the
 *    partition goes on normally. So a record costs exactly `maxAttempts` deaths (with 3: two normal
 *    runs, one careful run), and a pod stops crash-looping by itself.
 *
 * Careful mode ends after `probeRecords` records passed the pipeline alone (the killer was not among
 * them: the count starts over), or when its record is found.
 */

/** The prefix that makes metadata ours; anything else (another tool's, empty) is not a marker. */
export const MARKER_PREFIX = 'ln-poison/1 ';
/** Kafka's default offset.metadata.max.bytes is 4096; markers stay far below (pending poison is capped). */
const MAX_POISON = 8;

export interface QuarantinePolicy {
  /** Deaths at one position before its record is dead-lettered (source.poison.maxAttempts, >= 2). */
  maxAttempts: number;
  /** Records processed one at a time in careful mode before it gives up looking (source.poison.probeRecords). */
  probeRecords: number;
}

/** A record found to kill the process, dead-lettered when the partition reaches it. */
export interface Poison {
  offset: string;
  /** Deaths it took. */
  deaths: number;
  /** When the attempt that died on it began (ms). */
  diedAfter: number;
}

/** What one member knows about its partition: what it writes into commits' metadata. */
export interface PartitionGuard {
  /** The member that consumes (kafkajs memberId). */
  member: string;
  /** When this member's attempt began (ms). */
  since: number;
  /** Deaths at the committed position before this attempt. */
  deaths: number;
  /** Records still to be handed out one at a time (careful mode); 0 = normal. */
  careful: number;
  /** Careful mode: the record being processed alone. */
  probing?: string;
  /** Records to dead-letter as POISON_RECORD when reached (offset order). */
  poison: Poison[];
}

interface Marker {
  /** The committed offset written with it: a marker under another offset is stale. */
  at: string;
  deaths: number;
  member: string;
  since: number;
  careful: number;
  probe?: string;
  poison: Poison[];
}

const isOffset = (v: unknown): v is string => typeof v === 'string' && /^\d{1,19}$/.test(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** The marker in `metadata`, or undefined when there is none (or it is not ours, or malformed). */
export function parseMarker(metadata: string | null | undefined): Marker | undefined {
  if (metadata === null || metadata === undefined || !metadata.startsWith(MARKER_PREFIX)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(metadata.slice(MARKER_PREFIX.length));
  } catch {
    return undefined;
  }
  if (raw === null || typeof raw !== 'object') return undefined;
  const m = raw as Record<string, unknown>;
  if (!isOffset(m.at) || !isCount(m.deaths) || typeof m.member !== 'string' || !isCount(m.since)) {
    return undefined;
  }
  if (!isCount(m.careful) || (m.probe !== undefined && !isOffset(m.probe))) return undefined;
  const poison: Poison[] = [];
  if (Array.isArray(m.poison)) {
    for (const p of m.poison.slice(0, MAX_POISON)) {
      const q = p as Record<string, unknown> | null;
      if (q !== null && isOffset(q.offset) && isCount(q.deaths) && isCount(q.diedAfter)) {
        poison.push({ offset: q.offset, deaths: q.deaths, diedAfter: q.diedAfter });
      }
    }
  }
  return {
    at: m.at,
    deaths: m.deaths,
    member: m.member,
    since: m.since,
    careful: m.careful,
    ...(m.probe === undefined ? {} : { probe: m.probe }),
    poison,
  };
}

const encode = (guard: PartitionGuard, at: string, member = guard.member): string =>
  MARKER_PREFIX +
  JSON.stringify({
    at,
    deaths: guard.deaths,
    member,
    since: guard.since,
    careful: guard.careful,
    ...(guard.probing === undefined ? {} : { probe: guard.probing }),
    poison: guard.poison.slice(-MAX_POISON),
  });

/** What the new owner of a partition finds. */
export interface AssignmentFacts {
  /** The committed offset (next to read), or undefined when the group has none. */
  committed: string | undefined;
  /** Its metadata string. */
  metadata: string | null | undefined;
  /** Members of the group now (this one among them). */
  members: ReadonlySet<string>;
  /** This member. */
  me: string;
  now: number;
}

/** The guard a member starts a partition with: the counting rule of the module comment. */
export function planPartition(facts: AssignmentFacts, policy: QuarantinePolicy): PartitionGuard {
  const fresh: PartitionGuard = { member: facts.me, since: facts.now, deaths: 0, careful: 0, poison: [] };
  const marker = parseMarker(facts.metadata);
  if (marker === undefined || facts.committed === undefined || marker.at !== facts.committed) return fresh;
  const committed = BigInt(facts.committed);
  const poison = marker.poison.filter((p) => BigInt(p.offset) >= committed);
  // '' is a member that stopped cleanly; one still in the group handed the partition over.
  const died = marker.member !== '' && marker.member !== facts.me && !facts.members.has(marker.member);
  if (died && marker.probe !== undefined && BigInt(marker.probe) >= committed) {
    const found: Poison = { offset: marker.probe, deaths: marker.deaths + 1, diedAfter: marker.since };
    const rest = poison.filter((p) => p.offset !== found.offset);
    const sorted = [...rest, found].sort((a, b) => (BigInt(a.offset) < BigInt(b.offset) ? -1 : 1));
    return { ...fresh, poison: sorted };
  }
  const deaths = marker.deaths + (died ? 1 : 0);
  const careful =
    deaths > 0 && deaths >= policy.maxAttempts - 1
      ? died || marker.careful === 0
        ? policy.probeRecords
        : marker.careful
      : 0;
  return { ...fresh, deaths, careful, poison };
}

/** The metadata of the marker written before the first record is handed out: always one. */
export const attemptMetadata = (guard: PartitionGuard, at: string): string => encode(guard, at);

/**
 * The metadata a commit of `offset` carries: none for a partition with nothing to remember (the common
 * path costs nothing), the marker while careful or while a poison record lies ahead.
 */
export function commitMetadata(guard: PartitionGuard, offset: string): string | null {
  const at = BigInt(offset);
  guard.poison = guard.poison.filter((p) => BigInt(p.offset) >= at);
  if (guard.careful === 0 && guard.poison.length === 0) return null;
  return encode(guard, offset);
}

/** What a clean stop leaves: the marker (if any) with no member, so the next owner counts no death. */
export function stopMetadata(guard: PartitionGuard, offset: string): string | null {
  const at = BigInt(offset);
  const poison = guard.poison.filter((p) => BigInt(p.offset) >= at);
  if (guard.careful === 0 && poison.length === 0 && guard.deaths === 0) return null;
  return encode({ ...guard, poison }, offset, '');
}

/** The record at `offset` is to be dead-lettered as POISON_RECORD: the entry, or undefined. */
export const poisonAt = (guard: PartitionGuard, offset: string): Poison | undefined =>
  guard.poison.find((p) => p.offset === offset);

/** The dead letter's reason for a poison record (what is known: the count and when the last try began). */
export const poisonReason = (p: Poison): string =>
  `the process died ${p.deaths} time${p.deaths === 1 ? '' : 's'} while processing this record ` +
  `(the last time while it was processed alone, in an attempt begun at ${new Date(p.diedAfter).toISOString()}); ` +
  'it was dead-lettered without being decoded';

/** Careful mode: record `offset` is next, alone. Returns the metadata to commit before handing it out. */
export function startProbe(guard: PartitionGuard, offset: string, at: string): string {
  guard.probing = offset;
  return encode(guard, at);
}

/**
 * Careful mode: the probed record went through the pipeline. True when careful mode ended with it (no
 * killer among `probeRecords` records: the count starts over); commit commitMetadata() then, so that
 * the last probe is not left standing. False: the next probe's commit says enough.
 */
export function probePassed(guard: PartitionGuard): boolean {
  if (guard.careful === 0) return false;
  guard.careful -= 1;
  if (guard.careful > 0) return false;
  delete guard.probing;
  guard.deaths = 0;
  return true;
}
