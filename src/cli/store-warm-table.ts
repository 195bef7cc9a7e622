/**
 * `store warm --table`: the watched columns' current values read from the table over a read-only
 * connection (one REPEATABLE READ, READ ONLY transaction, paged by primary key). Warm values carry
 * position "0" (pipeline/before-image.ts WARM_POSITION): older than any change, so they never replace
 * what the service learned from the change stream and every change replaces them.
 */
import type pg from 'pg';
import type { RedisStore } from '../adapters/redis-store.ts';
import type { Config } from '../config/index.ts';
import type { ColumnValue, Row } from '../domain/change.ts';
import { WARM_POSITION, watchedColumns } from '../pipeline/before-image.ts';
import { canonicalDecimal } from '../pipeline/decode/decimal.ts';
import type { TableArgs, WarmContext } from './store-warm-args.ts';

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

export async function warmFromTable(args: TableArgs, context: WarmContext): Promise<number> {
  const { config, env, io, clock } = context;
  const url = env[args.urlEnv];
  if (url === undefined || url === '') {
    io.stderr(`${args.urlEnv}: not set (the database URL, preferably of a read-only role)`);
    return 2;
  }
  const [schema, table] = args.table.split('.') as [string, string];
  const kinds = columnKinds(config);
  const { default: pg } = await import('pg');
  const db = new pg.Client({ connectionString: url, application_name: 'listing-notifier store warm' });
  let store: RedisStore | undefined;
  const t0 = clock.now();
  try {
    store = await context.openStore();
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
      const lastValues = store.lastValues;
      const results = await Promise.all(
        entries.map(([id, values]) => lastValues.put(id, { position: WARM_POSITION, values })),
      );
      const before = read;
      read += page.rows.length;
      kept += results.filter(Boolean).length;
      if (args.progress > 0 && Math.floor(read / args.progress) > Math.floor(before / args.progress))
        io.stderr(`store warm: ${read} row(s) read, ${kept} stored`);
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
    await store?.close();
  }
}

// Every value as node-postgres's text: numeric stays exact, warmValue converts by the field's kind.
const textTypes = { getTypeParser: () => (text: string) => text };
