import { describe, expect, it } from 'vitest';
import { blockHtml, mrkdwnToHtml, previewPage } from '../../../../tools/slack-standin/preview.ts';

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
