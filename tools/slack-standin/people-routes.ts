/**
 * The stand-in's control routes for what people do in Slack (issue 17): say something, click a
 * message's button or menu, and the response_url the app answers a click at. Kept out of server.ts
 * so it stays one screen of routing; the work itself is in interactivity.ts and channel-log.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, send } from './http-io.ts';
import type { ClickRequest, Interactivity } from './interactivity.ts';
import type { SlackStandin } from './server.ts';

/** Answers the request and says true when `path` is one of these routes; false leaves it to the caller. */
export async function peopleRoute(
  path: string,
  req: IncomingMessage,
  res: ServerResponse,
  deps: { standin: Pick<SlackStandin, 'say' | 'click'>; interactivity: Interactivity },
): Promise<boolean> {
  if (path.startsWith('/_standin/respond/') && req.method === 'POST') {
    const body = await readBody(req);
    if (body === 'invalid_json') send(res, 400, { ok: false, error: 'invalid_json' });
    else {
      const answer = deps.interactivity.respond(path.slice('/_standin/respond/'.length), body);
      send(res, answer.status, answer.body);
    }
    return true;
  }
  if (path === '/_standin/responses' && req.method === 'GET') {
    send(res, 200, { responses: deps.interactivity.responses() });
    return true;
  }
  if ((path === '/_standin/click' || path === '/_standin/say') && req.method === 'POST') {
    const body = await readBody(req);
    if (body === 'invalid_json') {
      send(res, 400, { ok: false, error: 'invalid_json' });
      return true;
    }
    try {
      if (path === '/_standin/click') {
        send(res, 200, await deps.standin.click(body as unknown as ClickRequest));
      } else {
        if (typeof body.channel !== 'string' || typeof body.text !== 'string')
          throw new Error('expected {channel, text, user?}');
        const said = deps.standin.say(
          body.channel,
          body.text,
          typeof body.user === 'string' ? body.user : undefined,
        );
        send(res, 200, { ok: true, ts: said.ts, channel: said.channel });
      }
    } catch (error) {
      send(res, 400, { ok: false, error: (error as Error).message });
    }
    return true;
  }
  return false;
}
