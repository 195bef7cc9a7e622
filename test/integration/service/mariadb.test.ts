/**
 * The MariaDB source end to end on the real stack: an UPDATE in the stack's MariaDB (ROW binlog, full
 * row images) -> Debezium's MariaDB connector -> Kafka (monolith-mariadb.monolith.listings) -> the
 * service, reading both sources with one rules file (the MariaDB table's own column names mapped by
 * source.columns) -> the Slack stand-in.
 */
import type { Connection } from 'mysql2/promise';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseConfig } from '../../../src/config/index.ts';
import {
  keyListingId,
  MARIADB_COLUMNS,
  MARIADB_CONNECTOR_NAME,
  MARIADB_LISTINGS_TOPIC,
  mariadbUrlFromEnv,
  openTopicReader,
  waitForConnectorRunning,
} from '../../support/stack.ts';
import {
  type InProcessService,
  LISTINGS_TOPIC,
  messagesFor,
  opOf,
  type SlackStandin,
  seedGroupAtEnd,
  startInProcess,
  startSlackStandin,
  testConfig,
  uniqueGroupId,
  waitUntil,
} from './harness.ts';

// Outside the seed (1..1200) and the fixture capture (900001..).
const PRICE = 820_001;
const UNPUBLISH = 820_002;
const STOCK = 820_003;
const NOISE = 820_004;
const SENTINEL = 820_005;
const ids = [PRICE, UNPUBLISH, STOCK, NOISE, SENTINEL];
const HOSTILE_TITLE = '<!channel> Oak desk <https://evil.example|click> & co';

describe('service: a MariaDB UPDATE reaches Slack through Debezium and Kafka', () => {
  const stack = inject('stack');
  let db: Connection | undefined;
  let standin: SlackStandin | undefined;
  let running: InProcessService | undefined;

  beforeAll(async () => {
    await waitForConnectorRunning(stack.connectUrl, MARIADB_CONNECTOR_NAME);
    db = await mysql.createConnection({ uri: mariadbUrlFromEnv() });
    await db.query('DELETE FROM listings WHERE lst_id IN (?)', [ids]);
    const reader = await openTopicReader({ brokers: stack.kafkaBrokers, topics: [MARIADB_LISTINGS_TOPIC] });
    try {
      await db.query(
        `INSERT INTO listings (lst_id, lst_stat_cd, lst_ttl, prc_amt, crncy_cd, stk_qty) VALUES ?`,
        [
          ids.map((id) => [
            id,
            'A',
            id === PRICE ? HOSTILE_TITLE : `MariaDB E2E listing ${id}`,
            '100.00',
            'EUR',
            50,
          ]),
        ],
      );
      // A group seeded at the end after these creates sees only the updates that follow.
      const wanted = new Set(ids.map(String));
      await reader.take((r) => wanted.has(keyListingId(r) ?? '') && opOf(r) === 'c', ids.length, {
        timeoutMs: 60_000,
      });
    } finally {
      await reader.close();
    }
    standin = await startSlackStandin({ pace: { perSecond: 5, burst: 5 } });
    const groupId = uniqueGroupId('mariadb');
    await seedGroupAtEnd(stack, groupId, MARIADB_LISTINGS_TOPIC);
    await seedGroupAtEnd(stack, groupId, LISTINGS_TOPIC);
    // The test rules file (the default rules) reading both sources, as a user would write it.
    const base = testConfig(stack, standin, { groupId, pace: { perSecond: 5, burst: 5 } });
    const config = parseConfig(
      JSON.stringify({
        ...base,
        source: {
          ...base.source,
          topics: [LISTINGS_TOPIC, MARIADB_LISTINGS_TOPIC],
          columns: { [MARIADB_LISTINGS_TOPIC]: MARIADB_COLUMNS },
        },
      }),
      'e2e-mariadb-config.json',
    );
    running = await startInProcess(config, standin);
    const service = running.service;
    await waitUntil('the service to join its group', async () =>
      service.readiness().ready ? true : undefined,
    );
  });

  afterAll(async () => {
    await running?.stop();
    await standin?.close();
    await db?.query('DELETE FROM listings WHERE lst_id IN (?)', [ids]);
    await db?.end();
  });

  it('routes a price cut, an unpublish (ENUM) and low stock from MariaDB, escapes the title, ignores noise', async () => {
    if (!db || !standin) throw new Error('setup failed');
    await db.query('UPDATE listings SET prc_amt = 79.90 WHERE lst_id = ?', [PRICE]);
    await db.query(`UPDATE listings SET lst_stat_cd = 'U' WHERE lst_id = ?`, [UNPUBLISH]);
    await db.query('UPDATE listings SET stk_qty = 2 WHERE lst_id = ?', [STOCK]);
    // Noise: internal columns (TINYINT(1), BIT, SET, JSON) and the DATETIME(6) edit time only.
    await db.query(
      `UPDATE listings SET sync_flg = 1, ship_flags = b'101', tags = 'sale', attrs_json = '{"a": 1}',
         upd_dt = '2026-02-01 10:00:00.123456' WHERE lst_id = ?`,
      [NOISE],
    );
    // The partition is read in order: once the sentinel's message arrived, the noise was decided.
    await db.query('UPDATE listings SET prc_amt = 50.00 WHERE lst_id = ?', [SENTINEL]);

    const s = standin;
    await waitUntil('the sentinel price message', async () =>
      messagesFor(s, SENTINEL).length > 0 ? true : undefined,
    );
    await waitUntil('the unpublish and stock messages', async () =>
      messagesFor(s, UNPUBLISH).length >= 2 && messagesFor(s, STOCK).length >= 1 ? true : undefined,
    );

    const price = messagesFor(s, PRICE);
    expect(price.map((m) => m.channelName)).toEqual(['sales-alerts']);
    expect(price[0]?.text).toContain('€100.00');
    expect(price[0]?.text).toContain('€79.90');
    // mrkdwn (the fallback text and mrkdwn blocks) is where Slack would act on <!channel> or <url|label>;
    // plain_text headers are shown as they are.
    const mrkdwn = [price[0]?.text ?? '', ...mrkdwnTexts(price[0]?.blocks)].join('\n');
    expect(mrkdwn).not.toContain('<!channel>');
    expect(mrkdwn).not.toContain('<https://evil.example');
    expect(price[0]?.text).toContain('&lt;!channel&gt;');

    const unpublished = messagesFor(s, UNPUBLISH);
    expect(unpublished.map((m) => m.channelName).sort()).toEqual(['marketing-updates', 'support-heads-up']);
    expect(unpublished[0]?.text).toMatch(/Active.*Unpublished/);

    const stock = messagesFor(s, STOCK);
    expect(stock.map((m) => m.channelName)).toEqual(['inventory-warnings']);
    expect(stock[0]?.text).toContain('2 left');

    expect(messagesFor(s, NOISE)).toEqual([]);
    expect(messagesFor(s, SENTINEL).map((m) => m.channelName)).toEqual(['sales-alerts']);
  });
});

function mrkdwnTexts(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(mrkdwnTexts);
  if (value === null || typeof value !== 'object') return [];
  const object = value as Record<string, unknown>;
  const own = object.type === 'mrkdwn' && typeof object.text === 'string' ? [object.text] : [];
  return [...own, ...Object.values(object).flatMap(mrkdwnTexts)];
}
