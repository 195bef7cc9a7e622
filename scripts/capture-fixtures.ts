/**
 * Captures real Debezium change events from the running stack into test/fixtures/debezium/<case>/:
 * meta.json plus NN.key.json / NN.value.json holding exactly the bytes Kafka carried.
 *
 *   scripts/stack.sh up && npm exec -- node scripts/capture-fixtures.ts
 *   scripts/stack.sh up && npm exec -- node scripts/capture-fixtures.ts --mariadb   (the MariaDB source:
 *     test/fixtures/debezium-mariadb/, see scripts/capture-fixtures-mariadb.ts)
 *
 * Uses listing ids 900001.. (deleted first, so it can be rerun). Variant settings (decimal modes,
 * JSON without schemas, the snapshot) run as extra connectors with their own topic.prefix, slot and
 * publication, which are removed again afterwards (offsets reset, slot and publication dropped).
 * One case sets REPLICA IDENTITY DEFAULT on the shared table for about a second; it is set back to
 * FULL even when the case fails (do not run this while integration tests run on the same stack).
 * Environment: DATABASE_URL, KAFKA_BROKERS, CONNECT_URL (default: the scripts/stack.sh ports).
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import type pg from 'pg';
import type { SourceRecord } from '../src/domain/record.ts';
import {
  CONNECTOR_NAME,
  connectorStatus,
  connectPg,
  endpointsFromEnv,
  keyListingId,
  LISTINGS_TOPIC,
  localStackEndpoints,
  openTopicReader,
  type TopicReader,
  waitForConnectorRunning,
  waitUntil,
} from '../test/support/stack.ts';

const root = new URL('../', import.meta.url);
const fixturesDir = new URL('test/fixtures/debezium/', root);
const stack = endpointsFromEnv() ?? localStackEndpoints('native');
const baseConfig = (
  JSON.parse(await readFile(new URL('debezium/connector.json', root), 'utf8')) as {
    config: Record<string, string>;
  }
).config;

const MAIN = 900001; // inserted, updated case by case, finally deleted
const OTHER = 900002; // snapshot partner, then its primary key changes
const MOVED = 900003; // OTHER's new primary key

/** A listing description well past 8 kB of poorly compressible text, so PostgreSQL TOASTs it. */
const longDescription = (edition: string): string =>
  `Ergonomic office chair, ${edition}. Mesh back, adjustable lumbar support, 4D armrests.\n` +
  Array.from({ length: 220 }, (_, i) => `part ${i}: ${sha(`${edition}:${i}`)}`).join('\n');
