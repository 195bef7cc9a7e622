/**
 * The stand-in's preview page: channels and their messages drawn roughly as Slack draws them
 * (header, section mrkdwn, fields, button, context, divider; thread replies under their parent;
 * shared files with a download link and a CSV's first rows), refreshing itself every two seconds.
 * Pure: state in, HTML out. Everything from a message is HTML-escaped; mrkdwn is read the way Slack
 * reads it (https://docs.slack.dev/messaging/formatting-message-text): &amp; &lt; &gt; are shown as
 * the characters they stand for, and <...> sequences are links or mentions. Mentions are highlighted,
 * so an unescaped <!channel> that slipped through the renderer is plain to see.
 *
 * An edited message (chat.update) reads as Slack shows it, the new version with a grey "(edited)"
 * after it (the edit's time on hover); the versions before it sit in a collapsed stand-in-only list
 * below, so a test can see what was replaced. A person's message (POST /_standin/say) is shown under
 * their user id rather than the bot's name. An ephemeral answer to a click sits at the end of its
 * channel marked "Only visible to" its clicker, as Slack shows it to them alone.
 */
import { fileHtml, fileStyle, type PreviewFile } from './preview-files.ts';

export interface PreviewChannel {
  id: string;
  name: string;
  archived: boolean;
  member: boolean;
}

export interface PreviewMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: unknown[];
  receivedAt: number;
  /** A thread reply: its parent's ts. */
  threadTs?: string;
  /** A file share: its files (and `text`, the initial comment). */
  files?: PreviewFile[];
  /** A person's message: their user id (else the bot's). */
  user?: string;
  /** Set once edited: the last edit's time. */
  editedAt?: number;
  /** Earlier versions of an edited message, oldest first. */
  history?: Array<{ text: string; blocks: unknown[]; since: number }>;
}

