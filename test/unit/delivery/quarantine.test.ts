import { describe, expect, it } from 'vitest';
import {
  type AssignmentFacts,
  attemptMetadata,
  commitMetadata,
  MARKER_PREFIX,
  type PartitionGuard,
  parseMarker,
  planPartition,
  poisonAt,
  poisonReason,
  probePassed,
  type QuarantinePolicy,
  startProbe,
  stopMetadata,
} from '../../../src/delivery/quarantine.ts';

const policy: QuarantinePolicy = { maxAttempts: 3, probeRecords: 2 };
const T0 = Date.parse('2026-12-03T10:00:00.000Z');

/** What member `me` finds at committed offset `committed` with `metadata`, the group holding `members`. */
const facts = (o: Partial<AssignmentFacts> & { metadata: string | null }): AssignmentFacts => ({
  committed: '10',
  members: new Set([o.me ?? 'm-new']),
  me: 'm-new',
  now: T0,
  ...o,
});

/**
 * One run: member `me` is assigned at committed offset 10 with whatever the previous run left, writes
 * its attempt marker, and (careful) probes records from 10 on, dying at `diesAt` (or not at all).
 */
function run(
  left: string | null,
  me: string,
  diesAt?: string,
): { guard: PartitionGuard; left: string | null } {
  const guard = planPartition(facts({ metadata: left, me, members: new Set([me]) }), policy);
  let metadata: string | null = attemptMetadata(guard, '10');
  if (guard.careful > 0) {
    for (const offset of ['10', '11', '12']) {
      if (guard.careful === 0) break;
      metadata = startProbe(guard, offset, '10');
      if (offset === diesAt) return { guard, left: metadata };
      if (probePassed(guard)) metadata = commitMetadata(guard, '10');
    }
  }
  return { guard, left: metadata };
}

