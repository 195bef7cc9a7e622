import { describe, expect, it } from 'vitest';
import { type AdmissionState, admitOutcome, admitRecord, mayResume } from '../../../src/app/admission.ts';
import type { Outcome } from '../../../src/domain/outcome.ts';

const limits = { maxInFlightRecords: 100, maxInFlightBytes: 1000, maxFoldedRecords: 50 };
const state = (overrides: Partial<AdmissionState> = {}): AdmissionState => ({
  stopping: false,
  batchActive: true,
  taken: false,
  holding: 0,
  heldBytes: 0,
  folded: 0,
  ...overrides,
});

describe('admitRecord', () => {
  it('takes a record while every bound has room', () => {
    expect(admitRecord(state({ holding: 99, heldBytes: 999, folded: 49 }), limits)).toEqual({
      kind: 'take',
    });
  });

  it('pauses on whichever bound is reached: records, bytes, folded records', () => {
    expect(admitRecord(state({ holding: 100 }), limits)).toEqual({
      kind: 'pause',
      reason: { kind: 'in-flight' },
    });
    expect(admitRecord(state({ heldBytes: 1000 }), limits)).toEqual({
      kind: 'pause',
      reason: { kind: 'bytes' },
    });
    expect(admitRecord(state({ folded: 50 }), limits)).toEqual({ kind: 'pause', reason: { kind: 'folded' } });
  });

  it('skips a record already taken in this assignment, and leaves a stale batch or a stopping loop', () => {
    expect(admitRecord(state({ taken: true, holding: 100 }), limits)).toEqual({ kind: 'skip' });
    expect(admitRecord(state({ batchActive: false }), limits)).toEqual({ kind: 'leave' });
    expect(admitRecord(state({ stopping: true }), limits)).toEqual({ kind: 'leave' });
  });
});

describe('admitOutcome', () => {
  const notify: Outcome = {
    kind: 'notify',
    reason: 'notify: x',
    messages: [
      { channel: '#a', payload: { text: 'a', blocks: [] } },
      { channel: '#b', payload: { text: 'b', blocks: [] } },
    ],
  };
  it('pauses on the first channel that will not accept the message', () => {
    expect(admitOutcome(notify, (m) => m.channel !== '#b')).toEqual({
      kind: 'pause',
      reason: { kind: 'channel', channel: '#b' },
    });
    expect(admitOutcome(notify, () => true)).toEqual({ kind: 'take' });
  });
  it('takes drops and dead letters whatever the channels say', () => {
    expect(admitOutcome({ kind: 'dropped', reason: 'x' }, () => false)).toEqual({ kind: 'take' });
  });
});

describe('mayResume', () => {
  it('resumes below 3/4 of every bound, and for a channel pause only once the lane has room', () => {
    const s = { stopping: false, holding: 74, heldBytes: 749, folded: 36 };
    expect(mayResume({ kind: 'in-flight' }, s, limits, () => false)).toBe(true);
    expect(mayResume({ kind: 'in-flight' }, { ...s, holding: 75 }, limits, () => true)).toBe(false);
    expect(mayResume({ kind: 'folded' }, { ...s, folded: 37 }, limits, () => true)).toBe(false);
    expect(mayResume({ kind: 'channel', channel: '#a' }, s, limits, () => false)).toBe(false);
    expect(mayResume({ kind: 'channel', channel: '#a' }, s, limits, () => true)).toBe(true);
    expect(mayResume({ kind: 'in-flight' }, { ...s, stopping: true }, limits, () => true)).toBe(false);
  });
});
