/**
 * One rules file for both sources: the default config/listing-notifier.yaml, plus the MariaDB topic and
 * its column map (source.columns), over every captured MariaDB fixture (test/fixtures/debezium-mariadb)
 * and, unchanged, the PostgreSQL ones. A sales or support person gets the same messages from either.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { parseConfig } from '../../../src/config/index.ts';
import type { Outcome } from '../../../src/domain/outcome.ts';
import { checkPayload } from '../../../src/pipeline/block-limits.ts';
import { createPipeline } from '../../../src/pipeline/index.ts';
import { fixtureCases, loadFixture, MARIADB_FIXTURES_DIR } from '../../support/records.ts';
import { MARIADB_COLUMNS, MARIADB_LISTINGS_TOPIC } from '../../support/stack.ts';

const rulesFile = parse(
  readFileSync(new URL('../../../config/listing-notifier.yaml', import.meta.url), 'utf8'),
);
rulesFile.source.topics = ['monolith.public.listings', MARIADB_LISTINGS_TOPIC];
rulesFile.source.columns = { [MARIADB_LISTINGS_TOPIC]: MARIADB_COLUMNS };
const config = parseConfig(stringify(rulesFile), 'listing-notifier.yaml + MariaDB');
const pipeline = createPipeline(config);

type Expected = [kind: Outcome['kind'], reason: string, messages: [channel: string, summary: string][]];
const TOMBSTONE: Expected = ['dropped', 'tombstone: delete marker for log compaction', []];
const PRICE_UP: Expected = [
  'notify',
  'notify: price increased -> sales-alerts',
  [['#sales-alerts', 'Price changed from €199.99 to €1,234,567.89 (+617214.8%)']],
];
const KEY_CHANGE = (role: string, other: string): Expected => [
  'dropped',
  `key-change: primary key change (${role}, other key ${other}); not a listing change`,
  [],
];

const expectations: Record<string, Expected[]> = {
  insert: [['dropped', 'unmatched: no rule matched listing created', []]],
  'update-price': [
    [
      'notify',
      'notify: price decreased -> sales-alerts',
      [['#sales-alerts', 'Price changed from €249.00 to €199.99 (-19.7%)']],
    ],
  ],
  'update-status': [
    [
      'notify',
      'notify: status changed -> inventory-warnings',
      [['#inventory-warnings', 'Status changed from Active to Sold out']],
    ],
  ],
  'update-stock': [
    [
      'notify',
      'notify: stock low -> inventory-warnings',
      [['#inventory-warnings', 'Stock ran out: 0 left (was 12)']],
    ],
  ],
  'update-title': [['dropped', 'insignificant: only unwatched columns changed (lst_ttl)', []]],
  'update-description': [['dropped', 'unmatched: no rule matched description changed', []]],
  'update-updated-at-only': [['dropped', 'insignificant: only unwatched columns changed (upd_ts)', []]],
  'update-internal-only': [
    [
      'dropped',
      'insignificant: only unwatched columns changed (audit_usr_id, sync_flg, etl_batch_id, ship_flags, tags, checksum_bin, attrs_json)',
      [],
    ],
  ],
  'update-temporal-extremes': [
    ['dropped', 'insignificant: only unwatched columns changed (crt_ts, avail_dt, pickup_tm, model_yr)', []],
  ],
  'update-time-over-a-day': [['dropped', 'insignificant: only unwatched columns changed (pickup_tm)', []]],
  'decimal-precise': [PRICE_UP],
  'decimal-string': [PRICE_UP],
  'decimal-double': [PRICE_UP],
  'time-connect': [PRICE_UP],
  'bigint-precise': [PRICE_UP],
  'source-types': [PRICE_UP],
  'snapshot-read': [
    ['dropped', 'snapshot: initial read of an existing row, not a change', []],
    ['dropped', 'snapshot: initial read of an existing row, not a change', []],
  ],
  'primary-key-change': [
    KEY_CHANGE('old-key-deleted', '900003'),
    TOMBSTONE,
    KEY_CHANGE('new-key-created', '900002'),
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
};

const summaryOf = (blocks: readonly unknown[]): string =>
  ((blocks[1] as { text?: { text?: string } } | undefined)?.text?.text ?? '') as string;

describe('every captured MariaDB fixture through the whole pipeline, with the one rules file', () => {
  it('has an expectation for every captured case', () => {
    expect(fixtureCases(MARIADB_FIXTURES_DIR)).toEqual(Object.keys(expectations).sort());
  });

  describe.each(Object.entries(expectations))('%s', (name, expected) => {
    it('gives the outcome a sales or support person expects', async () => {
      const { records } = loadFixture(name, MARIADB_FIXTURES_DIR);
      const outcomes = await Promise.all(records.map((r) => pipeline.process(r)));
      const got = outcomes.map(
        (o): Expected => [
          o.kind,
          o.reason,
          o.kind === 'notify' ? o.messages.map((m) => [m.channel, summaryOf(m.payload.blocks)]) : [],
        ],
      );
      expect(got).toEqual(expected);
      for (const o of outcomes) {
        if (o.kind === 'notify')
          for (const m of o.messages) expect(checkPayload(m.payload, { forbidMarkup: true })).toEqual([]);
      }
    });
  });

  it('names the listing by its mrkdwn-dangerous title, escaped, on a status change after the title edit', async () => {
    const [record] = loadFixture('update-temporal-extremes', MARIADB_FIXTURES_DIR).records;
    if (!record?.value) throw new Error('fixture missing');
    // The same row, with the status moved from S to U (unpublished) in the after image.
    const value = JSON.parse(record.value.toString());
    value.payload.after.lst_stat_cd = 'U';
    const outcome = await pipeline.process({ ...record, value: Buffer.from(JSON.stringify(value)) });
    if (outcome.kind !== 'notify') throw new Error(outcome.reason);
    expect(outcome.messages.map((m) => m.channel)).toEqual(['#support-heads-up', '#marketing-updates']);
    const text = outcome.messages[0]?.payload.text ?? '';
    expect(text).not.toMatch(/<!channel>|<https:|<@U|<b>/);
    expect(text).toContain('&lt;!channel&gt; &amp; &lt;b&gt;Chair&lt;/b&gt;');
  });

  it('issue 19, finding 5: a title starting with U+0000 stays a title, and the price change is delivered', async () => {
    const [record] = loadFixture('update-price', MARIADB_FIXTURES_DIR).records;
    if (!record?.value) throw new Error('fixture missing');
    // Any seller can start their title with NUL (MariaDB text holds it; JsonConverter writes \u0000).
    // The record's long numbers (ts_ns) make the decoder mark them: the title must not look marked.
    const text = record.value.toString();
    const title = /"lst_ttl":"([^"]*)"/.exec(text)?.[1];
    if (title === undefined) throw new Error('fixture has no lst_ttl');
    const value = Buffer.from(text.replaceAll(`"lst_ttl":"${title}"`, `"lst_ttl":"\\u0000${title}"`));
    expect(value.toString()).toContain('\\u0000');
    const outcome = await pipeline.process({ ...record, value });
    if (outcome.kind !== 'notify') throw new Error(outcome.reason);
    expect(summaryOf(outcome.messages[0]?.payload.blocks ?? [])).toBe(
      'Price changed from €249.00 to €199.99 (-19.7%)',
    );
    expect(outcome.event?.after?.lst_ttl).toBe(`\u0000${title}`);
  });

  it('without the column map, the MariaDB names are not the rules’ names: status and stock changes go unnoticed', async () => {
    const unmapped = createPipeline(parseConfig('', 'defaults'));
    for (const name of ['update-status', 'update-stock']) {
      const [record] = loadFixture(name, MARIADB_FIXTURES_DIR).records;
      if (!record) throw new Error(name);
      expect((await unmapped.process(record)).reason).toMatch(
        /^insignificant: only unwatched columns changed/,
      );
    }
  });
});
