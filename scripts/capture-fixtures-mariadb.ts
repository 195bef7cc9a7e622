/**
 * The MariaDB mode of scripts/capture-fixtures.ts: real change events of the stack's MariaDB table
 * `monolith.listings` (debezium/mariadb/), captured into test/fixtures/debezium-mariadb/<case>/ in the
 * same layout as the PostgreSQL fixtures (meta.json plus NN.key.json / NN.value.json: the bytes Kafka
 * carried).
 *
 *   scripts/stack.sh up && npm exec -- node scripts/capture-fixtures.ts --mariadb
 *
 * Uses listing ids 900001.. (deleted first, so it can be rerun). Variant settings (time.precision.mode,
 * decimal.handling.mode, bigint.unsigned.handling.mode, the snapshot) run as extra connectors with their
 * own topic.prefix, server id and schema-history topic, removed again afterwards (offsets reset,
 * history topic deleted). Environment: MARIADB_URL, KAFKA_BROKERS, CONNECT_URL (default: the
 * scripts/stack.sh ports).
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { Kafka, logLevel } from 'kafkajs';
import mysql from 'mysql2/promise';
import type { SourceRecord } from '../src/domain/record.ts';
import {
  connectorStatus,
  keyListingId,
  MARIADB_CONNECTOR_NAME,
  MARIADB_LISTINGS_TOPIC,
  mariadbUrlFromEnv,
  openTopicReader,
  type StackEndpoints,
  type TopicReader,
  waitForConnectorRunning,
  waitUntil,
} from '../test/support/stack.ts';

const root = new URL('../', import.meta.url);
const fixturesDir = new URL('test/fixtures/debezium-mariadb/', root);
const baseConfig = (
  JSON.parse(await readFile(new URL('debezium/mariadb/connector.json', root), 'utf8')) as {
    config: Record<string, string>;
  }
).config;

const MAIN = 900001; // inserted, updated case by case, finally deleted
const OTHER = 900002; // snapshot partner and barrier row, then its primary key changes
const MOVED = 900003; // OTHER's new primary key

interface Variant {
  /** Connector name and topic.prefix (`fxm_string` -> topic fxm_string.monolith.listings). */
  prefix: string;
  serverId: number;
  overrides: Record<string, string>;
}

const topicOf = (prefix: string): string => `${prefix}.monolith.listings`;
const historyTopicOf = (prefix: string): string => `${prefix}.schema-history`;

