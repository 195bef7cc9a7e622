/**
 * Issue 17's preview check: the stand-in's preview page showing an edit in place, the message menus,
 * a mute clicked from a message (its confirmation in the thread) and an ephemeral "Why did I get
 * this?" answer, as Slack would, checked in headless Chromium (its DOM) and saved as a screenshot.
 *
 * Needs the native stack up (npm run stack -- up) and Chromium (`apt-get install chromium`). Not part
 * of `npm test` (a fresh machine has no Chromium): run it by hand,
 *
 *   npm exec -- node scripts/preview-shot.ts [--out /tmp/preview.png]
 *
 * The service runs in process with the default rules, update in place on #inventory-warnings and a
 * signing secret (the stand-in's). Listing ids 827001-827002 belong to this script. Exits 1 when the
 * page lacks any of what it should show.
 */
import { execFile, spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import type { Config } from '../src/config/index.ts';
import {
  deleteListings,
  insertListings,
  messagesFor,
  seedGroupAtEnd,
  startInProcess,
  startSlackStandin,
  testConfig,
  uniqueGroupId,
  waitUntil,
} from '../test/integration/service/harness.ts';
import { connectPg, endpointsFromEnv, localStackEndpoints } from '../test/support/stack.ts';
import { defaultStandinSigningSecret } from '../tools/slack-standin/options.ts';

const { values } = parseArgs({ options: { out: { type: 'string', default: '/tmp/preview.png' } } });
const STOCKED = 827_001;
const PRICED = 827_002;
const SECRET_ENV = 'LN_PREVIEW_SIGNING_SECRET';
const say = (line: string) => process.stdout.write(`[preview] ${line}\n`);

const chromium = ['chromium', 'chromium-browser'].find((c) => spawnSync(c, ['--version']).status === 0);
if (chromium === undefined) {
  say('Chromium is not installed: apt-get install chromium');
  process.exit(2);
}

const stack = endpointsFromEnv() ?? localStackEndpoints('native');
process.env[SECRET_ENV] = defaultStandinSigningSecret;
const db = await connectPg(stack.databaseUrl);
const standin = await startSlackStandin({ pace: { perSecond: 5, burst: 5 } });
const ids = [STOCKED, PRICED];
await deleteListings(db, ids);
await insertListings(
  db,
  stack,
  ids.map((id) => ({ id, price: '100.00', status: 'A' as const, stock: 50 })),
);
const groupId = uniqueGroupId('preview');
await seedGroupAtEnd(stack, groupId);
const base = testConfig(stack, standin, { groupId, pace: { perSecond: 5, burst: 5 } });
const config: Config = {
  ...base,
  slack: { ...base.slack, signingSecretEnv: SECRET_ENV },
  delivery: { ...base.delivery, updates: { ...base.delivery.updates, channels: ['inventory-warnings'] } },
};
const running = await startInProcess(config, standin);
let failed = false;
try {
  await waitUntil('the service to join', async () => (running.service.readiness().ready ? true : undefined));
  const set = (column: string, id: number, value: unknown) =>
    db.query(`UPDATE public.listings SET ${column} = $2 WHERE lst_id = $1`, [id, value]);

  await set('prod_stk_qty', STOCKED, 3);
  const low = await waitUntil('the stock low message', async () =>
    messagesFor(standin, STOCKED, 'inventory-warnings').at(0),
  );
  await set('prod_stk_qty', STOCKED, 20);
  await waitUntil('the edit', async () =>
    messagesFor(standin, STOCKED, 'inventory-warnings').at(0)?.history !== undefined ? true : undefined,
  );
  await set('prc_amt', PRICED, '89.00');
  const priced = await waitUntil('the price message', async () =>
    messagesFor(standin, PRICED, 'sales-alerts').at(0),
  );
  const url = `${running.service.httpUrl}/slack/interactivity`;
  const user = { id: 'U0ANA', name: 'ana' };
  await standin.click({
    url,
    channel: priced.channel,
    ts: priced.ts,
    actionId: 'listing_menu',
    value: JSON.stringify(['m', '24h', 'sales-alerts', String(PRICED)]),
    user,
  });
  await waitUntil('the mute confirmed in the thread', async () =>
    standin.messages().some((m) => m.threadTs === priced.ts && m.text.includes('muted')) ? true : undefined,
  );
  await standin.click({
    url,
    channel: low.channel,
    ts: low.ts,
    actionId: 'listing_menu',
    value: JSON.stringify(['w', 'inventory-warnings', String(STOCKED), 'stock low or recovered']),
    user,
  });
  await waitUntil('the ephemeral answer', async () => (standin.responses().length > 0 ? true : undefined));

  const page = `${standin.url}/`;
  const common = ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars'];
  // Asynchronously: the stand-in serving the page runs in this process.
  const run = (args: string[]) =>
    new Promise<{ ok: boolean; out: string; err: string }>((resolve) => {
      execFile(chromium, [...common, ...args], { timeout: 60_000, maxBuffer: 64 << 20 }, (e, out, err) =>
        resolve({ ok: e === null, out: String(out), err: String(err) }),
      );
    });
  const dom = await run(['--dump-dom', page]);
  const shot = await run(['--window-size=1700,1100', `--screenshot=${values.out}`, page]);
  const html = dom.out;
  if (html === '') say(`Chromium printed no page: ${dom.err.slice(-500)}`);
  const checks: Array<[string, boolean]> = [
    ['an edited message marked "(edited)"', html.includes('(edited)')],
    ['what it said before struck through', /<s>Stock is low[^<]*<\/s>/.test(html)],
    ['the overflow menu', html.includes('class="overflow"') && html.includes('Mute this listing')],
    ['"Why did I get this?" in the menu', html.includes('Why did I get this?')],
    ['the mute confirmed in the thread', /@ana muted/.test(html)],
    ['the ephemeral answer, only to its clicker', html.includes('Only visible to')],
  ];
  for (const [what, ok] of checks) say(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  failed = checks.some(([, ok]) => !ok) || !shot.ok;
  say(shot.ok ? `screenshot: ${values.out}` : `screenshot failed: ${shot.err.slice(-500)}`);
} finally {
  await running.stop();
  await deleteListings(db, ids);
  await db.end();
  await standin.close();
}
process.exit(failed ? 1 : 0);
