/**
 * A shared file on the preview page, roughly as Slack draws it: title, name and size, a download
 * link, and for a CSV its first rows as a table. Pure. Every value from the file (title, name, each
 * cell) is HTML-escaped: the CSV carries listing data, which is untrusted.
 */
import { parse } from 'csv-parse/sync';
import { formatBytes } from './files.ts';

export interface PreviewFile {
  id: string;
  name: string;
  title: string;
  mimetype: string;
  size: number;
  content: string;
  url: string;
}

/** Rows of a CSV shown under the header. */
export const csvPreviewRows = 5;

const escapeHtml = (s: string): string =>
  s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');

const isCsv = (f: PreviewFile): boolean => f.mimetype === 'text/csv' || /\.csv$/i.test(f.name);

/** The header and first rows as a table, with "N of M rows"; a CSV that does not parse says why. */
export function csvTableHtml(content: string, rows = csvPreviewRows): string {
  let records: string[][];
  try {
    records = parse(content, { relax_column_count: true, skip_empty_lines: true, bom: true }) as string[][];
  } catch (error) {
    return `<div class="csv-error">not readable as CSV: ${escapeHtml(error instanceof Error ? error.message : String(error))}</div>`;
  }
  const [header = [], ...body] = records;
  const cells = (row: string[], tag: 'th' | 'td') =>
    row.map((c) => `<${tag}>${escapeHtml(c)}</${tag}>`).join('');
  const shown = body.slice(0, rows);
  return (
    `<table class="csv"><thead><tr>${cells(header, 'th')}</tr></thead><tbody>` +
    shown.map((r) => `<tr>${cells(r, 'td')}</tr>`).join('') +
    `</tbody></table><div class="context">${shown.length} of ${body.length.toLocaleString('en-US')} rows</div>`
  );
}

export function fileHtml(f: PreviewFile): string {
  // A relative link to the stand-in itself: the page and the file come from the same server.
  const href = `/_standin/files/${encodeURIComponent(f.id)}`;
  return (
    `<div class="file"><div class="file-head"><span class="file-type">${isCsv(f) ? 'CSV' : 'FILE'}</span>` +
    `<div><b>${escapeHtml(f.title)}</b><div class="context">${escapeHtml(f.name)} · ${formatBytes(f.size)} · ` +
    `<a href="${href}" download>download</a></div></div></div>` +
    (isCsv(f) ? csvTableHtml(f.content) : '') +
    '</div>'
  );
}

export const fileStyle = `.file{border:1px solid #ddd;border-radius:6px;padding:6px 8px;margin:4px 0;background:#fafafa}
.file-head{display:flex;gap:8px;align-items:center}.file-type{background:#1d9bd1;color:#fff;border-radius:4px;font-size:11px;font-weight:bold;padding:6px 4px}
table.csv{border-collapse:collapse;font-size:12px;margin-top:6px;display:block;overflow-x:auto;max-width:100%}
table.csv th,table.csv td{border:1px solid #e2e2e2;padding:2px 6px;white-space:nowrap;text-align:left}table.csv th{background:#f0f0f0}
.csv-error{color:#e01e5a;font-size:12px}
.replies{margin:6px 0 0 10px;padding-left:10px;border-left:3px solid #e8e8e8}.replies .message{padding:6px 0;border-bottom:none}
.reply-count{color:#1264a3;font-size:12px;font-weight:bold;margin-top:4px}
.lost{background:#fde8ee;border:1px solid #e01e5a;border-radius:6px;margin:12px;padding:8px 12px;font-size:13px}`;
