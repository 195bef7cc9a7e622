/**
 * The noise fast path (src/pipeline/noise.ts) against the full path (decideDecoded): whenever the fast
 * path answers, its Outcome is exactly the full path's; it answers for the captured noise updates and
 * stays out of everything else. Generated records start from a captured update and change its columns,
 * its text (escapes, multi-byte characters, braces in strings) and its shape.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/index.ts';
import type { SourceRecord } from '../../../src/domain/record.ts';
import { decideDecoded, decideRecord, decimalColumnsOf } from '../../../src/pipeline/index.ts';
import { dropNoise } from '../../../src/pipeline/noise.ts';
import {
  decimalBase64,
  envelopeSchema,
  fixtureCases,
  listingRowSchema,
  loadFixture,
  makePayload,
  makeRecord,
  makeRow,
} from '../../support/records.ts';

const defaults = parseConfig('', 'defaults');
const decimals = decimalColumnsOf(defaults);
const fast = (record: SourceRecord, config = defaults) => dropNoise(record, config, decimalColumnsOf(config));

/** Both paths agree; returns whether the fast path answered. */
function agree(record: SourceRecord, config = defaults): boolean {
  const quick = fast(record, config);
  const full = decideDecoded(record, {}, config);
  if (quick !== undefined) expect(quick).toStrictEqual(full);
  expect(decideRecord(record, {}, config)).toStrictEqual(full);
  return quick !== undefined;
}

const noiseCases = ['update-internal-only', 'update-no-op', 'update-title', 'update-updated-at-only'];

describe('the noise fast path over the captured fixtures', () => {
  for (const name of fixtureCases()) {
    it(`${name}: same outcome as the full decode${noiseCases.includes(name) ? ', from the fast path' : ''}`, () => {
      const used = loadFixture(name).records.map((r) => agree(r));
      expect(used.some(Boolean)).toBe(noiseCases.includes(name));
    });
  }

  it('names the changed unwatched columns, the listing and the commit time', () => {
    const [record] = loadFixture('update-internal-only').records;
    expect(fast(record as SourceRecord)).toEqual({
      kind: 'dropped',
      reason:
        'insignificant: only unwatched columns changed (audit_usr_id, sync_flg, etl_batch_id, srch_vec)',
      listingId: '900001',
      sourceTsMs: 1795379675708,
    });
  });

  it('leaves a topic with renamed columns (source.columns) to the full path', () => {
    const [noise] = loadFixture('update-internal-only').records as [SourceRecord];
    const renaming = parseConfig(
      JSON.stringify({ source: { columns: { [noise.topic]: { etl_batch_id: 'batch' } } } }),
      'renaming',
    );
    expect(fast(noise, renaming)).toBeUndefined();
    agree(noise, renaming);
  });

  it('leaves a change of a watched column to the full path, also with a config watching lst_ttl', () => {
    const [title] = loadFixture('update-title').records;
    const watchingTitle = parseConfig(
      JSON.stringify({ fields: { title: { kind: 'text', column: 'lst_ttl' } }, rules: [] }),
      'title',
    );
    expect(fast(title as SourceRecord, watchingTitle)).toBeUndefined();
    agree(title as SourceRecord, watchingTitle);
  });
});

// --- generated records --------------------------------------------------------------------------

const [base] = loadFixture('update-no-op').records as [SourceRecord];
const baseValue = JSON.parse((base.value as Buffer).toString('utf8')) as {
  schema: unknown;
  payload: Record<string, unknown> & { before: Record<string, unknown>; after: Record<string, unknown> };
};

/** Text that stresses a byte scanner: quotes, backslashes, braces, escapes, multi-byte characters. */
const nastyText = fc.string({
  unit: fc.constantFrom(
    'a',
    ' ',
    '"',
    '\\',
    '{',
    '}',
    '[',
    ']',
    ',',
    ':',
    'é',
    '€',
    '😀',
    '\n',
    '\u0001',
    'null',
  ),
  maxLength: 40,
});

