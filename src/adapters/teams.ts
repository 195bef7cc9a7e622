/**
 * A Microsoft Teams channel through a Workflows webhook: one POST of the Adaptive Card envelope
 * (teams-card.ts) to the flow's URL, which answers 202 Accepted. The URL is a secret (its query carries
 * the flow's signature): read from the environment by the caller, never logged. Teams has no threads
 * for webhook posts and no message id: a reply is posted as a message of its own, and `ts` is a
 * local id. Answers map to SLACK_* codes as webhook-http.ts says.
 */
import { randomUUID } from 'node:crypto';
import type { SlackPayload } from '../domain/message.ts';
import type { ChatFile } from '../ports/index.ts';
import { cut, envelope, escapeCardMarkdown, teamsMessage } from './teams-card.ts';
import { type HttpPostOptions, postJson } from './webhook-http.ts';

export interface TeamsTarget {
  url: string;
}

export async function postToTeams(
  target: TeamsTarget,
  payload: SlackPayload,
  opts: HttpPostOptions & { nowMs: () => number },
): Promise<{ ts: string }> {
  await postJson('Teams', target.url, JSON.stringify(teamsMessage(payload)), {}, opts);
  return { ts: `teams-${randomUUID()}` };
}

/**
 * Teams webhooks take no files: a digest's CSV arrives as a card of its own holding the rows as text
 * (no link to follow), cut to fit the size limit with the number of rows left out.
 */
export async function uploadToTeams(
  target: TeamsTarget,
  file: ChatFile,
  opts: HttpPostOptions & { nowMs: () => number },
): Promise<{ fileId: string }> {
  const rows = file.content
    .toString('utf8')
    .split(/\r?\n/)
    .filter((r) => r !== '');
  const lines: string[] = [];
  let size = 0;
  for (const row of rows) {
    const line = escapeCardMarkdown(cut(row, 500));
    if (size + line.length > 20_000) break;
    lines.push(line);
    size += line.length + 2;
  }
  const left = rows.length - lines.length;
  const body = [
    { type: 'TextBlock', text: escapeCardMarkdown(cut(file.title, 150)), weight: 'Bolder', wrap: true },
    ...lines.map((l) => ({ type: 'TextBlock', text: l, wrap: true, spacing: 'None', fontType: 'Monospace' })),
    ...(left > 0 ? [{ type: 'TextBlock', text: `… ${left} more rows`, isSubtle: true, wrap: true }] : []),
  ];
  const message = envelope({
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: '1.5',
    body,
  });
  await postJson('Teams', target.url, JSON.stringify(message), {}, opts);
  return { fileId: `teams-${randomUUID()}` };
}