describe('quarantine: counting deaths at one committed offset', () => {
  it('a fresh partition is normal, and its commits carry no metadata (the common path costs nothing)', () => {
    const guard = planPartition(facts({ metadata: null, committed: undefined }), policy);
    expect(guard).toMatchObject({ deaths: 0, careful: 0, poison: [] });
    expect(commitMetadata(guard, '11')).toBeNull();
    expect(attemptMetadata(guard, '10').startsWith(MARKER_PREFIX)).toBe(true);
  });

  it('a record that kills every run is dead-lettered after exactly maxAttempts deaths', () => {
    // The record at 10 kills whoever processes it. Each run is a new process (a new member id), and
    // the dead one is no longer in the group when the next one is assigned.
    const first = run(null, 'm1');
    expect(first.guard).toMatchObject({ deaths: 0, careful: 0 });
    const second = run(first.left, 'm2');
    expect(second.guard).toMatchObject({ deaths: 1, careful: 0 });
    const third = run(second.left, 'm3', '10');
    expect(third.guard).toMatchObject({ deaths: 2, careful: 2, probing: '10' });
    const fourth = planPartition(facts({ metadata: third.left, me: 'm4' }), policy);
    expect(fourth).toMatchObject({ deaths: 0, careful: 0 });
    const poison = poisonAt(fourth, '10');
    expect(poison).toEqual({ offset: '10', deaths: 3, diedAfter: T0 });
    expect(poisonAt(fourth, '11')).toBeUndefined();
    expect(poisonReason(poison as NonNullable<typeof poison>)).toBe(
      'the process died 3 times while processing this record (the last time while it was processed alone, ' +
        'in an attempt begun at 2026-12-03T10:00:00.000Z); it was dead-lettered without being decoded',
    );
  });

  it('careful mode names the record it died on, not the first one it probed', () => {
    const m1 = run(null, 'm1');
    const m2 = run(m1.left, 'm2');
    const m3 = run(m2.left, 'm3', '11');
    const next = planPartition(facts({ metadata: m3.left, me: 'm4' }), policy);
    expect(next.poison.map((p) => p.offset)).toEqual(['11']);
    // The poison is remembered in every commit until the position passes it, then forgotten.
    expect(parseMarker(commitMetadata(next, '11'))?.poison).toEqual([
      { offset: '11', deaths: 3, diedAfter: T0 },
    ]);
    expect(commitMetadata(next, '12')).toBeNull();
  });

  it('careful mode that finds nothing ends after probeRecords records and the count starts over', () => {
    const m1 = run(null, 'm1');
    const m2 = run(m1.left, 'm2');
    const m3 = run(m2.left, 'm3');
    expect(m3.guard).toMatchObject({ careful: 0, deaths: 0 });
    expect(m3.left).toBeNull();
    expect(planPartition(facts({ metadata: m3.left, me: 'm4' }), policy)).toMatchObject({ deaths: 0 });
  });

  it('a clean handover (the previous owner is still a member) is not counted', () => {
    const m1 = run(null, 'm1');
    const m2 = run(m1.left, 'm2'); // m1 died: 1
    // A rebalance hands the partition from m2 (alive) to m3, twice over, without progress.
    const alive = new Set(['m2', 'm3']);
    const m3 = planPartition(facts({ metadata: m2.left, me: 'm3', members: alive }), policy);
    expect(m3).toMatchObject({ deaths: 1, careful: 0 });
    const back = planPartition(
      facts({ metadata: attemptMetadata(m3, '10'), me: 'm2', members: alive }),
      policy,
    );
    expect(back).toMatchObject({ deaths: 1, careful: 0 });
  });

  it('a clean stop is not counted, and a careful run stopped cleanly blames no record', () => {
    const m1 = run(null, 'm1');
    const m2 = run(m1.left, 'm2');
    const m3 = run(m2.left, 'm3', '10'); // stopped (SIGTERM) while probing 10, not dead
    const stopped = stopMetadata(m3.guard, '10');
    expect(parseMarker(stopped)?.member).toBe('');
    const next = planPartition(facts({ metadata: stopped, me: 'm4' }), policy);
    expect(next).toMatchObject({ deaths: 2, careful: 2, poison: [] });
    // A normal run with nothing to remember leaves nothing at all.
    const fresh = planPartition(facts({ metadata: null }), policy);
    expect(stopMetadata(fresh, '10')).toBeNull();
  });

  it('progress clears the count: a marker under another offset than the committed one is stale', () => {
    const m1 = run(null, 'm1');
    const moved = planPartition(facts({ metadata: m1.left, committed: '12', me: 'm2' }), policy);
    expect(moved).toMatchObject({ deaths: 0, careful: 0, poison: [] });
    expect(planPartition(facts({ metadata: m1.left, committed: undefined }), policy).deaths).toBe(0);
  });

  it('maxAttempts 2: one normal death, then the careful run', () => {
    const two = { maxAttempts: 2, probeRecords: 5 };
    const m1 = planPartition(facts({ metadata: null, me: 'm1' }), two);
    const m2 = planPartition(facts({ metadata: attemptMetadata(m1, '10'), me: 'm2' }), two);
    expect(m2).toMatchObject({ deaths: 1, careful: 5 });
  });

  it('ignores metadata that is not ours or is malformed (it comes from the broker)', () => {
    for (const metadata of [
      '',
      'some other tool',
      `${MARKER_PREFIX}{`,
      `${MARKER_PREFIX}null`,
      `${MARKER_PREFIX}{"at":"10","deaths":-1,"member":"x","since":0,"careful":0}`,
      `${MARKER_PREFIX}{"at":"1e3","deaths":1,"member":"x","since":0,"careful":0}`,
      `${MARKER_PREFIX}{"at":"10","deaths":1,"member":"x","since":0,"careful":0,"probe":{}}`,
    ]) {
      expect(parseMarker(metadata)).toBeUndefined();
      expect(planPartition(facts({ metadata }), policy)).toMatchObject({ deaths: 0, careful: 0, poison: [] });
    }
  });
});
