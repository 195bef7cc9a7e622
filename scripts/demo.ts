/**
 * The main job, end to end on one machine: `npm run demo`.
 *
 * 1. brings the real stack up (scripts/stack.sh up: PostgreSQL, Kafka, Kafka Connect + Debezium),
 * 2. starts the local Slack stand-in (the one fake: no machine here reaches Slack),
 * 3. starts the service (`start` from src/main.ts, exactly what `listing-notifier run` runs) with the
 *    default rules file config/listing-notifier.yaml, pointed at the stand-in,
 * 4. applies a realistic stream of listing updates in PostgreSQL (price cuts, stock draining,
 *    unpublishing, and noise that must stay silent),
 * 5. prints every notification as the stand-in accepts it, and the preview page's address.
 *
 * Then it keeps running (so the preview page can be looked at) until Ctrl-C; `--exit` stops once the
 * expected notifications arrived (or after --timeout seconds, exit 1).
 *
 *   npm run demo [-- --exit] [-- --timeout 120] [-- --port 3999]
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { applyEnvOverrides } from '../src/app/env.ts';
import { loadConfig } from '../src/config/index.ts';
import { start } from '../src/main.ts';
import { formatMessage } from '../tools/slack-standin/main.ts';
import { startSlackStandin } from '../tools/slack-standin/server.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const say = (line: string): void => {
  process.stdout.write(`[demo] ${line}\n`);
};

const { values } = parseArgs({
  options: {
    exit: { type: 'boolean', default: false },
    timeout: { type: 'string', default: '180' },
    port: { type: 'string', default: '3999' },
    'skip-stack': { type: 'boolean', default: false },
  },
});
const timeoutMs = Number(values.timeout) * 1000;
const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres:postgres@127.0.0.1:5433/monolith';

/** One step of the stream: SQL against the monolith's table, and how many messages it should cause. */
interface Step {
  what: string;
  sql: string;
  params: unknown[];
  /** Messages the default rules produce for this step (0 for noise). */
  expect: number;
}

function stream([phone, lamp, boots]: [string, string, string]): Step[] {
  const update = (what: string, set: string, id: string, params: unknown[], expect: number): Step => ({
    what,
    sql: `UPDATE public.listings SET ${set}, upd_ts = now() WHERE lst_id = $1`,
    params: [id, ...params],
    expect,
  });
  return [
    update('price cut 10% on the phone', 'prc_amt = $2', phone, ['449.10'], 1),
    update('noise: search vector rebuilt', "srch_vec = to_tsvector('english', lst_ttl)", phone, [], 0),
    update('stock drains 12 -> 8 (no alert yet)', 'prod_stk_qty = $2', lamp, [8], 0),
    update('stock drains 8 -> 3 (below 5: warn)', 'prod_stk_qty = $2', lamp, [3], 1),
    update(
      'noise: sync flag flipped by the ETL',
      'sync_flg = NOT sync_flg, etl_batch_id = $2',
      boots,
      [77],
      0,
    ),
    update('tiny price change (-0.5%): dropped', 'prc_amt = $2', boots, ['119.40'], 0),
    update('boots unpublished', '"LST_STAT_CD" = $2', boots, ['U'], 2),
    update('noise: a no-op update', 'prc_amt = prc_amt', lamp, [], 0),
    update('lamp restocked 3 -> 20 (recovered)', 'prod_stk_qty = $2', lamp, [20], 1),
    update('second price cut on the phone', 'prc_amt = $2', phone, ['399.00'], 1),
  ];
}

/**
 * Three new listings per run, so every run starts from known values without deleting anything (a
 * deleted listing is itself a notification). New listings are not routed by the default rules.
 */
async function insertDemoListings(db: pg.Client): Promise<[string, string, string]> {
  const { rows } = await db.query<{ lst_id: string }>(
    `INSERT INTO public.listings ("LST_STAT_CD", lst_ttl, description, prc_amt, crncy_cd, prod_stk_qty)
     VALUES ('A', 'Pixel 9 phone, 128 GB', 'A phone.', 499.00, 'USD', 40),
            ('A', 'Brass desk lamp', 'A lamp.', 59.90, 'EUR', 12),
            ('A', 'Hiking boots <size 42> & laces', 'Boots.', 120.00, 'GBP', 7)
     RETURNING lst_id`,
  );
  const [phone, lamp, boots] = rows.map((row) => String(row.lst_id));
  if (phone === undefined || lamp === undefined || boots === undefined)
    throw new Error('insert returned no ids');
  return [phone, lamp, boots];
}

async function waitFor(condition: () => boolean, deadline: number, what: string): Promise<void> {
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function main(): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  if (!values['skip-stack']) {
    say('bringing the stack up (first run downloads Kafka and Debezium from Maven Central)...');
    const up = spawnSync('bash', [join(root, 'scripts/stack.sh'), 'up'], { stdio: 'inherit' });
    if (up.status !== 0) {
      say('the stack did not come up: see the messages above and `npm run stack -- logs`');
      return 1;
    }
  }

  const standin = await startSlackStandin({
    port: Number(values.port),
    onMessage: (m) => process.stdout.write(`${formatMessage(m)}\n`),
  });
  say(`Slack stand-in at ${standin.url}/ (open it to see the messages as Slack would show them)`);

  const config = applyEnvOverrides(await loadConfig(join(root, 'config/listing-notifier.yaml')), {
    ...process.env,
    SLACK_API_URL: standin.apiUrl,
  });
  // A group of its own per run, starting at the topic's end: the demo shows only its own stream.
  const demoConfig = {
    ...config,
    source: { ...config.source, groupId: `listing-notifier-demo-${Date.now()}` },
  };
  const service = await start({
    config: demoConfig,
    token: standin.token,
    logLevel: process.env.LOG_LEVEL ?? 'warn',
    http: { host: '127.0.0.1', port: 0 },
  });
  say(`service running; health and metrics on ${service.httpUrl}/metrics`);
  await waitFor(() => service.readiness().ready, deadline, 'the consumer to join its group');

  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  let code = 0;
  try {
    const steps = stream(await insertDemoListings(db));
    const expected = steps.reduce((n, s) => n + s.expect, 0);
    const before = standin.messages().length;
    for (const step of steps) {
      say(`SQL: ${step.what}`);
      await db.query(step.sql, step.params);
      await new Promise((resolve) => setTimeout(resolve, 700)); // pacing for the audience, not a wait
    }
    await waitFor(
      () => standin.messages().length - before >= expected,
      deadline,
      `${expected} notifications`,
    );
    const stats = standin.stats();
    say(
      `${standin.messages().length - before} notifications delivered (expected ${expected}); ` +
        `429 answers handled: ${stats.rateLimited.total}`,
    );
  } catch (error) {
    say(String(error));
    code = 1;
  } finally {
    await db.end();
  }

  say(`preview page: ${standin.url}/`);
  if (!values.exit) {
    say('running until Ctrl-C (the stack stays up; `npm run stack -- down` stops it)');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
  }
  await service.stop('demo finished');
  await standin.close();
  return code;
}

process.exitCode = await main();
