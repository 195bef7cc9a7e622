/**
 * `listing-notifier store warm --config FILE [--table public.listings] [--database-url-env VAR]
 * [--batch N]`: fills the last-values store (store.url, Redis) with the current values of the watched
 * columns, read from the table over a read-only connection, so that the first change after a deploy
 * on a table at REPLICA IDENTITY DEFAULT already reads "from X to Y" (issue 18).
 *
 * The other way to warm it is the connector's own snapshot: the service stores snapshot reads (op r)
 * without notifying. Warm values carry position "0" (pipeline/before-image.ts WARM_POSITION): older
 * than any change, so they never replace what the service learned from the change stream and every
 * change replaces them. One REPEATABLE READ, READ ONLY transaction, paged by primary key.
 *
 * Exit codes: 0 done; 2 usage or configuration (no store.url, no such table, no single-column primary
 * key, the URL variable unset); 1 database or store failure.
 */
import { parseArgs } from 'node:util';
import type pg from 'pg';
import type { Config } from '../config/index.ts';
import type { ColumnValue, Row } from '../domain/change.ts';
import { WARM_POSITION, watchedColumns } from '../pipeline/before-image.ts';
import { canonicalDecimal } from '../pipeline/decode/decimal.ts';
import { noopLogger } from '../ports/index.ts';
import { startCommand } from './command-context.ts';
import type { CliIo } from './index.ts';

const usage =
  'usage: listing-notifier store warm --config FILE [--table SCHEMA.TABLE] [--database-url-env VAR] [--batch N]';

export const help = `${usage}

Fills the last-values store (store.url) with the watched columns' current values (the rules' fields:
each column and a money field's currency column), read from the table over a read-only connection,
so the first change after a deploy reads "from X to Y" even at REPLICA IDENTITY DEFAULT. Values from
the change stream are never replaced: warm values count as older than any change.

Options:
  -c, --config FILE          the rules file (required): fields, store.url, store.keyPrefix
      --table T              the table (default public.listings); its primary key names the listing
      --database-url-env V   the environment variable holding the database URL (default DATABASE_URL);
                             give it a read-only role (SELECT on the table is enough)
      --batch N              rows per page (default 1000)
  -h, --help                 this text

Exit codes:
  0  done
  2  usage or configuration error (no store.url, unknown table, no single-column primary key)
  1  database or store failure`;

interface WarmArgs {
  config: string;
  table: string;
  urlEnv: string;
  batch: number;
}

