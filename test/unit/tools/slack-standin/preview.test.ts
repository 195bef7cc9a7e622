import { describe, expect, it } from 'vitest';
import { blockHtml, mrkdwnToHtml, previewPage } from '../../../../tools/slack-standin/preview.ts';
import { csvTableHtml, fileHtml } from '../../../../tools/slack-standin/preview-files.ts';

describe('mrkdwnToHtml', () => {
  it('shows escaped entities as the characters they stand for, and never as markup', () => {
    expect(mrkdwnToHtml('a &lt;script&gt;alert(1)&lt;/script&gt; &amp; b')).toBe(
      'a &lt;script&gt;alert(1)&lt;/script&gt; &amp; b',
    );
    // A raw < that is not a Slack sequence still cannot open an HTML tag.
    expect(mrkdwnToHtml('<img src=x onerror=alert(1)>')).not.toContain('<img');
  });

  it('renders bold, italic, strike, code and newlines', () => {
    expect(mrkdwnToHtml('*Blue chair* _was_ ~$20~ `L-1`\nnow')).toBe(
      '<b>Blue chair</b> <i>was</i> <s>$20</s> <code>L-1</code><br>now',
    );
  });

  it('renders links with their label and highlights mentions', () => {
    expect(mrkdwnToHtml('<https://shop.example/l/1|Blue &amp; chair>')).toBe(
      '<a href="https://shop.example/l/1" rel="noreferrer" target="_blank">Blue &amp; chair</a>',
    );
    expect(mrkdwnToHtml('<!channel> <!here> <@U123> <#C123|sales>')).toBe(
      '<span class="mention">@channel</span> <span class="mention">@here</span> <span class="mention">@U123</span> <span class="mention">#sales</span>',
    );
    expect(mrkdwnToHtml('<javascript:alert(1)|click>')).toBe('click');
  });
});

describe('blockHtml and previewPage', () => {
  it('draws header, section with fields, button and context', () => {
    const html = [
      { type: 'header', text: { type: 'plain_text', text: 'Price <cut>' } },
      { type: 'section', fields: [{ type: 'mrkdwn', text: '*Was*' }] },
      {
        type: 'actions',
        elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open' }, url: 'https://e.x/1' }],
      },
      { type: 'context', elements: [{ type: 'mrkdwn', text: 'listing L-1' }] },
    ]
      .map(blockHtml)
      .join('');
    expect(html).toContain('<div class="header">Price &lt;cut&gt;</div>');
    expect(html).toContain('<div class="fields"><div><b>Was</b></div></div>');
    expect(html).toContain('<a class="button" href="https://e.x/1"');
    expect(html).toContain('<div class="context"><span>listing L-1</span></div>');
  });

  it('lists every channel with its messages and refreshes itself', () => {
    const page = previewPage(
      [
        { id: 'C1', name: 'sales-alerts', archived: false, member: true },
        { id: 'C2', name: 'old', archived: true, member: true },
      ],
      [{ channel: 'C1', ts: '1.000001', text: 'fallback', blocks: [], receivedAt: 0 }],
      { rateLimited: 4 },
    );
    expect(page).toContain('http-equiv="refresh"');
    expect(page).toContain('#sales-alerts');
    expect(page).toContain('#old');
    expect(page).toContain('archived');
    expect(page).toContain('fallback');
    expect(page).toContain('4 answered 429');
  });
});

describe('threads and files on the preview page', () => {
  const channel = { id: 'C1', name: 'sales-alerts', archived: false, member: true };
  const csv = 'listing_id,title\n1,"<script>alert(1)</script>"\n2,"a, ""b"""\n3,c\n4,d\n5,e\n6,f\n';
  const file = {
    id: 'F1',
    name: 'changes.csv',
    title: 'All <changes>',
    mimetype: 'text/csv',
    size: csv.length,
    content: csv,
    url: 'http://x/_standin/files/F1',
  };

  it('draws replies under their parent, in order, and not at the top level', () => {
    const page = previewPage(
      [channel],
      [
        { channel: 'C1', ts: '1.000001', text: 'parent', blocks: [], receivedAt: 0 },
        { channel: 'C1', ts: '1.000002', text: 'other', blocks: [], receivedAt: 0 },
        {
          channel: 'C1',
          ts: '1.000003',
          text: 'first reply',
          blocks: [],
          receivedAt: 0,
          threadTs: '1.000001',
        },
        {
          channel: 'C1',
          ts: '1.000004',
          text: 'second reply',
          blocks: [],
          receivedAt: 0,
          threadTs: '1.000001',
        },
      ],
      { rateLimited: 0 },
    );
    const parent = page.indexOf('parent');
    const replies = page.indexOf('<div class="replies">');
    expect(page).toContain('2 replies');
    expect(parent).toBeLessThan(replies);
    expect(replies).toBeLessThan(page.indexOf('first reply'));
    expect(page.indexOf('first reply')).toBeLessThan(page.indexOf('second reply'));
    expect(page.indexOf('second reply')).toBeLessThan(page.indexOf('other'));
  });

  it('shows a file with its title, size and download link, and a CSV as an escaped table of its first rows', () => {
    const html = fileHtml(file);
    expect(html).toContain('<b>All &lt;changes&gt;</b>');
    expect(html).toContain('changes.csv · 76 B');
    expect(html).toContain('<a href="/_standin/files/F1" download>download</a>');
    expect(html).toContain('<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>');
    expect(html).toContain('<td>a, &quot;b&quot;</td>');
    expect(html).not.toContain('<script>');
    expect(html).toContain('5 of 6 rows');
    expect(html).not.toContain('<td>6</td>');
  });

  it('says why a CSV cannot be read instead of failing the page', () => {
    expect(csvTableHtml('a,b\n"unterminated')).toMatch(/^<div class="csv-error">not readable as CSV: /);
  });

  it('lists lost replies in a warning above the channels', () => {
    const lost = [
      {
        channel: 'C1',
        ts: '1.000009',
        text: 'page <!here>',
        blocks: [],
        receivedAt: 0,
        threadTs: '9.000001',
      },
    ];
    const page = previewPage([channel], [], { rateLimited: 0, lost });
    expect(page).toContain('1 reply to no message');
    expect(page).toContain('#sales-alerts, thread_ts 9.000001');
    expect(previewPage([channel], [], { rateLimited: 0 })).not.toContain('to no message');
  });
});
