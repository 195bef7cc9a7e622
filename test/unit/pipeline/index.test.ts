/**
 * The whole pipeline over every captured Debezium fixture (test/fixtures/debezium), with the default
 * rules file: the outcome a sales or support person would expect for each record.
 */
import { describe, expect, it } from 'vitest';
import { type Config, parseConfig } from '../../../src/config/index.ts';
import { NotifierError } from '../../../src/domain/errors.ts';
import { type Outcome, rendered } from '../../../src/domain/outcome.ts';
import { checkPayload } from '../../../src/pipeline/block-limits.ts';
import { createPipeline, decimalColumnsOf } from '../../../src/pipeline/index.ts';
import type { SchemaRegistryPort } from '../../../src/ports/index.ts';
import { fixtureCases, loadFixture, makePayload, makeRecord, makeRow } from '../../support/records.ts';

const defaults = parseConfig('', 'defaults');

type Expected = [kind: Outcome['kind'], reason: string, messages: [channel: string, summary: string][]];

const TOMBSTONE: Expected = ['dropped', 'tombstone: delete marker for log compaction', []];
const PRICE_UP: Expected = [
  'notify',
  'notify: price increased -> sales-alerts',
  [['#sales-alerts', 'Price changed from €199.99 to €1,234,567.89 (+617214.8%)']],
];

/** Per case, per record: what a sales or support person expects. */
const expectations: Record<string, Expected[]> = {
  'update-price': [
    [
      'notify',
      'notify: price decreased -> sales-alerts',
      [['#sales-alerts', 'Price changed from €249.00 to €199.99 (-19.7%)']],
    ],
  ],
  'update-stock': [
    [
      'notify',
      'notify: stock low -> inventory-warnings',
      [['#inventory-warnings', 'Stock ran out: 0 left (was 12)']],
    ],
  ],
  'update-status': [
    [
      'notify',
      'notify: status changed -> inventory-warnings',
      [['#inventory-warnings', 'Status changed from Active to Sold out']],
    ],
  ],
  // The same price change through every decimal encoding: the same exact message.
  'decimal-precise': [PRICE_UP],
  'decimal-string': [PRICE_UP],
  'decimal-double': [PRICE_UP],
  'schemas-disabled': [PRICE_UP],
  // No before image (previousUnknown: notify): each field judged by its new value alone. The new price,
  // said plainly, and the stock of 0 below its low mark warns (issue 9, finding 3).
  'replica-identity-default': [
    [
      'notify',
      'notify: price changed -> sales-alerts; stock low -> inventory-warnings (no rule for status changed)',
      [
        ['#sales-alerts', 'Price is now €1,099.00 (previous value unknown)'],
        ['#inventory-warnings', 'Stock ran out: 0 left (previous value unknown)'],
      ],
    ],
  ],
  delete: [
    [
      'notify',
      'notify: listing deleted -> support-heads-up; listing deleted -> marketing-updates',
      [
        ['#support-heads-up', 'Listing deleted'],
        ['#marketing-updates', 'Listing deleted'],
      ],
    ],
    TOMBSTONE,
  ],
  insert: [['dropped', 'unmatched: no rule matched listing created', []]],
  'update-description': [['dropped', 'unmatched: no rule matched description changed', []]],
  'primary-key-change': [
    [
      'dropped',
      'key-change: primary key change (old-key-deleted, other key 900003); not a listing change',
      [],
    ],
    TOMBSTONE,
    [
      'dropped',
      'key-change: primary key change (new-key-created, other key 900002); not a listing change',
      [],
    ],
  ],
  'snapshot-read': [
    ['dropped', 'snapshot: initial read of an existing row, not a change', []],
    ['dropped', 'snapshot: initial read of an existing row, not a change', []],
  ],
  'update-internal-only': [
    [
      'dropped',
      'insignificant: only unwatched columns changed (audit_usr_id, sync_flg, etl_batch_id, srch_vec)',
      [],
    ],
  ],
  'update-no-op': [['dropped', 'insignificant: no column changed (before and after are equal)', []]],
  'update-title': [['dropped', 'insignificant: only unwatched columns changed (lst_ttl)', []]],
  'update-updated-at-only': [['dropped', 'insignificant: only unwatched columns changed (upd_ts)', []]],
};