/** An ephemeral answer to a click (interactivity.ts): shown to `user` only. */
export interface PreviewEphemeral {
  user: string;
  channel: string;
  text: string;
  blocks: unknown[];
  receivedAt: number;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export const escapeHtml = (s: string): string =>
  s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');

const decodeSlackEntities = (s: string): string =>
  s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

const safeHref = (url: string): string | null => (/^(https?:|mailto:)/i.test(url) ? url : null);

/** One <...> control sequence: a link, a user/channel mention, or a special mention. */
function controlSequence(inner: string): string {
  const [target = '', label] = inner.split('|', 2);
  const mention = (shown: string) => `<span class="mention">${escapeHtml(shown)}</span>`;
  if (target.startsWith('!')) {
    if (target.startsWith('!date^')) return escapeHtml(decodeSlackEntities(label ?? target));
    if (target.startsWith('!subteam^')) return mention(label ?? '@group');
    return mention(`@${target.slice(1)}`);
  }
  if (target.startsWith('@')) return mention(label ?? target);
  if (target.startsWith('#')) return mention(label === undefined ? target : `#${label}`);
  const href = safeHref(decodeSlackEntities(target));
  const shown = escapeHtml(decodeSlackEntities(label ?? target));
  return href === null
    ? shown
    : `<a href="${escapeHtml(href)}" rel="noreferrer" target="_blank">${shown}</a>`;
}

/** Slack's mrkdwn to HTML, roughly: *bold*, _italic_, ~strike~, `code`, > quotes, links, mentions. */
export function mrkdwnToHtml(text: string): string {
  const html = text
    .split(/(<[^<>]*>)/)
    .map((part) => {
      if (part.startsWith('<') && part.endsWith('>')) return controlSequence(part.slice(1, -1));
      return escapeHtml(decodeSlackEntities(part))
        .replace(/```([\s\S]+?)```/g, '<pre>$1</pre>')
        .replace(/`([^`\n]+)`/g, '<code>$1</code>')
        .replace(/(^|[\s(])\*([^*\n]+)\*/g, '$1<b>$2</b>')
        .replace(/(^|[\s(])_([^_\n]+)_/g, '$1<i>$2</i>')
        .replace(/(^|[\s(])~([^~\n]+)~/g, '$1<s>$2</s>');
    })
    .join('');
  return html
    .split('\n')
    .map((line) => (line.startsWith('&gt; ') ? `<blockquote>${line.slice(5)}</blockquote>` : line))
    .join('<br>');
}

function textHtml(obj: unknown): string {
  if (!isObject(obj) || typeof obj.text !== 'string') return '';
  return obj.type === 'mrkdwn' ? mrkdwnToHtml(obj.text) : escapeHtml(obj.text);
}

function elementHtml(el: unknown): string {
  if (!isObject(el)) return '';
  if (el.type === 'button') {
    const href = typeof el.url === 'string' ? safeHref(el.url) : null;
    const label = textHtml(el.text);
    const style = el.style === 'primary' || el.style === 'danger' ? ` ${el.style}` : '';
    return href === null
      ? `<span class="button${style}">${label}</span>`
      : `<a class="button${style}" href="${escapeHtml(href)}" rel="noreferrer" target="_blank">${label}</a>`;
  }
  if (el.type === 'overflow') {
    // Slack draws an overflow menu as a "⋯" button that opens its options; here a click opens them too.
    const options = Array.isArray(el.options) ? el.options : [];
    const items = options.map((o) => `<li>${isObject(o) ? textHtml(o.text) : ''}</li>`).join('');
    return `<details class="overflow"><summary class="button" title="More actions">⋯</summary><ul>${items}</ul></details>`;
  }
  if (el.type === 'image')
    return `<span class="image">[image: ${escapeHtml(String(el.alt_text ?? ''))}]</span>`;
  if (el.type === 'plain_text' || el.type === 'mrkdwn') return `<span>${textHtml(el)}</span>`;
  return `<span class="unknown">[${escapeHtml(String(el.type))}]</span>`;
}

export function blockHtml(block: unknown): string {
  if (!isObject(block)) return '';
  switch (block.type) {
    case 'header':
      return `<div class="header">${textHtml(block.text)}</div>`;
    case 'section': {
      const fields = Array.isArray(block.fields)
        ? `<div class="fields">${block.fields.map((f) => `<div>${textHtml(f)}</div>`).join('')}</div>`
        : '';
      const accessory =
        block.accessory === undefined ? '' : `<div class="accessory">${elementHtml(block.accessory)}</div>`;
      return `<div class="section"><div>${textHtml(block.text)}${fields}</div>${accessory}</div>`;
    }
    case 'divider':
      return '<hr>';
    case 'context':
      return `<div class="context">${Array.isArray(block.elements) ? block.elements.map(elementHtml).join(' ') : ''}</div>`;
    case 'actions':
      return `<div class="actions">${Array.isArray(block.elements) ? block.elements.map(elementHtml).join(' ') : ''}</div>`;
    case 'markdown':
      return `<div class="section">${typeof block.text === 'string' ? escapeHtml(block.text) : ''}</div>`;
    case 'image':
      return `<div>${elementHtml(block)}</div>`;
    default:
      return `<div class="unknown">[${escapeHtml(String(block.type))} block]</div>`;
  }
}

const clock = (at: number): string => new Date(at).toISOString().slice(11, 19);

/** What a message (or one earlier version of it) shows: its blocks, else its text as mrkdwn. */
function bodyHtml(v: { text: string; blocks: unknown[]; files?: PreviewFile[] }): string {
  // initial_comment is message text, which Slack reads as mrkdwn like any other.
  const text =
    v.text === '' && v.files !== undefined ? '' : `<div class="section">${mrkdwnToHtml(v.text)}</div>`;
  return v.blocks.length > 0 ? v.blocks.map(blockHtml).join('') : text;
}

/** Slack's "(edited)" mark, and the replaced versions (the stand-in's own addition, collapsed). */
function editedHtml(m: PreviewMessage): string {
  if (m.editedAt === undefined) return '';
  const mark = `<span class="edited" title="edited ${clock(m.editedAt)} UTC">(edited)</span>`;
  const history = m.history ?? [];
  if (history.length === 0) return mark;
  const versions = history
    .map((v) => `<li><div class="meta">shown from ${clock(v.since)} UTC</div>${bodyHtml(v)}</li>`)
    .join('');
  const count = `${history.length} earlier ${history.length === 1 ? 'version' : 'versions'}`;
  return `${mark}<details class="history"><summary>${count}</summary><ol>${versions}</ol></details>`;
}

/** One message; `replies` (a top-level message's thread) are drawn under it. */
function messageHtml(m: PreviewMessage, replies: PreviewMessage[] = []): string {
  const time = clock(m.receivedAt);
  const body = bodyHtml(m);
  const files = (m.files ?? []).map(fileHtml).join('');
  const thread =
    replies.length === 0
      ? ''
      : `<div class="reply-count">${replies.length} ${replies.length === 1 ? 'reply' : 'replies'}</div>` +
        `<div class="replies">${replies.map((r) => messageHtml(r)).join('')}</div>`;
  const author =
    m.user === undefined
      ? '<b>listing-notifier</b> <span class="app">APP</span>'
      : `<b>${escapeHtml(m.user)}</b>`;
  return `<div class="message"><div class="meta">${author} ${time} UTC</div>${body}${editedHtml(m)}${files}${thread}</div>`;
}

/** A channel's top-level messages in order, each with its replies. */
function channelHtml(own: PreviewMessage[]): string {
  const top = own.filter((m) => m.threadTs === undefined);
  return top
    .map((m) =>
      messageHtml(
        m,
        own.filter((r) => r.threadTs === m.ts),
      ),
    )
    .join('');
}

const style = `body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:0;background:#f8f8f8;color:#1d1c1d}
h1{font-size:18px;margin:0;padding:12px 16px;background:#3f0e40;color:#fff}h1 small{font-weight:normal;opacity:.8}
main{display:flex;gap:12px;padding:12px;overflow-x:auto;align-items:flex-start}
.channel{background:#fff;border:1px solid #ddd;border-radius:8px;min-width:340px;max-width:420px;max-height:85vh;overflow-y:auto}
.channel h2{font-size:15px;margin:0;padding:10px 12px;border-bottom:1px solid #eee;position:sticky;top:0;background:#fff}
.channel h2 small{color:#888;font-weight:normal}.message{padding:8px 12px;border-bottom:1px solid #f2f2f2;font-size:14px;line-height:1.4}
.meta{color:#616061;font-size:12px;margin-bottom:4px}.app{background:#eee;border-radius:2px;font-size:10px;padding:0 3px}
.header{font-size:17px;font-weight:bold;margin:4px 0}.section{display:flex;justify-content:space-between;gap:8px;margin:4px 0}
.fields{display:grid;grid-template-columns:1fr 1fr;gap:4px 12px;margin-top:4px}.context{color:#616061;font-size:12px;margin:4px 0}
.button{display:inline-block;border:1px solid #bbb;border-radius:4px;padding:2px 10px;font-weight:bold;color:#1d1c1d;text-decoration:none;font-size:13px}
.button.primary{background:#007a5a;color:#fff;border-color:#007a5a}.button.danger{background:#e01e5a;color:#fff;border-color:#e01e5a}
.mention{background:#fff3b0;color:#1264a3;border-radius:3px;padding:0 2px}code{background:#f4f4f4;border:1px solid #ddd;border-radius:3px;color:#e01e5a;padding:0 2px}
blockquote{border-left:4px solid #ddd;margin:0;padding-left:8px}.edited{color:#868686;font-size:12px}
.overflow{display:inline-block;position:relative}.overflow summary{list-style:none;cursor:pointer}
.overflow ul{position:absolute;right:0;z-index:1;background:#fff;border:1px solid #ddd;border-radius:6px;margin:2px 0;padding:4px 0;list-style:none;min-width:160px;box-shadow:0 2px 6px rgba(0,0,0,.15)}
.overflow li{padding:3px 12px;white-space:nowrap}
.ephemeral{background:#f8f8f8}.only{font-style:italic}
.history{color:#616061;font-size:12px;margin:2px 0}.history ol{margin:4px 0;padding-left:18px}.history li{opacity:.8}hr{border:none;border-top:1px solid #eee}.empty{color:#888;padding:12px}
${fileStyle}`;

export function previewPage(
  channels: PreviewChannel[],
  messages: PreviewMessage[],
  stats: { rateLimited: number; lost?: PreviewMessage[]; ephemeral?: PreviewEphemeral[] },
): string {
  const columns = channels
    .map((ch) => {
      const own = messages.filter((m) => m.channel === ch.id);
      const ephemeral = (stats.ephemeral ?? [])
        .filter((e) => e.channel === ch.id)
        .map(ephemeralHtml)
        .join('');
      const flags = [ch.archived ? 'archived' : '', ch.member ? '' : 'bot not a member']
        .filter(Boolean)
        .join(', ');
      const list = own.length === 0 ? '<div class="empty">No messages yet</div>' : channelHtml(own);
      return `<section class="channel"><h2>#${escapeHtml(ch.name)} <small>${escapeHtml(ch.id)} · ${own.length}${flags ? ` · ${flags}` : ''}</small></h2>${list}${ephemeral}</section>`;
    })
    .join('');
  return `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="2">
<title>Slack stand-in</title><style>${style}</style></head><body>
<h1>Slack stand-in <small>${messages.length} messages · ${stats.rateLimited} answered 429 · refreshes every 2 s</small></h1>
${lostHtml(stats.lost ?? [], channels)}<main>${columns}</main></body></html>`;
}

function ephemeralHtml(e: PreviewEphemeral): string {
  const meta = `<b>listing-notifier</b> <span class="app">APP</span> ${clock(e.receivedAt)} UTC · <span class="only">Only visible to ${escapeHtml(e.user)}</span>`;
  return `<div class="message ephemeral"><div class="meta">${meta}</div>${bodyHtml(e)}</div>`;
}

/** Replies Slack would have accepted and shown nowhere: their thread_ts named no message. */
function lostHtml(lost: PreviewMessage[], channels: PreviewChannel[]): string {
  if (lost.length === 0) return '';
  const items = lost
    .map((m) => {
      const name = channels.find((c) => c.id === m.channel)?.name ?? m.channel;
      return `<li>#${escapeHtml(name)}, thread_ts ${escapeHtml(m.threadTs ?? '')}: ${mrkdwnToHtml(m.text)}</li>`;
    })
    .join('');
  return `<div class="lost"><b>${lost.length} ${lost.length === 1 ? 'reply' : 'replies'} to no message</b> (Slack answers ok and shows them nowhere)<ul>${items}</ul></div>`;
}