const sha = (text: string): string => {
  // Deterministic filler (FNV-1a chain), hex: no repeats for pglz to find.
  let h = 0x811c9dc5;
  let out = '';
  for (let round = 0; round < 4; round++) {
    for (const ch of `${round}${text}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
    out += h.toString(16).padStart(8, '0');
  }
  return out;
};

interface Variant {
  /** Connector name and topic.prefix (`fx_string` -> topic fx_string.public.listings). */
  prefix: string;
  overrides: Record<string, string>;
}

interface CaseMeta {
  case: string;
  description: string;
  settings: {
    connector: { name: string; overrides: Record<string, string> };
    replicaIdentity: 'FULL' | 'DEFAULT';
    converter: { key: string; value: string; keySchemasEnable: boolean; valueSchemasEnable: boolean };
  };
  records: {
    topic: string;
    partition: number;
    offset: string;
    timestamp: string;
    keyFile: string | null;
    valueFile: string | null;
    headers: Record<string, string>;
  }[];
}

const written: string[] = [];

async function writeCase(
  name: string,
  description: string,
  records: SourceRecord[],
  options: { variant?: Variant; replicaIdentity?: 'FULL' | 'DEFAULT' } = {},
): Promise<void> {
  const dir = new URL(`${name}/`, fixturesDir);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const config = { ...baseConfig, ...(options.variant?.overrides ?? {}) };
  const meta: CaseMeta = {
    case: name,
    description,
    settings: {
      connector: {
        name: options.variant ? options.variant.prefix : CONNECTOR_NAME,
        overrides: options.variant?.overrides ?? {},
      },
      replicaIdentity: options.replicaIdentity ?? 'FULL',
      converter: {
        key: config['key.converter'] ?? '',
        value: config['value.converter'] ?? '',
        keySchemasEnable: config['key.converter.schemas.enable'] !== 'false',
        valueSchemasEnable: config['value.converter.schemas.enable'] !== 'false',
      },
    },
    records: [],
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
  console.log(`captured ${name}: ${records.length} record(s)`);
}

const forIds =
  (...ids: number[]) =>
  (record: SourceRecord): boolean =>
    ids.map(String).includes(keyListingId(record) ?? '');
const topicOf = (prefix: string): string => `${prefix}.public.listings`;

// ------------------------------------------------------------------------------ Kafka Connect

async function connect(method: string, path: string, body?: unknown): Promise<Response> {
  const init: RequestInit = { method, headers: { 'content-type': 'application/json' } };
  if (body !== undefined) init.body = JSON.stringify(body);
  return fetch(`${stack.connectUrl}${path}`, init);
}

const variantConfig = (variant: Variant): Record<string, string> => ({
  ...baseConfig,
  'topic.prefix': variant.prefix,
  'slot.name': `${variant.prefix}_slot`,
  'publication.name': `${variant.prefix}_publication`,
  // Only changes made after the connector starts; the snapshot variant overrides this.
  'snapshot.mode': 'no_data',
  ...variant.overrides,
});

async function addVariant(db: pg.Client, variant: Variant): Promise<void> {
  await removeVariant(db, variant.prefix);
  // The debezium role does not own the table, so the publication is made here (as in replication.sql).
  await db.query(`CREATE PUBLICATION ${variant.prefix}_publication FOR TABLE public.listings`);
  const response = await connect('PUT', `/connectors/${variant.prefix}/config`, variantConfig(variant));
  if (!response.ok) {
    throw new Error(`PUT ${variant.prefix}: HTTP ${response.status} ${await response.text()}`);
  }
  await waitForConnectorRunning(stack.connectUrl, variant.prefix);
  // RUNNING comes before the slot exists; changes made before the slot is streamed would be lost.
  await waitUntil(`slot ${variant.prefix}_slot streaming`, async () => {
    const { rows } = await db.query<{ active: boolean }>(
      'SELECT active FROM pg_replication_slots WHERE slot_name = $1',
      [`${variant.prefix}_slot`],
    );
    return rows[0]?.active ? true : undefined;
  });
}

/** Stops the connector, resets its offsets (KIP-875), deletes it, drops its slot and publication. */
async function removeVariant(db: pg.Client, name: string): Promise<void> {
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
  const slot = `${name}_slot`;
  await waitUntil(`slot ${slot} released`, async () => {
    const { rows } = await db.query<{ active: boolean }>(
      'SELECT active FROM pg_replication_slots WHERE slot_name = $1',
      [slot],
    );
    if (rows[0]?.active) return undefined;
    if (rows[0]) await db.query('SELECT pg_drop_replication_slot($1)', [slot]);
    return true;
  });
  await db.query(`DROP PUBLICATION IF EXISTS ${name}_publication`);
}

// -------------------------------------------------------------------------------------- cases

const variants = {
  string: { prefix: 'fx_string', overrides: { 'decimal.handling.mode': 'string' } },
  double: { prefix: 'fx_double', overrides: { 'decimal.handling.mode': 'double' } },
  noSchemas: {
    prefix: 'fx_noschema',
    overrides: { 'key.converter.schemas.enable': 'false', 'value.converter.schemas.enable': 'false' },
  },
  snapshot: {
    prefix: 'fx_snapshot',
    overrides: {
      'snapshot.mode': 'initial',
      'snapshot.select.statement.overrides': 'public.listings',
      'snapshot.select.statement.overrides.public.listings': `SELECT * FROM public.listings WHERE lst_id IN (${MAIN}, ${OTHER}) ORDER BY lst_id`,
    },
  },
} satisfies Record<string, Variant>;

async function main(): Promise<void> {
  const status = await connectorStatus(stack.connectUrl, CONNECTOR_NAME).catch(() => null);
  if (status?.connector.state !== 'RUNNING') {
    throw new Error(`${CONNECTOR_NAME} is not RUNNING at ${stack.connectUrl}: run scripts/stack.sh up first`);
  }
  const db = await connectPg(stack.databaseUrl);
  const allVariants = Object.values(variants);
  let reader: TopicReader | undefined;
  try {
    await db.query('ALTER TABLE public.listings REPLICA IDENTITY FULL');
    for (const variant of allVariants) await removeVariant(db, variant.prefix);
    reader = await openTopicReader({ brokers: stack.kafkaBrokers, topics: [LISTINGS_TOPIC] });
    const r = reader;
    await db.query('DELETE FROM public.listings WHERE lst_id BETWEEN 900000 AND 900999');
    await db.query(
      `INSERT INTO public.listings (lst_id, "LST_STAT_CD", lst_ttl, description, prc_amt, crncy_cd, prod_stk_qty,
         ctgy_cd, upd_ts, audit_usr_id, sync_flg, etl_batch_id)
       VALUES ($1, 'A', '<!channel> & <b>Flash sale</b> Espresso Machine', 'Barista Pro, 15 bar.', 899.00, 'GBP',
         3, 'HOME', '2026-01-05T08:00:00Z', 1007, false, 2026010500)`,
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
      'INSERT of a new active listing (op c); its description is TOASTed (> 8 kB).',
      `INSERT INTO public.listings (lst_id, "LST_STAT_CD", lst_ttl, description, prc_amt, crncy_cd, prod_stk_qty,
         ctgy_cd, upd_ts, audit_usr_id, sync_flg, etl_batch_id, srch_vec)
       VALUES ($1, 'A', 'Ergonomic Office Chair, Mesh Back', $2, 249.00, 'EUR', 12, 'HOME',
         '2026-01-05T09:00:00Z', 1001, false, 2026010501, to_tsvector('english', 'ergonomic office chair'))`,
      [MAIN, longDescription('first edition')],
    );
    await capture(
      'update-price',
      'Price 249.00 -> 199.99 EUR, nothing else (decimal.handling.mode precise: base64 bytes, scale 2).',
      'UPDATE public.listings SET prc_amt = 199.99 WHERE lst_id = $1',
      [MAIN],
    );
    await capture(
      'update-status',
      'Status code LST_STAT_CD A (active) -> S (sold out).',
      `UPDATE public.listings SET "LST_STAT_CD" = 'S' WHERE lst_id = $1`,
      [MAIN],
    );
    await capture(
      'update-stock',
      'Stock prod_stk_qty 12 -> 0.',
      'UPDATE public.listings SET prod_stk_qty = 0 WHERE lst_id = $1',
      [MAIN],
    );
    await capture(
      'update-title',
      'Title changed to mrkdwn-dangerous text (<!channel>, &, <b>, a forged link): renderers must escape it.',
      'UPDATE public.listings SET lst_ttl = $2 WHERE lst_id = $1',
      [MAIN, '<!channel> & <b>Chair</b> *SALE* <https://evil.example|click here> <@U123ABC>'],
    );
    await capture(
      'update-description',
      'Long (> 8 kB, TOASTed) description replaced by another long one; REPLICA IDENTITY FULL sends both.',
      'UPDATE public.listings SET description = $2 WHERE lst_id = $1',
      [MAIN, longDescription('second edition')],
    );
    await capture(
      'update-updated-at-only',
      'Only upd_ts changes (2026-01-05T09:00:00Z -> 2026-01-06T10:30:00.123456Z).',
      `UPDATE public.listings SET upd_ts = '2026-01-06T10:30:00.123456Z' WHERE lst_id = $1`,
      [MAIN],
    );
    await capture(
      'update-no-op',
      'UPDATE that sets every valued column to the value it already has: op u, before equals after.',
      `UPDATE public.listings SET prc_amt = prc_amt, "LST_STAT_CD" = "LST_STAT_CD", prod_stk_qty = prod_stk_qty
       WHERE lst_id = $1`,
      [MAIN],
    );
    await capture(
      'update-internal-only',
      'Only internal columns change (audit_usr_id, sync_flg, etl_batch_id, srch_vec).',
      `UPDATE public.listings SET audit_usr_id = 1002, sync_flg = true, etl_batch_id = 2026010602,
         srch_vec = to_tsvector('english', 'ergonomic office chair mesh') WHERE lst_id = $1`,
      [MAIN],
    );

    // One price UPDATE seen by four connectors that differ in one setting each.
    const variantReaders: [Variant, TopicReader][] = [];
    for (const variant of [variants.string, variants.double, variants.noSchemas]) {
      await addVariant(db, variant);
      variantReaders.push([
        variant,
        await openTopicReader({ brokers: stack.kafkaBrokers, topics: [topicOf(variant.prefix)] }),
      ]);
    }
    await db.query('UPDATE public.listings SET prc_amt = 1234567.89 WHERE lst_id = $1', [MAIN]);
    const priceChange = 'Price 199.99 -> 1234567.89';
    await writeCase(
      'decimal-precise',
      `${priceChange}, decimal.handling.mode precise (default): org.apache.kafka.connect.data.Decimal, base64 unscaled bytes, scale 2.`,
      await r.take(isMain, 1),
    );
    const variantCases: Record<string, [string, string]> = {
      fx_string: ['decimal-string', `${priceChange}, decimal.handling.mode string: "1234567.89".`],
      fx_double: ['decimal-double', `${priceChange}, decimal.handling.mode double: a JSON number.`],
      fx_noschema: [
        'schemas-disabled',
        `${priceChange}, key/value.converter.schemas.enable=false: bare JSON payloads, no schema (price still base64 bytes).`,
      ],
    };
    for (const [variant, variantReader] of variantReaders) {
      const [name, description] = variantCases[variant.prefix] ?? [variant.prefix, ''];
      await writeCase(name, description, await variantReader.take(isMain, 1), { variant });
      await variantReader.close();
      await removeVariant(db, variant.prefix);
    }

    // Snapshot reads (op r) of two listings, by a connector limited to them.
    const snapshotReader = await openTopicReader({
      brokers: stack.kafkaBrokers,
      topics: [topicOf(variants.snapshot.prefix)],
    });
    await addVariant(db, variants.snapshot);
    await writeCase(
      'snapshot-read',
      'Initial snapshot (op r) of two listings: source.snapshot "first" then "last"; the second title is mrkdwn-dangerous.',
      await snapshotReader.take(forIds(MAIN, OTHER), 2),
      { variant: variants.snapshot },
    );
    await snapshotReader.close();
    await removeVariant(db, variants.snapshot.prefix);

    // REPLICA IDENTITY DEFAULT: no before image, unchanged TOASTed description not sent.
    try {
      await db.query('ALTER TABLE public.listings REPLICA IDENTITY DEFAULT');
      await db.query('UPDATE public.listings SET prc_amt = 1099.00 WHERE lst_id = $1', [MAIN]);
      await writeCase(
        'replica-identity-default',
        'Price 1234567.89 -> 1099.00 under REPLICA IDENTITY DEFAULT: before is null and the unchanged TOASTed description arrives as __debezium_unavailable_value.',
        await r.take(isMain, 1),
        { replicaIdentity: 'DEFAULT' },
      );
    } finally {
      await db.query('ALTER TABLE public.listings REPLICA IDENTITY FULL');
    }

    await db.query('UPDATE public.listings SET lst_id = $2 WHERE lst_id = $1', [OTHER, MOVED]);
    await writeCase(
      'primary-key-change',
      `lst_id ${OTHER} -> ${MOVED}: delete (old key, header __debezium.newkey), tombstone, create (new key, header __debezium.oldkey).`,
      await r.take(forIds(OTHER, MOVED), 3),
    );

    await capture(
      'delete',
      'DELETE of a listing: op d with the full before image, then a tombstone (null value) for compaction.',
      'DELETE FROM public.listings WHERE lst_id = $1',
      [MAIN],
      2,
    );
    await db.query('DELETE FROM public.listings WHERE lst_id BETWEEN 900000 AND 900999');
  } finally {
    await reader?.close();
    await db.query('ALTER TABLE public.listings REPLICA IDENTITY FULL').catch(() => {});
    for (const variant of allVariants) await removeVariant(db, variant.prefix).catch(() => {});
    await db.end();
  }
  console.log(`wrote ${written.length} cases into ${fixturesDir.pathname}:\n  ${written.join('\n  ')}`);
}

if (process.argv.includes('--mariadb')) {
  const { captureMariadb } = await import('./capture-fixtures-mariadb.ts');
  await captureMariadb(stack);
} else {
  await main();
}