const summaryOf = (blocks: readonly unknown[]): string =>
  ((blocks[1] as { text?: { text?: string } } | undefined)?.text?.text ?? '') as string;

describe('every captured fixture through the whole pipeline', () => {
  const cases = fixtureCases();

  it('has an expectation for every captured case (and the capture is there)', () => {
    expect(cases.length).toBeGreaterThan(0);
    expect(Object.keys(expectations).sort()).toEqual(cases);
  });

  it.each(cases)('%s', async (name) => {
    const pipeline = createPipeline(defaults);
    const { records } = loadFixture(name);
    const outcomes = await Promise.all(records.map((r) => pipeline.process(r)));
    const seen = outcomes.map(
      (o): Expected => [
        o.kind,
        o.reason,
        o.kind === 'notify' ? o.messages.map((m) => [m.channel, summaryOf(m.payload.blocks)]) : [],
      ],
    );
    expect(seen).toEqual(expectations[name]);
    for (const [i, outcome] of outcomes.entries()) {
      if (records[i]?.value === null) continue;
      // Every record that decodes says which listing and when.
      expect(outcome.listingId).toMatch(/^90000[123]$/);
      expect(outcome.sourceTsMs).toBeGreaterThan(1_700_000_000_000);
      if (outcome.kind === 'notify')
        for (const m of outcome.messages) expect(checkPayload(m.payload, { forbidMarkup: true })).toEqual([]);
    }
  });

  it('escapes the mrkdwn-dangerous title captured from the database', async () => {
    const [record] = loadFixture('decimal-precise').records;
    if (record === undefined) throw new Error('fixture missing');
    const outcome = await createPipeline(defaults).process(record);
    if (outcome.kind !== 'notify') throw new Error(outcome.reason);
    const text = outcome.messages[0]?.payload.text ?? '';
    expect(text).toBe(
      '&lt;!channel&gt; &amp; &lt;b&gt;Chair&lt;/b&gt; *SALE* &lt;https://evil.example|click here&gt; &lt;@U123ABC&gt; (#900001): Price changed from €199.99 to €1,234,567.89 (+617214.8%)',
    );
  });

  it('reads schemaless Decimal bytes only when the config gives the scale', async () => {
    const [record] = loadFixture('schemas-disabled').records;
    if (record === undefined) throw new Error('fixture missing');
    const config = parseConfig(
      'fields: { price: { kind: money, column: prc_amt } }\nrules: [{ match: {}, channels: sales-alerts }]\n',
      'x',
    );
    expect(decimalColumnsOf(config)).toEqual({});
    expect(decimalColumnsOf(defaults)).toEqual({ prc_amt: 2 });
    const outcome = await createPipeline(config).process(record);
    if (outcome.kind !== 'notify') throw new Error(outcome.reason);
    expect(summaryOf(outcome.messages[0]?.payload.blocks ?? [])).toBe(
      'Price changed from unreadable amount (Th8=) to unreadable amount (B1vNFQ==)',
    );
  });
});