export async function captureMariadb(stack: StackEndpoints): Promise<void> {
  const written: string[] = [];
  const connect = async (method: string, path: string, body?: unknown): Promise<Response> => {
    const init: RequestInit = { method, headers: { 'content-type': 'application/json' } };
    if (body !== undefined) init.body = JSON.stringify(body);
    return fetch(`${stack.connectUrl}${path}`, init);
  };

  async function writeCase(
    name: string,
    description: string,
    records: SourceRecord[],
    variant?: Variant,
  ): Promise<void> {
    const dir = new URL(`${name}/`, fixturesDir);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const config = { ...baseConfig, ...(variant?.overrides ?? {}) };
    const meta = {
      case: name,
      description,
      settings: {
        connector: {
          name: variant ? variant.prefix : MARIADB_CONNECTOR_NAME,
          class: baseConfig['connector.class'],
          overrides: variant?.overrides ?? {},
        },
        converter: {
          key: config['key.converter'] ?? '',
          value: config['value.converter'] ?? '',
          keySchemasEnable: config['key.converter.schemas.enable'] !== 'false',
          valueSchemasEnable: config['value.converter.schemas.enable'] !== 'false',
        },
      },
      records: [] as unknown[],
    };
    for (const [index, record] of records.entries()) {
      const nn = String(index + 1).padStart(2, '0');
      const keyFile = record.key === null ? null : `${nn}.key.json`;
      const valueFile = record.value === null ? null : `${nn}.value.json`;
      if (keyFile && record.key) await writeFile(new URL(keyFile, dir), record.key);
      if (valueFile && record.value) await writeFile(new URL(valueFile, dir), record.value);
      const headers: Record<string, string> = {};
      for (const [key, value] of Object.entries(record.headers)) {
        if (value !== undefined) headers[key] = Buffer.isBuffer(value) ? value.toString('utf8') : value;
      }
      meta.records.push({
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
        timestamp: record.timestamp,
        keyFile,
        valueFile,
        headers,
      });
    }
    await writeFile(new URL('meta.json', dir), `${JSON.stringify(meta, null, 2)}\n`);
    written.push(`${name} (${records.length} record${records.length === 1 ? '' : 's'})`);
    console.log(`captured mariadb ${name}: ${records.length} record(s)`);
  }

  /** BigInteger.toByteArray() of a positive id (minimal two's complement, big-endian), base64. */
  const unscaledBase64 = (id: number): string => {
    let hex = id.toString(16);
    if (hex.length % 2 === 1) hex = `0${hex}`;
    if (Number.parseInt(hex.slice(0, 2), 16) >= 0x80) hex = `00${hex}`;
    return Buffer.from(hex, 'hex').toString('base64');
  };
  /** Keys carry lst_id as a number, or (bigint.unsigned.handling.mode=precise) as Decimal bytes. */
  const idForms = (id: number): string[] => [String(id), unscaledBase64(id)];
  const forIds =
    (...ids: number[]) =>
    (record: SourceRecord): boolean =>
      ids.flatMap(idForms).includes(keyListingId(record) ?? '');

  const kafka = new Kafka({
    clientId: 'capture-mariadb',
    brokers: stack.kafkaBrokers,
    logLevel: logLevel.NOTHING,
  });

  async function removeVariant(name: string): Promise<void> {
    if (await connectorStatus(stack.connectUrl, name)) {
      await connect('PUT', `/connectors/${name}/stop`);
      await waitUntil(`connector ${name} STOPPED`, async () =>
        (await connectorStatus(stack.connectUrl, name))?.connector.state === 'STOPPED' ? true : undefined,
      );
      const reset = await connect('DELETE', `/connectors/${name}/offsets`);
      if (!reset.ok) throw new Error(`DELETE ${name}/offsets: HTTP ${reset.status} ${await reset.text()}`);
      await connect('DELETE', `/connectors/${name}`);
      await waitUntil(`connector ${name} deleted`, async () =>
        (await connectorStatus(stack.connectUrl, name)) === null ? true : undefined,
      );
    }
    // A history that outlives its offsets would describe a table the next run never saw.
    const admin = kafka.admin();
    await admin.connect();
    try {
      const topics = new Set(await admin.listTopics());
      const stale = [historyTopicOf(name)].filter((t) => topics.has(t));
      if (stale.length > 0) await admin.deleteTopics({ topics: stale });
    } finally {
      await admin.disconnect();
    }
  }

  const db = await mysql.createConnection({ uri: mariadbUrlFromEnv(), timezone: 'Z', dateStrings: true });
  const variants = {
    string: { prefix: 'fxm_string', serverId: 184101, overrides: { 'decimal.handling.mode': 'string' } },
    double: { prefix: 'fxm_double', serverId: 184102, overrides: { 'decimal.handling.mode': 'double' } },
    connectTime: { prefix: 'fxm_connect', serverId: 184103, overrides: { 'time.precision.mode': 'connect' } },
    bigintPrecise: {
      prefix: 'fxm_bigint',
      serverId: 184104,
      overrides: { 'bigint.unsigned.handling.mode': 'precise' },
    },
    sourceTypes: {
      prefix: 'fxm_sourcetype',
      serverId: 184106,
      overrides: { 'column.propagate.source.type': 'monolith\\.listings\\..*' },
    },
    snapshot: {
      prefix: 'fxm_snapshot',
      serverId: 184105,
      overrides: {
        'snapshot.mode': 'initial',
        'snapshot.select.statement.overrides': 'monolith.listings',
        'snapshot.select.statement.overrides.monolith.listings': `SELECT * FROM monolith.listings WHERE lst_id IN (${MAIN}, ${OTHER}) ORDER BY lst_id`,
      },
    },
  } satisfies Record<string, Variant>;
  const allVariants: Variant[] = Object.values(variants);

  /**
   * Starts a variant connector and returns a reader of its topic once it streams: a binlog connector
   * is RUNNING before it has read its start position, so a barrier row is touched until its change
   * arrives on the variant's topic.
   */
  async function addVariant(variant: Variant): Promise<TopicReader> {
    await removeVariant(variant.prefix);
    const reader = await openTopicReader({ brokers: stack.kafkaBrokers, topics: [topicOf(variant.prefix)] });
    const response = await connect('PUT', `/connectors/${variant.prefix}/config`, {
      ...baseConfig,
      'topic.prefix': variant.prefix,
      'database.server.id': String(variant.serverId),
      'schema.history.internal.kafka.topic': historyTopicOf(variant.prefix),
      'snapshot.mode': 'no_data',
      ...variant.overrides,
    });
    if (!response.ok) {
      await reader.close();
      throw new Error(`PUT ${variant.prefix}: HTTP ${response.status} ${await response.text()}`);
    }
    await waitForConnectorRunning(stack.connectUrl, variant.prefix);
    if (variant.overrides['snapshot.mode'] !== 'initial') {
      let touch = 0;
      await waitUntil(
        `${variant.prefix} streaming`,
        async () => {
          touch += 1;
          await db.query('UPDATE listings SET audit_usr_id = ? WHERE lst_id = ?', [5000 + touch, OTHER]);
          return reader
            .take(forIds(OTHER), 1, { timeoutMs: 1500 })
            .then(() => true)
            .catch(() => undefined);
        },
        { timeoutMs: 90_000, intervalMs: 0 },
      );
      reader.drain();
    }
    return reader;
  }

  let reader: TopicReader | undefined;
  try {
    for (const variant of allVariants) await removeVariant(variant.prefix);
    reader = await openTopicReader({ brokers: stack.kafkaBrokers, topics: [MARIADB_LISTINGS_TOPIC] });
    const r = reader;
    await db.query('DELETE FROM listings WHERE lst_id BETWEEN 900000 AND 900999');
    await db.query(
      `INSERT INTO listings (lst_id, lst_stat_cd, lst_ttl, description, prc_amt, crncy_cd, stk_qty, ctgy_cd,
         upd_dt, crt_ts, audit_usr_id, sync_flg, etl_batch_id)
       VALUES (?, 'A', '<!channel> & <b>Flash sale</b> Espresso Machine', 'Barista Pro, 15 bar.', 899.00, 'GBP',
         3, 'HOME', '2026-01-05 08:00:00', '2026-01-05 08:00:00', 1007, 0, 2026010500)`,
      [OTHER],
    );
    // Barrier: once OTHER's insert is here, so are the deletes of a previous run's rows before it.
    await r.waitFor((record) => forIds(OTHER)(record) && record.value !== null);
    r.drain();
    const isMain = forIds(MAIN);
    const capture = async (
      name: string,
      description: string,
      sql: string,
      params: unknown[] = [],
      count = 1,
    ) => {
      await db.query(sql, params);
      await writeCase(name, description, await r.take(isMain, count));
    };

    await capture(
      'insert',
      'INSERT of a new active listing (op c) with every column set: ENUM, DECIMAL(12,2), DATETIME(6), TIMESTAMP, DATE, TIME, YEAR, TINYINT(1), BIGINT UNSIGNED, BIT(10), SET, DOUBLE, VARBINARY, JSON, TEXT.',
      `INSERT INTO listings (lst_id, lst_stat_cd, lst_ttl, description, prc_amt, crncy_cd, stk_qty, ctgy_cd,
         upd_dt, crt_ts, avail_dt, pickup_tm, model_yr, audit_usr_id, sync_flg, etl_batch_id, ship_flags, tags,
         weight_kg, checksum_bin, attrs_json)
       VALUES (?, 'A', 'Ergonomic Office Chair, Mesh Back', ?, 249.00, 'EUR', 12, 'HOME',
         '2026-01-05 09:00:00.250000', '2026-01-05 09:00:00', '2026-02-01', '14:30:15', 2024, 1001, 0,
         18446744073709551615, b'1000000101', 'new,eco', 12.5, UNHEX('00FF10A0'),
         '{"warehouse": "BER", "aisle": 7, "fragile": true, "dims_cm": [60, 60, 110]}')`,
      [MAIN, 'Mesh back, adjustable lumbar support, 4D armrests.\nShips within 2 working days.'],
    );
    await capture(
      'update-price',
      'Price 249.00 -> 199.99 EUR, nothing else (decimal.handling.mode precise: base64 bytes, scale 2).',
      'UPDATE listings SET prc_amt = 199.99 WHERE lst_id = ?',
      [MAIN],
    );
    await capture(
      'update-status',
      "Status lst_stat_cd (ENUM('A','U','D','S'): io.debezium.data.Enum) A (active) -> S (sold out).",
      `UPDATE listings SET lst_stat_cd = 'S' WHERE lst_id = ?`,
      [MAIN],
    );
    await capture(
      'update-stock',
      'Stock stk_qty 12 -> 0.',
      'UPDATE listings SET stk_qty = 0 WHERE lst_id = ?',
      [MAIN],
    );
    await capture(
      'update-title',
      'Title changed to mrkdwn-dangerous text (<!channel>, &, <b>, a forged link): renderers must escape it.',
      'UPDATE listings SET lst_ttl = ? WHERE lst_id = ?',
      ['<!channel> & <b>Chair</b> *SALE* <https://evil.example|click here> <@U123ABC>', MAIN],
    );
    await capture(
      'update-description',
      'TEXT description replaced (a long text: the binlog carries both images whole, FULL row image).',
      'UPDATE listings SET description = ? WHERE lst_id = ?',
      [
        `Ergonomic office chair, second edition.\n${Array.from({ length: 300 }, (_, i) => `part ${i}: mesh, steel, foam`).join('\n')}`,
        MAIN,
      ],
    );
    await capture(
      'update-updated-at-only',
      'Only upd_dt (DATETIME(6): io.debezium.time.MicroTimestamp) changes, 2026-01-05 09:00:00.25 -> 2026-01-06 10:30:00.123456.',
      `UPDATE listings SET upd_dt = '2026-01-06 10:30:00.123456' WHERE lst_id = ?`,
      [MAIN],
    );
    await capture(
      'update-internal-only',
      'Only internal columns change: sync_flg (TINYINT(1)) 0 -> 1, etl_batch_id, ship_flags (BIT(10)), tags (SET), checksum_bin, attrs_json (JSON).',
      `UPDATE listings SET audit_usr_id = 1002, sync_flg = 1, etl_batch_id = 2026010602, ship_flags = b'0000000011',
         tags = 'sale,bundle', checksum_bin = UNHEX('DEADBEEF'), attrs_json = '{"warehouse": "AMS", "aisle": 12}'
       WHERE lst_id = ?`,
      [MAIN],
    );
    await capture(
      'update-temporal-extremes',
      "TIME, DATE, YEAR and TIMESTAMP at MySQL's edges: pickup_tm -838:59:59 (a negative duration), avail_dt 1000-01-01, model_yr 1901, crt_ts 2038-01-19 03:14:07 UTC.",
      `UPDATE listings SET pickup_tm = '-838:59:59', avail_dt = '1000-01-01', model_yr = 1901,
         crt_ts = '2038-01-19 03:14:07' WHERE lst_id = ?`,
      [MAIN],
    );
    await capture(
      'update-time-over-a-day',
      'pickup_tm -838:59:59 -> 838:59:59 (MySQL TIME is a duration up to 838 hours, not a time of day).',
      `UPDATE listings SET pickup_tm = '838:59:59' WHERE lst_id = ?`,
      [MAIN],
    );

    // One UPDATE of price, time and the unsigned bigint seen by connectors that differ in one setting each.
    const variantReaders: [Variant, TopicReader][] = [];
    for (const variant of [
      variants.string,
      variants.double,
      variants.connectTime,
      variants.bigintPrecise,
      variants.sourceTypes,
    ]) {
      variantReaders.push([variant, await addVariant(variant)]);
    }
    await db.query(
      `UPDATE listings SET prc_amt = 1234567.89, upd_dt = '2026-01-07 11:45:30.654321', pickup_tm = '09:15:00',
         etl_batch_id = 18446744073709551614 WHERE lst_id = ?`,
      [MAIN],
    );
    const change =
      'Price 199.99 -> 1234567.89, upd_dt -> 2026-01-07 11:45:30.654321, pickup_tm -> 09:15:00, etl_batch_id 2026010602 -> 18446744073709551614';
    await writeCase(
      'decimal-precise',
      `${change}; default settings (decimal precise: Decimal bytes; adaptive_time_microseconds; unsigned bigint as long, so 2^64-2 wraps to -2).`,
      await r.take(isMain, 1),
    );
    const variantCases: Record<string, [string, string]> = {
      fxm_string: ['decimal-string', `${change}; decimal.handling.mode string: "1234567.89".`],
      fxm_double: ['decimal-double', `${change}; decimal.handling.mode double: a JSON number.`],
      fxm_connect: [
        'time-connect',
        `${change}; time.precision.mode connect: Kafka Connect Timestamp/Time/Date (milliseconds; microseconds lost).`,
      ],
      fxm_bigint: [
        'bigint-precise',
        `${change}; bigint.unsigned.handling.mode precise: BIGINT UNSIGNED as Decimal with scale 0.`,
      ],
      fxm_sourcetype: [
        'source-types',
        `${change}; column.propagate.source.type for every column: each schema names its MySQL type (__debezium.source.column.type), so a wrapped BIGINT UNSIGNED can be read back.`,
      ],
    };
    for (const [variant, variantReader] of variantReaders) {
      const [name, description] = variantCases[variant.prefix] ?? [variant.prefix, ''];
      await writeCase(name, description, await variantReader.take(isMain, 1), variant);
      await variantReader.close();
      await removeVariant(variant.prefix);
    }

    const snapshotReader = await addVariant(variants.snapshot);
    await writeCase(
      'snapshot-read',
      'Initial snapshot (op r) of two listings by a connector limited to them; the second title is mrkdwn-dangerous.',
      await snapshotReader.take(forIds(MAIN, OTHER), 2),
      variants.snapshot,
    );
    await snapshotReader.close();
    await removeVariant(variants.snapshot.prefix);

    r.drain(); // the variants' barrier updates of OTHER
    await db.query('UPDATE listings SET lst_id = ? WHERE lst_id = ?', [MOVED, OTHER]);
    await writeCase(
      'primary-key-change',
      `lst_id ${OTHER} -> ${MOVED}: delete (old key, header __debezium.newkey), tombstone, create (new key, header __debezium.oldkey).`,
      await r.take(forIds(OTHER, MOVED), 3),
    );
    await capture(
      'delete',
      'DELETE of a listing: op d with the full before image, then a tombstone (null value) for compaction.',
      'DELETE FROM listings WHERE lst_id = ?',
      [MAIN],
      2,
    );
    await db.query('DELETE FROM listings WHERE lst_id BETWEEN 900000 AND 900999');
  } finally {
    await reader?.close();
    for (const variant of allVariants) await removeVariant(variant.prefix).catch(() => {});
    await db.end();
  }
  console.log(`wrote ${written.length} cases into ${fixturesDir.pathname}:\n  ${written.join('\n  ')}`);
}
