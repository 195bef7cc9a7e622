/**
 * `store warm --from-topic`'s per-record decision (src/pipeline/warm.ts) on real captured envelopes:
 * what each record of a snapshot topic puts into the last-values store, or why it puts nothing.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/index.ts';
import { NotifierError } from '../../../src/domain/errors.ts';
import type { SourceRecord } from '../../../src/domain/record.ts';
import { undecodable, type WarmDecision, warmDecision } from '../../../src/pipeline/warm.ts';
import {
  loadFixture,
  MARIADB_FIXTURES_DIR,
  makePayload,
  makeRecord,
  makeSource,
} from '../../support/records.ts';
import { MARIADB_COLUMNS, MARIADB_LISTINGS_TOPIC } from '../../support/stack.ts';

const defaults = parseConfig('', 'defaults');
const records = (name: string, dir?: string): SourceRecord[] => loadFixture(name, dir).records;
const decide = (record: SourceRecord | undefined): WarmDecision => {
  if (record === undefined) throw new Error('no record');
  return warmDecision(record, {}, defaults);
};

describe('warmDecision', () => {
  it('puts a snapshot read (op r) at its own LSN: the after image of the watched columns', () => {
    const [first, second] = records('snapshot-read');
    expect(decide(first)).toMatchObject({
      kind: 'put',
      learned: {
        listingId: '900001',
        entry: {
          position: 'pg:00000000000030038664',
          values: {
            prc_amt: { type: 'decimal', value: '1234567.89' },
            crncy_cd: 'EUR',
            LST_STAT_CD: 'S',
            prod_stk_qty: 0,
          },
        },
      },
    });
    const put = decide(second);
    expect(put.kind === 'put' && put.learned.entry.values).toEqual({
      prc_amt: { type: 'decimal', value: '899' },
      crncy_cd: 'GBP',
      LST_STAT_CD: 'A',
      prod_stk_qty: 3,
      description: 'Barista Pro, 15 bar.',
    });
    // Unwatched columns (title, category, audit columns) are not kept.
    expect(put.kind === 'put' && Object.keys(put.learned.entry.values)).not.toContain('lst_ttl');
  });

  it('puts creates and updates, an update without a before image too (REPLICA IDENTITY DEFAULT)', () => {
    expect(decide(records('insert')[0])).toMatchObject({ kind: 'put', learned: { listingId: '900001' } });
    expect(decide(records('update-price')[0])).toMatchObject({
      kind: 'put',
      learned: { entry: { position: 'pg:00000000000029928664', values: { prc_amt: { value: '199.99' } } } },
    });
    expect(decide(records('replica-identity-default')[0])).toMatchObject({
      kind: 'put',
      learned: {
        entry: {
          position: 'pg:00000000000030039992',
          values: { prc_amt: { type: 'decimal', value: '1099' }, LST_STAT_CD: 'S', prod_stk_qty: 0 },
        },
      },
    });
    // The unchanged TOASTed description is unknown, not stored as the placeholder.
    const put = decide(records('replica-identity-default')[0]);
    expect(put.kind === 'put' && 'description' in put.learned.entry.values).toBe(false);
  });

  it('removes nothing for a delete, and skips its tombstone', () => {
    const [del, tombstone] = records('delete');
    expect(decide(del)).toEqual({ kind: 'skip', reason: 'delete' });
    expect(decide(tombstone)).toEqual({ kind: 'skip', reason: 'tombstone' });
    // A primary-key change: the old key's delete and tombstone skipped, the new key's create put.
    expect(records('primary-key-change').map((r) => decide(r).kind)).toEqual(['skip', 'skip', 'put']);
  });

  it('skips what does not decode, with the reason, never throwing', () => {
    const garbage = makeRecord({ value: Buffer.from('{"payload": not json') });
    expect(decide(garbage)).toMatchObject({
      kind: 'skip',
      reason: 'undecodable',
      detail: expect.any(String),
    });
    const notAnEnvelope = makeRecord({ value: Buffer.from('[1,2,3]') });
    expect(decide(notAnEnvelope)).toMatchObject({ kind: 'skip', reason: 'undecodable' });
    const badOp = makeRecord({ payload: makePayload({ op: 'x' }) });
    expect(decide(badOp)).toMatchObject({ kind: 'skip', reason: 'undecodable' });
  });

  it('skips control records, and records without a position or a listing', () => {
    const heartbeat = makeRecord({
      topic: '__debezium-heartbeat.monolith',
      value: Buffer.from('{"ts_ms":1}'),
    });
    expect(decide(heartbeat)).toEqual({ kind: 'skip', reason: 'control', detail: 'heartbeat' });
    const { lsn: _, ...noLsn } = makeSource();
    const positionless = makeRecord({ payload: makePayload({ op: 'r', before: null, source: noLsn }) });
    expect(decide(positionless)).toEqual({ kind: 'skip', reason: 'no-position' });
    expect(decide(makeRecord({ payload: makePayload({ op: 'r', before: null }) }))).toMatchObject({
      kind: 'put',
      learned: { listingId: '1', entry: { position: 'pg:00000000000024023128' } },
    });
  });

  it("decodes a copy of a source topic with that topic's column map (--columns-of)", () => {
    const [record] = records('snapshot-read', MARIADB_FIXTURES_DIR);
    if (record === undefined) throw new Error('no record');
    const config = parseConfig(
      JSON.stringify({
        source: { topics: [MARIADB_LISTINGS_TOPIC], columns: { [MARIADB_LISTINGS_TOPIC]: MARIADB_COLUMNS } },
      }),
      'mariadb',
    );
    // The fixture's topic (fxm_snapshot.monolith.listings) is not the configured one: stock is unnamed.
    const bare = warmDecision(record, {}, config);
    expect(bare.kind === 'put' && bare.learned.entry.values.prod_stk_qty).toBeUndefined();
    const mapped = warmDecision(record, {}, config, { columnsOf: MARIADB_LISTINGS_TOPIC });
    expect(mapped).toMatchObject({
      kind: 'put',
      learned: {
        listingId: '900001',
        entry: { position: expect.stringMatching(/^my:/), values: { LST_STAT_CD: expect.any(String) } },
      },
    });
    expect(mapped.kind === 'put' && typeof mapped.learned.entry.values.prod_stk_qty).toBe('number');
  });
});

describe('undecodable', () => {
  it("skips what the service would dead-letter, and throws what is the command's (the registry away)", () => {
    expect(undecodable(new NotifierError('SCHEMA_NOT_FOUND', 'schema 7 not found'))).toEqual({
      kind: 'skip',
      reason: 'undecodable',
      detail: 'schema 7 not found',
    });
    expect(() => undecodable(new NotifierError('REGISTRY_UNAVAILABLE', 'registry down'))).toThrow(
      'registry down',
    );
    expect(() => undecodable(new NotifierError('REGISTRY_AUTH', 'refused'))).toThrow('refused');
  });
});
