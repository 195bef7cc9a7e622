/**
 * What the stand-in checks in Slack's external file upload flow and in thread replies, as Slack
 * answers it. Pure, apart from reading a multipart body (through fetch's own parser).
 *
 *   1. files.getUploadURLExternal (https://docs.slack.dev/reference/methods/files.getUploadURLExternal):
 *      filename and length required; length 0 is `missing_argument` (the docs' own words: "typically
 *      only occurs when the length provided is 0"); other bad or missing arguments `invalid_arguments`
 *      with "[ERROR] ..." lines. It reads form-encoded arguments only: a JSON body's arguments are not
 *      seen, so Slack answers "missing required field" for them (api.slack.com lists only
 *      application/x-www-form-urlencoded for this method, and a live report agrees:
 *      Octember/earshot#10). @slack/web-api sends forms, so this only catches hand-rolled callers.
 *   2. POST to upload_url: raw bytes or multipart/form-data ("Files can be sent as raw bytes or can be
 *      multipart form encoded. Slack will return HTTP 200 if the upload is successful; a non-200
 *      response indicates a failure"). The byte count must be the length declared in step 1 (the
 *      reservation cannot be renegotiated); Slack does not document its answer to a mismatch, the
 *      stand-in answers HTTP 400.
 *   3. files.completeUploadExternal (https://docs.slack.dev/reference/methods/files.completeUploadExternal):
 *      files is a JSON array of {id, title?}; channel_id is an encoded id: Slack refuses a name with
 *      invalid_arguments "input must match regex pattern: ^[CGDZ][A-Z0-9]{8,}$ [json-pointer:/channel_id]"
 *      (slackapi/bolt-js#2115; no channel names for uploads, slackapi/node-slack-sdk#1756).
 *
 * thread_ts: Slack refuses a malformed one with invalid_thread_ts, "[ERROR] 15900000000 is not a valid
 * thread_ts" (NousResearch/hermes-agent#86285), but answers ok:true to a well-formed ts that names no
 * message, and the reply is then shown nowhere (slackapi/node-slack-sdk#780,
 * slackapi/python-slack-sdk#840). The stand-in does the same and counts such replies as lost.
 */

export type Rejection = { error: string; messages?: string[] };

type Body = Record<string, unknown>;

/** Slack's encoded conversation id, as files.completeUploadExternal's channel_id must be. */
export const channelIdPattern = /^[CGDZ][A-Z0-9]{8,}$/;

/** A message timestamp as Slack writes it: seconds, a dot, digits ("1700000000.000100"). */
export const isValidTs = (ts: string): boolean => /^\d+\.\d+$/.test(ts);

/** invalid_thread_ts for a malformed thread_ts; null when absent or well-formed. */
export function checkThreadTs(value: unknown): Rejection | null {
  if (value === undefined || value === '') return null;
  const ts = String(value);
  return isValidTs(ts)
    ? null
    : { error: 'invalid_thread_ts', messages: [`[ERROR] ${ts} is not a valid thread_ts`] };
}

const missing = (field: string): Rejection => ({
  error: 'invalid_arguments',
  messages: [`[ERROR] missing required field: ${field}`],
});

export interface UploadTicketRequest {
  filename: string;
  length: number;
}

/**
 * files.getUploadURLExternal's arguments. `json` says the body came as JSON, whose arguments Slack
 * does not read; `maxBytes` is the stand-in's workspace limit (file_upload_size_restricted past it).
 */
export function checkUploadTicket(
  body: Body,
  json: boolean,
  maxBytes: number,
): UploadTicketRequest | Rejection {
  const args = json ? {} : body;
  const filename = typeof args.filename === 'string' ? args.filename.trim() : '';
  if (filename === '') return missing('filename');
  if (args.length === undefined || args.length === '') return missing('length');
  const length = Number(args.length);
  if (!Number.isInteger(length) || length < 0) {
    return { error: 'invalid_arguments', messages: ['[ERROR] length must be a non-negative integer'] };
  }
  if (length === 0) return { error: 'missing_argument' };
  if (length > maxBytes) return { error: 'file_upload_size_restricted' };
  return { filename, length };
}

export interface CompleteFile {
  id: string;
  title?: string;
}

/** files.completeUploadExternal's `files`: a JSON array (a string in a form) of {id, title?}. */
export function parseCompleteFiles(value: unknown): CompleteFile[] | Rejection {
  if (value === undefined || value === '') return missing('files');
  let parsed: unknown = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      return { error: 'invalid_arguments', messages: ['[ERROR] files must be a JSON array'] };
    }
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    return { error: 'invalid_arguments', messages: ['[ERROR] files must be a non-empty array'] };
  }
  const files: CompleteFile[] = [];
  for (const [i, f] of parsed.entries()) {
    const entry = typeof f === 'object' && f !== null ? (f as Body) : {};
    if (typeof entry.id !== 'string' || entry.id === '') {
      return {
        error: 'invalid_arguments',
        messages: [`[ERROR] missing required field: id [json-pointer:/files/${i}/id]`],
      };
    }
    files.push(typeof entry.title === 'string' ? { id: entry.id, title: entry.title } : { id: entry.id });
  }
  return files;
}

/** channel_id as Slack checks its form; null when it is an encoded id. */
export function checkChannelId(value: unknown): Rejection | null {
  return typeof value === 'string' && channelIdPattern.test(value)
    ? null
    : {
        error: 'invalid_arguments',
        messages: [
          `[ERROR] input must match regex pattern: ${channelIdPattern.source} [json-pointer:/channel_id]`,
        ],
      };
}

/**
 * The file bytes of an upload POST: the raw body, or the one file part of a multipart/form-data body
 * (what @slack/web-api's files.uploadV2 sends, as a part named "body"; curl -F sends "filename").
 * Returns a reason string when the body is not one of the two.
 */
export async function uploadedBytes(raw: Buffer, contentType: string | undefined): Promise<Buffer | string> {
  if (!(contentType ?? '').toLowerCase().startsWith('multipart/form-data')) return raw;
  let form: FormData;
  try {
    form = await new Response(new Uint8Array(raw), {
      headers: { 'content-type': contentType ?? '' },
    }).formData();
  } catch (error) {
    return `unreadable multipart/form-data body: ${String(error)}`;
  }
  const parts = [...form.values()].filter((v): v is File => typeof v !== 'string');
  if (parts.length !== 1) return `expected one file part in the form, got ${parts.length}`;
  return Buffer.from(await (parts[0] as File).arrayBuffer());
}

/** The MIME type Slack would give the file, from its name. */
export function mimetypeOf(filename: string): string {
  const ext = /\.([a-z0-9]+)$/i.exec(filename)?.[1]?.toLowerCase();
  const known: Record<string, string> = {
    csv: 'text/csv',
    txt: 'text/plain',
    json: 'application/json',
    png: 'image/png',
    pdf: 'application/pdf',
  };
  return (ext === undefined ? undefined : known[ext]) ?? 'application/octet-stream';
}

/** "812 B", "12.3 kB", "1.4 MB" (decimal units, as Slack shows them). */
export function formatBytes(size: number): string {
  if (size < 1000) return `${size} B`;
  if (size < 1_000_000) return `${(size / 1000).toFixed(1)} kB`;
  return `${(size / 1_000_000).toFixed(1)} MB`;
}
