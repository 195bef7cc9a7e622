/**
 * Hand-made ChangeEvents (what normalize produces) for filter/route/render tests. `makeEvent` is an
 * update of listing 1 with full before and after images; overrides change the op, rows, source…,
 * and `makeUpdate(changes)` writes only the columns that differ.
 */
import type { ChangeEvent, ColumnValue, FieldChange, Row } from '../../src/domain/change.ts';
import { diff } from '../../src/pipeline/diff.ts';

export const dec = (value: string): ColumnValue => ({ type: 'decimal', value });
export const unavailable: ColumnValue = { type: 'unavailable' };

/** Listing 1 as normalize returns it (price exact, timestamp tagged). Overrides win. */
export function makeListingRow(overrides: Row = {}): Row {
  return {
    lst_id: 1,
    LST_STAT_CD: 'A',
    lst_ttl: 'Ergonomic Office Chair, Mesh Back',
    description: 'Breathable mesh, adjustable lumbar support. Ships within 2 working days.',
    prc_amt: dec('19.99'),
    crncy_cd: 'USD',
    prod_stk_qty: 12,
    ctgy_cd: 'HOME',
    upd_ts: { type: 'timestamp', iso: '2026-11-22T13:45:07.123456Z' },
    audit_usr_id: 1001,
    sync_flg: false,
    etl_batch_id: null,
    ...overrides,
  };
}

/** 2026-11-28T13:45:07.123Z, as in test/support/records.ts. */
export const SOURCE_TS_MS = 1_795_873_507_123;

export type EventOverrides = Partial<Omit<ChangeEvent, 'source'>> & {
  source?: Partial<ChangeEvent['source']>;
};

export function makeEvent(overrides: EventOverrides = {}): ChangeEvent {
  const { source, ...rest } = overrides;
  return {
    op: 'update',
    source: {
      connector: 'postgresql',
      db: 'monolith',
      schema: 'public',
      table: 'listings',
      tsMs: SOURCE_TS_MS,
      snapshot: false,
      ...source,
    },
    key: { lst_id: 1 },
    listingId: '1',
    before: makeListingRow(),
    beforeComplete: true,
    after: makeListingRow(),
    tsMs: SOURCE_TS_MS + 300,
    ...rest,
  };
}

/** An update of listing 1 whose after image differs from the before image by `after`. */
export function makeUpdate(after: Row, before: Row = {}, overrides: EventOverrides = {}): ChangeEvent {
  return makeEvent({
    before: makeListingRow(before),
    after: makeListingRow({ ...before, ...after }),
    ...overrides,
  });
}

/** The event and its diff, as the pipeline hands them to the filter. */
export function withChanges(event: ChangeEvent): { event: ChangeEvent; changes: FieldChange[] } {
  return { event, changes: diff(event) };
}
