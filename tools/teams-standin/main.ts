/**
 * Runs the Teams and webhook stand-ins until SIGINT/SIGTERM for the demo, and prints the environment
 * lines a config's `{ type: teams, urlEnv }` / `{ type: webhook, urlEnv, secretEnv }` channels read.
 *
 *   npm exec -- node tools/teams-standin/main.ts [--teams-port 0] [--webhook-port 0] [--per-second 1] [--burst 3]
 *
 * The webhook secret is DEST_STANDIN_SECRET from the environment, or a fresh random one (printed: it
 * is a demo secret). Each accepted card or verified webhook prints one line.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { startWebhookStandin } from '../webhook-standin/server.ts';
import { startTeamsStandin } from './server.ts';

const { values } = parseArgs({
  options: {
    'teams-port': { type: 'string', default: '0' },
    'webhook-port': { type: 'string', default: '0' },
    'per-second': { type: 'string', default: '1' },
    burst: { type: 'string', default: '3' },
  },
});
const pace = { perSecond: Number(values['per-second']), burst: Number(values.burst) };
const secret = process.env.DEST_STANDIN_SECRET ?? `whsec_${randomBytes(32).toString('base64')}`;
const teams = await startTeamsStandin({ pace, port: Number(values['teams-port']) });
const hook = await startWebhookStandin({ secret, pace, port: Number(values['webhook-port']) });
process.stdout.write(
  `TEAMS_WEBHOOK_URL='${teams.url}'\nWEBHOOK_URL='${hook.url}'\nWEBHOOK_SECRET='${secret}'\n`,
);

// Poll the stand-ins' logs for the terminal view (a demo tool: a 500 ms tick is its refresh rate).
let cards = 0;
let hooks = 0;
const tick = setInterval(() => {
  for (const c of teams.cards().slice(cards)) {
    const header = (c.card.body as { text?: string }[] | undefined)?.[0]?.text ?? '';
    process.stdout.write(`teams   card: ${header}\n`);
  }
  for (const r of hook.received().slice(hooks))
    process.stdout.write(`webhook ${r.id}${r.duplicate ? ' (duplicate)' : ''}: ${r.raw.slice(0, 160)}\n`);
  cards = teams.cards().length;
  hooks = hook.received().length;
}, 500);

const stop = async (): Promise<void> => {
  clearInterval(tick);
  await Promise.all([teams.close(), hook.close()]);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
