/**
 * Runs the Slack stand-in until SIGINT/SIGTERM and prints its address, then one line per accepted
 * message (the demo's terminal view of the notifications).
 *
 *   npm exec -- node tools/slack-standin/main.ts [--port 3999] [--token T] [--channels a,b,c]
 *       [--archived old-announcements] [--per-second 1] [--burst 3] [--signing-secret S] [--quiet]
 *
 * Each flag also reads from the environment: SLACK_STANDIN_PORT, SLACK_STANDIN_TOKEN,
 * SLACK_STANDIN_CHANNELS, SLACK_STANDIN_ARCHIVED, SLACK_STANDIN_PER_SECOND, SLACK_STANDIN_BURST,
 * SLACK_STANDIN_SIGNING_SECRET (what clicks are signed with; give the service the same one).
 */
import { parseArgs } from 'node:util';
import { formatBytes } from './files.ts';
import {
  defaultChannels,
  defaultStandinSigningSecret,
  defaultStandinToken,
  type StandinChannel,
  type StandinMessage,
  startSlackStandin,
} from './server.ts';

/** Slack-like ids for channels named on the command line: C + up to 10 letters/digits of the name. */
export function channelsFromNames(names: string[], archived: string[]): StandinChannel[] {
  const used = new Set<string>();
  return [
    ...names.map((name) => ({ name, archived: false })),
    ...archived.map((name) => ({ name, archived: true })),
  ].map(({ name, archived: isArchived }, i) => {
    let id = `C0${name.toUpperCase().replace(/[^A-Z0-9]/g, '')}`.slice(0, 11).padEnd(11, '0');
    if (used.has(id)) id = `${id.slice(0, 8)}${String(i).padStart(3, '0')}`;
    used.add(id);
    return { id, name, archived: isArchived };
  });
}

const list = (value: string | undefined): string[] | undefined =>
  value === undefined
    ? undefined
    : value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);

/**
 * One terminal line: time, channel, and the fallback text with Slack's entities shown as characters;
 * a thread reply starts with "↳", a file share ends with [file: title, size]. Control characters
 * (terminal escape sequences from listing data) become spaces.
 */
export function formatMessage(m: StandinMessage): string {
  const time = new Date(m.receivedAt).toISOString().slice(11, 23);
  const files = (m.files ?? []).map((f) => ` [file: ${f.title}, ${formatBytes(f.size)}]`).join('');
  const text = `${m.threadTs === undefined ? '' : '↳ '}${m.text}${files}`
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  const printable = text.replace(/[\u0000-\u001f\u007f-\u009f\s]+/g, ' ');
  return `${time}  #${m.channelName.padEnd(20)} ${printable}${m.lost ? '  (LOST: thread_ts names no message)' : ''}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      token: { type: 'string' },
      channels: { type: 'string' },
      archived: { type: 'string' },
      'per-second': { type: 'string' },
      burst: { type: 'string' },
      'signing-secret': { type: 'string' },
      quiet: { type: 'boolean', default: false },
    },
  });
  const env = process.env;
  const names = list(values.channels ?? env.SLACK_STANDIN_CHANNELS);
  const archived = list(values.archived ?? env.SLACK_STANDIN_ARCHIVED) ?? [];
  const standin = await startSlackStandin({
    port: Number(values.port ?? env.SLACK_STANDIN_PORT ?? 3999),
    token: values.token ?? env.SLACK_STANDIN_TOKEN ?? defaultStandinToken,
    signingSecret:
      values['signing-secret'] ?? env.SLACK_STANDIN_SIGNING_SECRET ?? defaultStandinSigningSecret,
    channels: names === undefined ? defaultChannels : channelsFromNames(names, archived),
    pace: {
      perSecond: Number(values['per-second'] ?? env.SLACK_STANDIN_PER_SECOND ?? 1),
      burst: Number(values.burst ?? env.SLACK_STANDIN_BURST ?? 3),
    },
    ...(values.quiet
      ? {}
      : { onMessage: (m: StandinMessage) => process.stdout.write(`${formatMessage(m)}\n`) }),
  });
  process.stdout.write(
    `Slack stand-in: preview ${standin.url}/  slackApiUrl ${standin.apiUrl}  token ${standin.token}\n` +
      `channels: ${standin.channels.map((c) => `#${c.name}${c.archived ? ' (archived)' : ''}`).join(', ')}\n`,
  );
  const stop = (): void => {
    void standin.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    process.stderr.write(`slack stand-in failed to start: ${String(error)}\n`);
    process.exit(1);
  });
}