/** Values per column, of the column's type (and sometimes of another type, or null). */
const columnValues: Record<string, fc.Arbitrary<unknown>> = {
  lst_id: fc.constantFrom(900001, 900002),
  LST_STAT_CD: fc.constantFrom('A', 'U', 'D', 'S'),
  // A TOAST placeholder in an unwatched column: never a change in after, previous unknown in before.
  lst_ttl: fc.oneof(nastyText, fc.constant('__debezium_unavailable_value')),
  description: fc.oneof(nastyText, fc.constant(null)),
  prc_amt: fc.constantFrom('19.99', '20.00', '249.00', '1234567.89').map((d) => decimalBase64(d, 2)),
  crncy_cd: fc.constantFrom('EUR', 'USD'),
  prod_stk_qty: fc.integer({ min: -2, max: 20 }),
  ctgy_cd: fc.constantFrom('HOME', 'MISC', 'x"y'),
  upd_ts: fc.constantFrom(
    '2026-01-06T10:30:00.123456Z',
    '2026-01-06T11:30:00.123456+01:00', // the same instant, spelled differently
    '2026-01-07T00:00:00Z',
  ),
  audit_usr_id: fc.oneof(fc.integer({ min: 0, max: 3000 }), fc.constant(null)),
  sync_flg: fc.boolean(),
  etl_batch_id: fc.oneof(fc.integer({ min: 0, max: 2 ** 40 }), fc.constant(null)),
  srch_vec: fc.oneof(nastyText, fc.constant(null), fc.constant('__debezium_unavailable_value')),
};
const columns = Object.keys(baseValue.payload.before);
const anyValue = fc.oneof(fc.integer(), nastyText, fc.boolean(), fc.constant(null), fc.constant({ a: [1] }));

/** Per column: leave it, change the after image, change both, or put a value of any type. */
const editsOf = (cols: string[]) =>
  fc.record(
    Object.fromEntries(
      cols.map((c) => [
        c,
        fc.oneof(
          { weight: 6, arbitrary: fc.constant(undefined) },
          { weight: 3, arbitrary: (columnValues[c] ?? anyValue).map((v) => ({ after: v })) },
          {
            weight: 2,
            arbitrary: fc
              .tuple(columnValues[c] ?? anyValue, columnValues[c] ?? anyValue)
              .map(([before, after]) => ({ before, after })),
          },
          { weight: 1, arbitrary: anyValue.map((v) => ({ before: v, after: v })) },
        ),
      ]),
    ),
  );
const watchedColumns = new Set(['LST_STAT_CD', 'description', 'prc_amt', 'crncy_cd', 'prod_stk_qty']);
/** Mostly noise (unwatched columns only), sometimes any column. */
const rowEdits = fc.oneof(
  { weight: 4, arbitrary: editsOf(columns.filter((c) => !watchedColumns.has(c))) },
  { weight: 1, arbitrary: editsOf(columns) },
);

/** Changes to the text or the envelope that the fast path must not misread. */
const shapeEdits = fc.oneof(
  { weight: 16, arbitrary: fc.constant('none') },
  {
    weight: 16,
    arbitrary: fc.constantFrom(
      'op c',
      'op d',
      'op r',
      'before null',
      'key-only before',
      'placeholder description',
      'space after colon',
      'extra payload member',
      'before again',
      'reordered columns',
      'source ts_ms null',
      'source ts_ms string',
      'missing column',
      'trailing garbage',
      'truncated',
      'heartbeat topic',
      ');',
    ),
  },
);

function build(edits: Record<string, { before?: unknown; after?: unknown } | undefined>, shape: string) {
  const payload = structuredClone(baseValue.payload);
  for (const [column, edit] of Object.entries(edits)) {
    if (edit === undefined) continue;
    if ('before' in edit) payload.before[column] = edit.before;
    payload.after[column] = edit.after;
  }
  let topic = base.topic;
  const source = payload.source as Record<string, unknown>;
  if (shape.startsWith('op ')) payload.op = shape.slice(3);
  if (shape === 'before null') payload.before = null as never;
  if (shape === 'key-only before')
    payload.before = Object.fromEntries(
      columns.map((c) => [c, c === 'lst_id' ? payload.after.lst_id : null]),
    );
  if (shape === 'placeholder description') payload.after.description = '__debezium_unavailable_value';
  if (shape === 'extra payload member') payload.extra = 1;
  if (shape === 'before again') (payload as Record<string, unknown>).zzz = 0;
  if (shape === 'reordered columns') {
    const { lst_id, ...others } = payload.after;
    payload.after = { ...others, lst_id };
  }
  if (shape === 'source ts_ms null') source.ts_ms = null;
  if (shape === 'source ts_ms string') source.ts_ms = '1795379675708';
  if (shape === 'missing column') delete payload.after.srch_vec;
  if (shape === 'heartbeat topic') topic = '__debezium-heartbeat.monolith';
  let text = JSON.stringify({ schema: baseValue.schema, payload });
  if (shape === 'space after colon') text = text.replace('"op":', '"op": ');
  if (shape === 'before again') text = text.replace('"zzz":0', `"before":${JSON.stringify(payload.after)}`);
  if (shape === 'trailing garbage') text = `${text} x`;
  if (shape === 'truncated') text = text.slice(0, text.length - 3);
  return { ...base, topic, value: Buffer.from(text) };
}

