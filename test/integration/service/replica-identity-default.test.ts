/**
 * Issue 18 on the real stack: the listings table at REPLICA IDENTITY DEFAULT (Debezium sends no before
 * image on UPDATE), and the service still says "from X to Y" from its last-values store in Redis.
 *
 * Everything is this test's own: database monolith_default (scripts/stack/replica-identity.sh setup:
 * the monolith's schema and seed at DEFAULT; the shared monolith.public.listings stays FULL), a
 * Debezium connector of its own (debezium/connector.json with its own name, slot, topic prefix and
 * database; deleted, and its slot dropped, at the end), a consumer group and a Redis key prefix.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLogger } from '../../../src/adapters/logger.ts';
import type { Service } from '../../../src/app/service.ts';
import { run as warmCommand } from '../../../src/cli/store-warm.ts';
import type { Config } from '../../../src/config/index.ts';
import type { SourceRecord } from '../../../src/domain/record.ts';
import { start } from '../../../src/main.ts';
import { parseEntry } from '../../../src/pipeline/before-image.ts';
import {
  connectPg,
  keyListingId,
  openTopicReader,
  type TopicReader,
  waitForConnectorRunning,
} from '../../support/stack.ts';
import {
  messagesFor,
  opOf,
  type SlackStandin,
  startSlackStandin,
  testConfig,
  uniqueGroupId,
  waitUntil,
} from './harness.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ROOT = new URL('../../../', import.meta.url).pathname;
const DB = 'monolith_default';
const PRICE = 830_001;
const STOCK = 830_002;
const STATUS = 830_003;
const IDS = [PRICE, STOCK, STATUS];

const run = randomUUID().slice(0, 8);
const connector = `ln-e2e-default-${run}`;
const slot = `ln_default_${run}`;
const prefix = `ln-default-${run}`;
const topic = `${prefix}.public.listings`;
const keyPrefix = `ln-e2e-last-${run}`;

describe('REPLICA IDENTITY DEFAULT: before images from the last-values store (Redis)', () => {
  const stack = inject('stack');
  const connectUrl = stack.connectUrl;
  let db: pg.Client | undefined;
  let redis: Redis | undefined;
  let standin: SlackStandin | undefined;
  let service: Service | undefined;
  let reader: TopicReader | undefined;
  const logLines: string[] = [];

  const config = (): Config => {
    if (standin === undefined) throw new Error('no stand-in');
    const base = testConfig(stack, standin, {
      groupId: uniqueGroupIdOnce,
      pace: { perSecond: 50, burst: 50 },
      topics: [topic],
    });
    return { ...base, store: { ...base.store, url: REDIS_URL, keyPrefix } };
  };
  const uniqueGroupIdOnce = uniqueGroupId('replica-default');

  const startService = async (): Promise<Service> => {
    const logger = createLogger({ level: 'debug', destination: { write: (l: string) => logLines.push(l) } });
    if (standin === undefined) throw new Error('no stand-in');
    return start({
      config: config(),
      token: standin.token,
      logger,
      http: { port: 0 },
      kafka: { fromBeginning: true },
    });
  };

  const stored = async (id: number) => {
    const text = await redis?.get(`${keyPrefix}:last:${id}`);
    return text === null || text === undefined ? undefined : parseEntry(text);
  };

  const sql = (text: string, values: unknown[] = []) => {
    if (db === undefined) throw new Error('no database');
    return db.query(text, values);
  };

  /** The next message for `id` in `channel` after the `seen` it had. */
  const nextMessage = (id: number, channel: string, seen: number) =>
    waitUntil(`message ${seen + 1} for listing ${id} in ${channel}`, async () => {
      const all = standin === undefined ? [] : messagesFor(standin, id, channel);
      return all.length > seen ? all[seen] : undefined;
    });

  beforeAll(async () => {
    execFileSync('bash', [`${ROOT}scripts/stack/replica-identity.sh`, 'setup', DB], { stdio: 'pipe' });
    const url = new URL(stack.databaseUrl);
    url.pathname = `/${DB}`;
    db = await connectPg(url.toString());
    const identity = await sql(`SELECT relreplident FROM pg_class WHERE oid = 'public.listings'::regclass`);
    expect(identity.rows[0]?.relreplident).toBe('d');
    await sql('DELETE FROM public.listings WHERE lst_id = ANY($1::bigint[])', [IDS]);
    await sql(
      `INSERT INTO public.listings (lst_id, "LST_STAT_CD", lst_ttl, prc_amt, crncy_cd, prod_stk_qty) VALUES
        ($1, 'A', 'Oak desk', 120.00, 'EUR', 50), ($2, 'A', 'Mesh chair', 50.00, 'EUR', 8),
        ($3, 'A', 'Lamp', 30.00, 'EUR', 50)`,
      IDS,
    );
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    standin = await startSlackStandin();

    // Our own connector on our own database: the rows above arrive as its snapshot (op r).
    const base = JSON.parse(readFileSync(`${ROOT}debezium/connector.json`, 'utf8')) as {
      config: Record<string, string>;
    };
    const connectorConfig = {
      ...base.config,
      'database.dbname': DB,
      'topic.prefix': prefix,
      'slot.name': slot,
      // Created by replica-identity.sh setup in this database (the table owner must create it).
      'publication.name': 'listings_publication',
    };
    const put = await fetch(`${connectUrl}/connectors/${connector}/config`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(connectorConfig),
    });
    expect(put.ok, await put.text()).toBe(true);
    await waitForConnectorRunning(connectUrl, connector);
    service = await startService();
  }, 240_000);

  afterAll(async () => {
    await service?.stop('test finished');
    await reader?.close();
    await fetch(`${connectUrl}/connectors/${connector}`, { method: 'DELETE' }).catch(() => {});
    if (db !== undefined) {
      // The slot stays active for a moment after the task stopped: drop it once it is let go.
      await waitUntil(
        `slot ${slot} dropped`,
        async () => {
          const r = await sql('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [slot]);
          if (r.rows.length === 0) return true;
          if (r.rows[0]?.active === true) return undefined;
          await sql('SELECT pg_drop_replication_slot($1)', [slot]);
          return true;
        },
        { timeoutMs: 60_000 },
      ).catch((error: unknown) => console.error(error));
      await db.end();
    }
    const admin = new Kafka({ brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${prefix}.`) || t === prefix);
    if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => {});
    await admin.disconnect();
    if (redis !== undefined) {
      const keys = await redis.keys(`${keyPrefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
    await standin?.close();
  }, 120_000);

  it('fills the store from the snapshot without a message, then says "from X to Y" across a restart; a replayed record does not regress it', async () => {
    // Warm: the snapshot's reads are in the store, and nobody was told about them.
    for (const id of IDS) await waitUntil(`snapshot values of ${id} stored`, () => stored(id));
    expect((await stored(PRICE))?.values.prc_amt).toEqual({ type: 'decimal', value: '120' });
    expect((await stored(STOCK))?.values.prod_stk_qty).toBe(8);
    expect(standin?.messages().length).toBe(0);

    // `store warm` reads the same values from the table (read-only) as the snapshot carried.
    const warmPrefix = `${keyPrefix}-warm`;
    const warmed = await warm(warmPrefix);
    expect(warmed.code, warmed.err.join('\n')).toBe(0);
    for (const id of IDS) {
      const text = await redis?.get(`${warmPrefix}:last:${id}`);
      expect(parseEntry(text ?? '')?.values).toEqual((await stored(id))?.values);
      expect(parseEntry(text ?? '')?.position).toBe('0');
    }
    // Into the service's own prefix: what the change stream taught is kept.
    const again = await warm(keyPrefix);
    expect(again.out.join('\n')).toMatch(/already known from changes/);
    expect((await stored(PRICE))?.position).toMatch(/^pg:/);

    reader = await openTopicReader({ brokers: stack.kafkaBrokers, topics: [topic] });

    // Price: the event has no before image; the message still names the old price.
    await sql('UPDATE public.listings SET prc_amt = 96.00 WHERE lst_id = $1', [PRICE]);
    const price = await nextMessage(PRICE, 'sales-alerts', 0);
    expect(price.text).toContain('120.00');
    expect(price.text).toContain('96.00');
    expect(price.text).not.toContain('unknown');
    const update = await reader.waitFor((r) => keyListingId(r) === String(PRICE) && opOf(r) === 'u');
    expect(beforeOf(update)).toBeNull(); // the premise: Debezium sent no before image

    // Stock below the low mark: "low", from the level it came from.
    await sql('UPDATE public.listings SET prod_stk_qty = 3 WHERE lst_id = $1', [STOCK]);
    const low = await nextMessage(STOCK, 'inventory-warnings', 0);
    expect(low.text.toLowerCase()).toContain('low');
    expect(low.text).toMatch(/\b8\b/);
    expect(low.text).toMatch(/\b3\b/);
    expect(low.text).not.toContain('unknown');

    // Status: both states named.
    await sql(`UPDATE public.listings SET "LST_STAT_CD" = 'U' WHERE lst_id = $1`, [STATUS]);
    const status = await nextMessage(STATUS, 'support-heads-up', 0);
    expect(status.text).toContain('Active');
    expect(status.text).toContain('Unpublished');
    expect(status.text).not.toContain('unknown');

    // A restart in between: the new process reads the same store.
    await waitUntil('96 stored', async () => {
      const entry = await stored(PRICE);
      return JSON.stringify(entry?.values.prc_amt) === JSON.stringify({ type: 'decimal', value: '96' })
        ? entry
        : undefined;
    });
    expect(await service?.stop('restart')).toBe(0);
    service = await startService();

    await sql('UPDATE public.listings SET prc_amt = 90.00 WHERE lst_id = $1', [PRICE]);
    const after = await nextMessage(PRICE, 'sales-alerts', 1);
    expect(after.text).toContain('96.00');
    expect(after.text).toContain('90.00');
    expect(after.text).not.toContain('unknown');
    await sql('UPDATE public.listings SET prod_stk_qty = 12 WHERE lst_id = $1', [STOCK]);
    const recovered = await nextMessage(STOCK, 'inventory-warnings', 1);
    expect(recovered.text).toMatch(/\b3\b/);
    expect(recovered.text).toMatch(/\b12\b/);

    // Replay: the first price update (96) written to the topic again, after the 90.
    const at90 = await waitUntil('90 stored', async () => {
      const entry = await stored(PRICE);
      return JSON.stringify(entry?.values.prc_amt) === JSON.stringify({ type: 'decimal', value: '90' })
        ? entry
        : undefined;
    });
    await replay(update);
    // The replayed copy is judged without a before image (its stored values are newer than it) ...
    const replayed = await nextMessage(PRICE, 'sales-alerts', 2);
    expect(replayed.text).toContain('96.00');
    expect(replayed.text).toContain('unknown');
    // ... and once it finished, the store still holds 90 at its position.
    await waitUntil('the replayed record finished', async () =>
      logLines.some((l) => l.includes('"record finished"') && l.includes(`"offset":"${replayedOffset}"`))
        ? true
        : undefined,
    );
    expect(await stored(PRICE)).toEqual(at90);
    await sql('UPDATE public.listings SET prc_amt = 85.00 WHERE lst_id = $1', [PRICE]);
    const last = await nextMessage(PRICE, 'sales-alerts', 3);
    expect(last.text).toContain('90.00');
    expect(last.text).toContain('85.00');
    expect(last.text).not.toContain('unknown');
  }, 300_000);

  async function warm(prefix: string) {
    const dir = mkdtempSync(join(tmpdir(), 'ln-warm-'));
    const file = join(dir, 'rules.json');
    writeFileSync(file, JSON.stringify({ store: { url: REDIS_URL, keyPrefix: prefix } }));
    const url = new URL(stack.databaseUrl);
    url.pathname = `/${DB}`;
    const out: string[] = [];
    const err: string[] = [];
    const code = await warmCommand(
      ['warm', '--config', file, '--batch', '500', '--database-url-env', 'WARM_DATABASE_URL'],
      { stdout: (l) => out.push(l), stderr: (l) => err.push(l) },
      { env: { WARM_DATABASE_URL: url.toString() } },
    ).finally(() => rmSync(dir, { recursive: true, force: true }));
    return { code, out, err };
  }

  let replayedOffset = '';
  async function replay(record: SourceRecord): Promise<void> {
    const producer = new Kafka({ brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    const [meta] = await producer.send({
      topic: record.topic,
      messages: [{ partition: record.partition, key: record.key, value: record.value }],
    });
    replayedOffset = meta?.baseOffset ?? '';
    await producer.disconnect();
  }
});

function beforeOf(record: SourceRecord): unknown {
  const value = JSON.parse(record.value?.toString() ?? 'null') as { payload?: { before?: unknown } } | null;
  return value?.payload?.before;
}
