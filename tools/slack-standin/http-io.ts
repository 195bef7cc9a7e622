/**
 * Reading Web API request bodies and writing answers, as Slack takes them: JSON
 * (application/json), a form (application/x-www-form-urlencoded) or multipart/form-data, with the
 * token in the Authorization header or as a `token` argument.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

const maxBodyBytes = 1_000_000;

type Body = Record<string, unknown>;

/** The request body, or undefined past `limit` bytes. */
export async function readRaw(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

const contentType = (req: IncomingMessage): string => req.headers['content-type'] ?? '';

export const isJson = (req: IncomingMessage): boolean => contentType(req).includes('application/json');

/** The arguments of a Web API call; 'invalid_json' for a body that cannot be read. */
export async function readBody(req: IncomingMessage): Promise<Body | 'invalid_json'> {
  const bytes = await readRaw(req, maxBodyBytes);
  if (bytes === undefined) return 'invalid_json';
  const raw = bytes.toString('utf8');
  if (raw.trim() === '') return {};
  if (isJson(req)) {
    try {
      const parsed: unknown = JSON.parse(raw);
      return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
        ? (parsed as Body)
        : 'invalid_json';
    } catch {
      return 'invalid_json';
    }
  }
  if (contentType(req).toLowerCase().startsWith('multipart/form-data')) {
    // curl -F style; fetch's own parser reads it. File parts have no meaning for these methods.
    try {
      const form = await new Response(new Uint8Array(bytes), {
        headers: { 'content-type': contentType(req) },
      }).formData();
      return Object.fromEntries([...form].filter(([, v]) => typeof v === 'string'));
    } catch {
      return 'invalid_json';
    }
  }
  return Object.fromEntries(new URLSearchParams(raw));
}

export function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const type = typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8';
  res.writeHead(status, { 'content-type': type, ...headers });
  res.end(text);
}