describe('the noise fast path over generated records', () => {
  it('leaves an unchanged value that contradicts its schema to the full path (regression: seed 106901857)', () => {
    // An unchanged price that is not Decimal bytes: the full path dead-letters the record, so must this.
    const record = build(
      {
        LST_STAT_CD: { after: 'S' },
        prc_amt: { before: 'a', after: 'a' },
        crncy_cd: { before: 'EUR', after: 'EUR' },
        ctgy_cd: { before: 'HOME', after: 'HOME' },
        audit_usr_id: { after: 0 },
      } as Parameters<typeof build>[0],
      'none' as Parameters<typeof build>[1],
    );
    expect(decideDecoded(record, {}, defaults).kind).toBe('dead-letter');
    expect(agree(record)).toBe(false);
  });

  it('gives the full path’s outcome whenever it answers, and answers for noise', () => {
    let answered = 0;
    fc.assert(
      fc.property(rowEdits, shapeEdits, (edits, shape) => {
        if (agree(build(edits, shape))) answered += 1;
      }),
      { numRuns: 1500 },
    );
    // Not vacuous: most generated records are noise the fast path reads.
    expect(answered).toBeGreaterThan(200);
  });

  it('treats the same instant spelled differently as no change, as the full path does', () => {
    const record = build({ upd_ts: { after: '2026-01-06T11:30:00.123456+01:00' } }, 'none');
    expect(fast(record)).toMatchObject({
      reason: 'insignificant: no column changed (before and after are equal)',
    });
    agree(record);
  });

  it('stays out of malformed records (the full path dead-letters them)', () => {
    for (const shape of ['truncated', 'trailing garbage', 'before again', 'source ts_ms string']) {
      const record = build({ etl_batch_id: { after: 7 } }, shape);
      expect(fast(record)).toBeUndefined();
      agree(record);
    }
    expect(decimals).toEqual({ prc_amt: 2 });
  });
});

describe('issue 19, finding 1: a jsonb column nested 10,000 deep', () => {
  /** The listings row with a jsonb column (io.debezium.data.Json: JSON text in a string). */
  const withJsonb = (() => {
    const row = listingRowSchema('monolith.public.listings.Value', true);
    row.fields?.push({
      field: 'attrs',
      type: 'string',
      optional: true,
      name: 'io.debezium.data.Json',
      version: 1,
    });
    return envelopeSchema(row);
  })();
  const nested = (depth: number, leaf: string): string => `${'['.repeat(depth)}${leaf}${']'.repeat(depth)}`;

  it('an update deep inside the unwatched column is noise, on the fast and the full path alike', () => {
    const record = makeRecord({
      schema: withJsonb,
      payload: makePayload({
        before: makeRow({ attrs: nested(10_000, '1') }),
        after: makeRow({ attrs: nested(10_000, '2') }),
      }),
    });
    expect(fast(record)).toEqual({
      kind: 'dropped',
      reason: 'insignificant: only unwatched columns changed (attrs)',
      listingId: '1',
      sourceTsMs: 1_795_873_507_123,
    });
    agree(record);
  });

  it('a price change beside the deep column still notifies (full path)', () => {
    const record = makeRecord({
      schema: withJsonb,
      payload: makePayload({
        before: makeRow({ attrs: nested(10_000, '1') }),
        after: makeRow({ attrs: nested(10_000, '2'), prc_amt: decimalBase64('17.99', 2) }),
      }),
    });
    expect(fast(record)).toBeUndefined();
    expect(decideRecord(record, {}, defaults)).toMatchObject({ kind: 'notify' });
  });

  it('whatever makes the fast path throw (a schema 10,000 deep) is decided by the full path: dead-lettered', () => {
    const deepSchema = `${'{"type":"array","optional":true,"items":'.repeat(10_000)}{"type":"int32","optional":true}${'}'.repeat(10_000)}`;
    const row = listingRowSchema('monolith.public.listings.Value', true);
    row.fields?.push({
      field: 'attrs',
      type: 'array',
      optional: true,
      items: { type: 'string', name: 'DEEP' },
    });
    const made = makeRecord({
      schema: envelopeSchema(row),
      payload: makePayload({
        before: makeRow({ attrs: null }),
        after: makeRow({ attrs: null, etl_batch_id: 5 }),
      }),
    });
    const value = Buffer.from(
      (made.value as Buffer).toString().replaceAll('{"type":"string","name":"DEEP"}', deepSchema),
    );
    const record = { ...made, value };
    expect(() => fast(record)).toThrow(RangeError);
    const outcome = decideRecord(record, {}, defaults);
    expect(outcome).toMatchObject({ kind: 'dead-letter', error: { code: 'DECODE_FAILED' } });
  });
});
