/**
 * A Microsoft Teams Workflows webhook for tests and the demo. POST a message (any path); it answers
 *   202 Accepted when the envelope and card are valid (validate.ts) and within the size limit,
 *   400 with the problems otherwise (413 when only the size is wrong),
 *   429 + Retry-After when over its pace.
 * The real flow posts the card into a channel; this keeps the cards it accepted, to read in tests.
 */
import { answer, createPace, listen, type Pace } from '../webhook-standin/http.ts';
import { teamsLimitBytes, validateTeamsMessage } from './validate.ts';

export interface TeamsStandinOptions {
  pace?: Pace;
  port?: number;
}

export interface TeamsStandin {
  /** The "workflow URL" (it carries a fake sig= like the real ones, to test that it is never logged). */
  url: string;
  /** Accepted messages, parsed. */
  cards(): { raw: string; message: unknown; card: Record<string, unknown> }[];
  rejected(): { status: number; problems: string[] }[];
  close(): Promise<void>;
}

export async function startTeamsStandin(opts: TeamsStandinOptions = {}): Promise<TeamsStandin> {
  const pace = createPace(opts.pace);
  const accepted: { raw: string; message: unknown; card: Record<string, unknown> }[] = [];
  const rejected: { status: number; problems: string[] }[] = [];
  const server = await listen((req, body, res) => {
    if (req.method !== 'POST') return answer(res, 405, { error: 'method_not_allowed' });
    const turn = pace.take();
    if (!turn.ok) {
      rejected.push({ status: 429, problems: ['over pace'] });
      return answer(res, 429, { error: 'rate_limited' }, { 'retry-after': String(turn.retryAfterSeconds) });
    }
    const raw = body.toString('utf8');
    const problems = validateTeamsMessage(raw);
    if (problems.length > 0) {
      const status = problems.length === 1 && Buffer.byteLength(raw) > teamsLimitBytes ? 413 : 400;
      rejected.push({ status, problems });
      return answer(res, status, { error: { code: 'InvalidRequest', message: problems.join('; ') } });
    }
    const message = JSON.parse(raw) as { attachments: { content: Record<string, unknown> }[] };
    accepted.push({ raw, message, card: message.attachments[0]?.content ?? {} });
    res.writeHead(202).end();
  }, opts.port);
  return {
    url: `${server.url}/workflows/ln-standin/triggers/manual/paths/invoke?api-version=1&sig=standin-secret-signature`,
    cards: () => [...accepted],
    rejected: () => [...rejected],
    close: server.close,
  };
}
