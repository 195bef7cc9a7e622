/**
 * The stand-in's side of Slack's external upload flow: tickets (files.getUploadURLExternal), the
 * bytes (POST to the upload URL), and the share (files.completeUploadExternal). Every file must be
 * uploaded and not yet completed when it is completed; the share itself, a message in the channel
 * with the files on it, is made by the server (pace, threads, the message log) through `share`.
 * Argument checks live in files.ts.
 */
import {
  type CompleteFile,
  checkChannelId,
  checkThreadTs,
  checkUploadTicket,
  mimetypeOf,
  parseCompleteFiles,
  type Rejection,
  uploadedBytes,
} from './files.ts';

type Body = Record<string, unknown>;

/** One answer to an /api/ call or an upload POST. */
export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export const reply = (status: number, body: unknown): Reply => ({ status, body });

export const rejected = (r: Rejection): Reply =>
  reply(200, {
    ok: false,
    error: r.error,
    ...(r.messages === undefined ? {} : { response_metadata: { messages: r.messages } }),
  });

export interface StandinFile {
  id: string;
  /** The filename given to files.getUploadURLExternal. */
  name: string;
  /** files.completeUploadExternal's title, else the name. */
  title: string;
  mimetype: string;
  /** Bytes. */
  size: number;
  /** The bytes as UTF-8 text (a CSV reads as itself; the download link has the exact bytes). */
  content: string;
  /** Where the stand-in serves the bytes: <url>/_standin/files/<id>. */
  url: string;
}

interface Upload {
  id: string;
  name: string;
  length: number;
  bytes?: Buffer;
  completed: boolean;
}

export interface Uploads {
  ticket(body: Body, json: boolean): Reply;
  /** The upload POST for the file id in the upload URL. */
  receive(id: string, raw: Buffer, contentType: string | undefined): Promise<Reply>;
  complete(body: Body): Reply;
  /** An uploaded file's bytes and type, for the download link. */
  bytes(id: string): { bytes: Buffer; name: string; mimetype: string } | undefined;
  /** Files given a ticket and never completed (uploaded or not). */
  notCompleted(): number;
  reset(): void;
}

export interface UploadsOptions {
  /** The stand-in's base URL, for upload and download links. */
  url: () => string;
  /** The workspace's file size limit in bytes. */
  maxFileBytes: number;
  /** Resolves a channel id to a channel, or undefined. */
  channel(id: string): { id: string; archived: boolean; member: boolean } | undefined;
  /**
   * Shares the files into the channel as one message (pace and thread checked by the server):
   * a 429 reply, or null when the message was recorded.
   */
  share(channelId: string, files: StandinFile[], text: string, threadTs: string | undefined): Reply | null;
}

export function createUploads(opts: UploadsOptions): Uploads {
  let uploads = new Map<string, Upload>();
  let seq = 0;

  const toFile = (u: Upload, entry: CompleteFile): StandinFile => ({
    id: u.id,
    name: u.name,
    title: entry.title ?? u.name,
    mimetype: mimetypeOf(u.name),
    size: u.bytes?.length ?? 0,
    content: u.bytes?.toString('utf8') ?? '',
    url: `${opts.url()}/_standin/files/${u.id}`,
  });

  return {
    ticket(body, json) {
      const checked = checkUploadTicket(body, json, opts.maxFileBytes);
      if ('error' in checked) return rejected(checked);
      seq += 1;
      const id = `F0STANDIN${String(seq).padStart(4, '0')}`;
      uploads.set(id, { id, name: checked.filename, length: checked.length, completed: false });
      return reply(200, { ok: true, upload_url: `${opts.url()}/upload/v1/${id}`, file_id: id });
    },

    async receive(id, raw, contentType) {
      const upload = uploads.get(id);
      if (upload === undefined) return reply(404, `no upload ticket ${id}`);
      if (upload.completed) return reply(400, `file ${id} is already completed`);
      const bytes = await uploadedBytes(raw, contentType);
      if (typeof bytes === 'string') return reply(400, bytes);
      if (bytes.length !== upload.length) {
        return reply(
          400,
          `length mismatch: files.getUploadURLExternal said ${upload.length} bytes, got ${bytes.length}`,
        );
      }
      // A second POST before completion replaces the first (a retried upload).
      upload.bytes = bytes;
      return reply(200, `OK - ${bytes.length}`);
    },

    complete(body) {
      const entries = parseCompleteFiles(body.files);
      if ('error' in entries) return rejected(entries);
      if (body.channels !== undefined) {
        return rejected({
          error: 'invalid_arguments',
          messages: ['[ERROR] the stand-in shares through channel_id only, not channels'],
        });
      }
      const found: Upload[] = [];
      for (const entry of entries) {
        const upload = uploads.get(entry.id);
        const problem =
          upload === undefined
            ? 'has no upload ticket'
            : upload.completed
              ? 'is already completed (completeUploadExternal can be called once)'
              : upload.bytes === undefined
                ? 'was never uploaded to its upload_url'
                : undefined;
        if (problem !== undefined || upload === undefined) {
          return rejected({ error: 'file_not_found', messages: [`[ERROR] file ${entry.id} ${problem}`] });
        }
        found.push(upload);
      }
      const channelId = body.channel_id;
      if (channelId === undefined || channelId === '') {
        if (body.thread_ts !== undefined) {
          return rejected({ error: 'invalid_arguments', messages: ['[ERROR] thread_ts needs channel_id'] });
        }
        // No channel: Slack keeps the file private to the uploader.
        for (const u of found) u.completed = true;
        return reply(200, { ok: true, files: found.map((u, i) => fileObject(toFile(u, entries[i] ?? u))) });
      }
      const badId = checkChannelId(channelId);
      if (badId !== null) return rejected(badId);
      const channel = opts.channel(String(channelId));
      if (channel === undefined) return rejected({ error: 'channel_not_found' });
      // Slack lists no is_archived for this method; invalid_channel is its "channel specified is invalid".
      if (channel.archived) return rejected({ error: 'invalid_channel' });
      if (!channel.member) return rejected({ error: 'not_in_channel' });
      const badTs = checkThreadTs(body.thread_ts);
      if (badTs !== null) return rejected(badTs);
      const files = found.map((u, i) => toFile(u, entries[i] ?? u));
      const text = typeof body.initial_comment === 'string' ? body.initial_comment : '';
      const threadTs =
        body.thread_ts === undefined || body.thread_ts === '' ? undefined : String(body.thread_ts);
      const limited = opts.share(channel.id, files, text, threadTs);
      // A 429 leaves the files uploaded and not completed: the same call may be retried.
      if (limited !== null) return limited;
      for (const u of found) u.completed = true;
      return reply(200, { ok: true, files: files.map(fileObject) });
    },

    bytes(id) {
      const u = uploads.get(id);
      return u?.bytes === undefined
        ? undefined
        : { bytes: u.bytes, name: u.name, mimetype: mimetypeOf(u.name) };
    },

    notCompleted: () => [...uploads.values()].filter((u) => !u.completed).length,

    reset() {
      uploads = new Map();
    },
  };
}

/** The file object Slack answers with (the fields a client reads). */
function fileObject(f: StandinFile): Record<string, unknown> {
  return {
    id: f.id,
    name: f.name,
    title: f.title,
    mimetype: f.mimetype,
    filetype: /\.([a-z0-9]+)$/i.exec(f.name)?.[1]?.toLowerCase() ?? 'binary',
    size: f.size,
    url_private: f.url,
    url_private_download: f.url,
  };
}
