/**
 * A Standard Webhooks receiver for tests and the demo: verifies every POST with the `standardwebhooks`
 * package (signature over id.timestamp.body, timestamp within five minutes) and answers
 *   204 accepted (a repeated webhook-id is accepted again and counted as a duplicate),
 *   401 when the signature does not verify (a tampered body, a wrong secret, missing headers),
 *   429 + Retry-After when over its pace, 410 Gone when told it is gone.
 * https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
 */
import { Webhook } from 'standardwebhooks';
import { answer, createPace, listen, type Pace } from './http.ts';

export interface WebhookStandinOptions {
  /** "whsec_<base64>". */
  secret: string;
  pace?: Pace;
  port?: number;
}

export interface ReceivedWebhook {
  id: string;
  timestamp: number;
  body: unknown;
  raw: string;
  /** The three webhook-* headers as received. */
  headers: Record<string, string>;
  duplicate: boolean;
}

export interface WebhookStandin {
  /** POST here (any path). */
  url: string;
  received(): ReceivedWebhook[];
  /** Requests refused: why (signature, pace, gone). */
  rejected(): { reason: string; status: number }[];
  /** From now on answer 410 Gone. */
  setGone(gone: boolean): void;
  /** Checks a request as the server does: true when it verifies. */
  verify(raw: string, headers: Record<string, string>): boolean;
  close(): Promise<void>;
}

export async function startWebhookStandin(opts: WebhookStandinOptions): Promise<WebhookStandin> {
  const hook = new Webhook(opts.secret);
  const pace = createPace(opts.pace);
  const received: ReceivedWebhook[] = [];
  const rejected: { reason: string; status: number }[] = [];
  const seen = new Set<string>();
  let gone = false;
  const verify = (raw: string, headers: Record<string, string>): boolean => {
    try {
      hook.verify(raw, headers);
      return true;
    } catch {
      return false;
    }
  };
  const server = await listen((req, body, res) => {
    if (req.method !== 'POST') return answer(res, 405, { error: 'method_not_allowed' });
    if (gone) {
      rejected.push({ reason: 'gone', status: 410 });
      return answer(res, 410, { error: 'gone' });
    }
    const turn = pace.take();
    if (!turn.ok) {
      rejected.push({ reason: 'pace', status: 429 });
      return answer(res, 429, { error: 'rate_limited' }, { 'retry-after': String(turn.retryAfterSeconds) });
    }
    const raw = body.toString('utf8');
    const headers = {
      'webhook-id': String(req.headers['webhook-id'] ?? ''),
      'webhook-timestamp': String(req.headers['webhook-timestamp'] ?? ''),
      'webhook-signature': String(req.headers['webhook-signature'] ?? ''),
    };
    if (!verify(raw, headers)) {
      rejected.push({ reason: 'signature', status: 401 });
      return answer(res, 401, { error: 'invalid_signature' });
    }
    const duplicate = seen.has(headers['webhook-id']);
    seen.add(headers['webhook-id']);
    received.push({
      id: headers['webhook-id'],
      timestamp: Number(headers['webhook-timestamp']),
      body: JSON.parse(raw),
      raw,
      headers,
      duplicate,
    });
    res.writeHead(204).end();
  }, opts.port);
  return {
    url: `${server.url}/hooks/listings`,
    received: () => [...received],
    rejected: () => [...rejected],
    setGone: (g) => {
      gone = g;
    },
    verify,
    close: server.close,
  };
}