export function parseWarmArgs(argv: string[]): WarmArgs | { error: string } {
  const [sub, ...rest] = argv;
  if (sub !== 'warm') return { error: `expected the subcommand "warm", got ${JSON.stringify(sub ?? '')}` };
  let values: { config?: string; table?: string; 'database-url-env'?: string; batch?: string };
  try {
    ({ values } = parseArgs({
      args: rest,
      strict: true,
      allowPositionals: false,
      options: {
        config: { type: 'string', short: 'c' },
        table: { type: 'string' },
        'database-url-env': { type: 'string' },
        batch: { type: 'string' },
      },
    }));
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
  if (values.config === undefined || values.config === '') return { error: '--config: missing FILE' };
  const table = values.table ?? 'public.listings';
  if (!/^[A-Za-z_][\w$]*\.[A-Za-z_][\w$]*$/.test(table))
    return { error: `--table: expected SCHEMA.TABLE, got ${JSON.stringify(table)}` };
  const batch = Number(values.batch ?? '1000');
  if (!Number.isInteger(batch) || batch < 1 || batch > 100_000)
    return { error: `--batch: expected an integer 1..100000, got ${JSON.stringify(values.batch)}` };
  return { config: values.config, table, urlEnv: values['database-url-env'] ?? 'DATABASE_URL', batch };
}

/**
 * A column's value from node-postgres as the decoded change events carry it (domain ColumnValue), so
 * that the diff compares like with like: money as a canonical decimal, quantities as numbers, codes
 * and text as strings. undefined for what events would carry differently (timestamps): left unknown.
 */
export function warmValue(kind: string, value: unknown): ColumnValue | undefined {
  if (value === null) return null;
  switch (kind) {
    case 'money': {
      const text = canonicalDecimal(String(value));
      return text === undefined ? undefined : { type: 'decimal', value: text };
    }
    case 'quantity': {
      const n = typeof value === 'number' ? value : Number(value);
      return Number.isSafeInteger(n) ? n : undefined;
    }
    case 'code':
    case 'text':
    case 'currency':
      return typeof value === 'string' ? value : undefined;
    default:
      return undefined;
  }
}

/** Column -> the kind its value converts by (a money field's currency column: 'currency'). */
function columnKinds(config: Config): Map<string, string> {
  const kinds = new Map<string, string>();
  for (const field of Object.values(config.fields)) {
    kinds.set(field.column, field.kind);
    if (field.kind === 'money' && field.currencyColumn !== null) kinds.set(field.currencyColumn, 'currency');
  }
  return kinds;
}

export async function run(
  argv: string[],
  io: CliIo,
  deps: { env?: NodeJS.ProcessEnv } = {},
): Promise<number> {
  const started = await startCommand(argv, io, deps, usage, parseWarmArgs);
  if ('exit' in started) return started.exit;
  const { args, config, env, clock } = started;
  if (config.store.url === null) {
    io.stderr(
      'store.url: null; store warm fills a shared store (Redis). Without one the service keeps the values in its own process and its snapshot reads fill them.',
    );
    return 2;
  }
  const url = env[args.urlEnv];
  if (url === undefined || url === '') {
    io.stderr(`${args.urlEnv}: not set (the database URL, preferably of a read-only role)`);
    return 2;
  }
  const [schema, table] = args.table.split('.') as [string, string];
  const kinds = columnKinds(config);
  const { default: pg } = await import('pg');
  const { createRedisStore } = await import('../adapters/redis-store.ts');
  const db = new pg.Client({ connectionString: url, application_name: 'listing-notifier store warm' });
  const store = createRedisStore({
    url: config.store.url,
    keyPrefix: config.store.keyPrefix,
    ledgerRetentionMs: config.store.ledger.retentionMs,
    lastValuesTtlMs: config.store.lastValues.ttlMs,
    commandTimeoutMs: 5000,
    logger: noopLogger,
  });
  const t0 = clock.now();
  try {
    await db.connect();
    await db.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const columns = await db.query<{ name: string; pk: boolean; type: string }>(
      `SELECT a.attname AS name, coalesce(a.attnum = ANY(i.indkey), false) AS pk,
              format_type(a.atttypid, a.atttypmod) AS type
         FROM pg_attribute a
         LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary
        WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped`,
      [`${db.escapeIdentifier(schema)}.${db.escapeIdentifier(table)}`],
    );
    if (columns.rows.length === 0) {
      io.stderr(`--table: no table ${args.table} (or no SELECT on it)`);
      return 2;
    }
    const keys = columns.rows.filter((c) => c.pk).map((c) => c.name);
    if (keys.length !== 1) {
      io.stderr(
        `--table: ${args.table} needs a single-column primary key (the listing id), has ${keys.length}`,
      );
      return 2;
    }
    const key = keys[0] as string;
    const keyType = columns.rows.find((c) => c.name === key)?.type ?? 'text';
    const present = new Set(columns.rows.map((c) => c.name));
    const watched = watchedColumns(config).filter((c) => present.has(c) && kinds.has(c));
    const missing = watchedColumns(config).filter((c) => !present.has(c));
    if (missing.length > 0)
      io.stderr(`note: ${args.table} has no column ${missing.join(', ')}; left unknown`);
    const q = (name: string) => db.escapeIdentifier(name);
    const select = `SELECT ${[key, ...watched].map(q).join(', ')} FROM ${q(schema)}.${q(table)}
      WHERE $1::text IS NULL OR ${q(key)} > $1::text::${keyType} ORDER BY ${q(key)} LIMIT ${args.batch}`;
    let after: string | null = null;
    let read = 0;
    let kept = 0;
    for (;;) {
      const page: pg.QueryResult<Record<string, unknown>> = await db.query<Record<string, unknown>>({
        text: select,
        values: [after],
        types: textTypes,
      });
      const entries = page.rows.map((row: Record<string, unknown>): [string, Row] => {
        const values: Row = {};
        for (const column of watched) {
          const v = warmValue(kinds.get(column) ?? '', row[column]);
          if (v !== undefined) values[column] = v;
        }
        return [String(row[key]), values];
      });
      const results = await Promise.all(
        entries.map(([id, values]) => store.lastValues.put(id, { position: WARM_POSITION, values })),
      );
      read += page.rows.length;
      kept += results.filter(Boolean).length;
      if (page.rows.length < args.batch) break;
      after = String(page.rows[page.rows.length - 1]?.[key]);
    }
    await db.query('COMMIT');
    io.stdout(
      `warmed ${kept} listing(s) from ${args.table} (${read} read, ${read - kept} already known from changes) in ${((clock.now() - t0) / 1000).toFixed(1)} s`,
    );
    return 0;
  } catch (error) {
    io.stderr(`listing-notifier store warm: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    await db.end().catch(() => undefined);
    await store.close();
  }
}

// Every value as node-postgres's text: numeric stays exact, warmValue converts by the field's kind.
const textTypes = { getTypeParser: () => (text: string) => text };