describe('failures', () => {
  const pipeline = createPipeline(defaults);

  it('dead-letters a record that is not JSON (DECODE_FAILED), never throws', async () => {
    const outcome = await pipeline.process(makeRecord({ value: Buffer.from('{not json') }));
    expect(outcome).toMatchObject({
      kind: 'dead-letter',
      error: { code: 'DECODE_FAILED', disposition: 'dead-letter' },
    });
    expect(outcome.reason).toMatch(/^DECODE_FAILED: /);
  });

  it('finding 1 (issue 9): dead-letters a price of 1e308 under its Decimal(12, 2) schema, naming the path', async () => {
    const payload = makePayload({ after: makeRow({ prc_amt: 1e308 }) });
    const outcome = await pipeline.process(makeRecord({ payload }));
    expect(outcome).toMatchObject({
      kind: 'dead-letter',
      error: { code: 'DECODE_FAILED', details: { path: 'after.prc_amt' } },
    });
    expect(outcome.reason).toBe(
      'DECODE_FAILED: after.prc_amt: expected a Decimal of precision 12, scale 2, got number 1e+308',
    );
  });

  it('dead-letters an envelope no row change can look like (NORMALIZE_FAILED), keeping the source time', async () => {
    const outcome = await pipeline.process(makeRecord({ payload: makePayload({ op: 'x' }) }));
    expect(outcome).toMatchObject({
      kind: 'dead-letter',
      error: { code: 'NORMALIZE_FAILED' },
      sourceTsMs: 1_795_873_507_123,
    });
  });

  it('rethrows what the service must retry (REGISTRY_UNAVAILABLE)', async () => {
    const registry: SchemaRegistryPort = {
      decode: async () => {
        throw new NotifierError('REGISTRY_UNAVAILABLE', 'registry down');
      },
    };
    const framed = Buffer.concat([Buffer.from([0, 0, 0, 0, 1]), Buffer.from('avro bytes')]);
    await expect(
      createPipeline(defaults, { registry }).process(makeRecord({ value: framed })),
    ).rejects.toMatchObject({
      code: 'REGISTRY_UNAVAILABLE',
    });
  });

  it('rethrows stop errors', async () => {
    const registry: SchemaRegistryPort = {
      decode: async () => {
        throw new NotifierError('CONFIG_INVALID', 'bad');
      },
    };
    const framed = Buffer.concat([Buffer.from([0, 0, 0, 0, 1]), Buffer.from('x')]);
    await expect(
      createPipeline(defaults, { registry }).process(makeRecord({ value: framed })),
    ).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
  });

  it('drops control records and tombstones as successes', async () => {
    expect(await pipeline.process(makeRecord({ value: null }))).toEqual({
      kind: 'dropped',
      reason: 'tombstone: delete marker for log compaction',
    });
  });

  it('turns an unexpected failure in a pure stage into RENDER_FAILED (dead-letter)', async () => {
    // A config that skipped validation: Intl rejects the zone while rendering the context line.
    const unchecked = { ...defaults, timeZone: 'Not/AZone' } as Config;
    const outcome = await createPipeline(unchecked).process(makeRecord());
    expect(outcome).toMatchObject({
      kind: 'dead-letter',
      reason: expect.stringMatching(/^RENDER_FAILED: render failed: .*time zone/i),
      error: { code: 'RENDER_FAILED', disposition: 'dead-letter' },
      listingId: '1',
      sourceTsMs: 1_795_873_507_123,
    });
  });
});

describe('createPipeline with deferRender (the record loop renders what it does not fold)', () => {
  it('renders a message on its first read, the same payload as rendering up front', async () => {
    const eager = await createPipeline(defaults).process(makeRecord());
    const deferred = await createPipeline(defaults, { deferRender: true }).process(makeRecord());
    if (eager.kind !== 'notify' || deferred.kind !== 'notify') throw new Error('expected notify outcomes');
    expect(rendered(deferred)).toBe(deferred);
    expect(deferred.messages.map((m) => m.payload)).toEqual(eager.messages.map((m) => m.payload));
  });

  it('a message that cannot be rendered is a dead letter once rendered(), as it is up front', async () => {
    const unchecked = { ...defaults, timeZone: 'Not/AZone' } as Config;
    const eager = await createPipeline(unchecked).process(makeRecord());
    const deferred = await createPipeline(unchecked, { deferRender: true }).process(makeRecord());
    // Not rendered yet: deciding did not fail.
    expect(deferred.kind).toBe('notify');
    const outcome = rendered(deferred);
    expect(outcome).toMatchObject({
      kind: 'dead-letter',
      reason: expect.stringMatching(/^RENDER_FAILED: render failed: .*time zone/i),
      error: { code: 'RENDER_FAILED', disposition: 'dead-letter' },
      listingId: '1',
      sourceTsMs: 1_795_873_507_123,
    });
    expect(outcome.reason).toBe(eager.reason);
  });
});
