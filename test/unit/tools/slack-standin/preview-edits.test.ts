import { describe, expect, it } from 'vitest';
import { type PreviewMessage, previewPage } from '../../../../tools/slack-standin/preview.ts';

// The preview page's edits (chat.update), a person's messages (POST /_standin/say) and ephemeral
// answers to clicks. Pure.
const channel = { id: 'C0INVENTWRN', name: 'inventory-warnings', archived: false, member: true };
const at = Date.UTC(2026, 0, 1, 9, 0, 0);

const message = (overrides: Partial<PreviewMessage> = {}): PreviewMessage => ({
  channel: channel.id,
  ts: '1767258000.000001',
  text: 'Stock is low: 3 left',
  blocks: [],
  receivedAt: at,
  ...overrides,
});

describe('previewPage: edits', () => {
  it('marks nothing on a message never edited', () => {
    const html = previewPage([channel], [message()], { rateLimited: 0 });
    expect(html).not.toContain('(edited)');
    expect(html).not.toContain('class="history"');
  });

  it('shows the new version with "(edited)" and the edit time, and the replaced versions collapsed, oldest first', () => {
    const edited = message({
      text: 'Stock recovered: 20',
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: '~Stock is low: 3 left~ *Stock recovered: 20*' } },
      ],
      editedAt: at + 2 * 3600_000,
      history: [
        { text: 'Stock is low: 3 left', blocks: [], since: at },
        { text: 'Stock is low: 1 left', blocks: [], since: at + 3600_000 },
      ],
    });
    const html = previewPage([channel], [edited], { rateLimited: 0 });
    expect(html).toContain('<s>Stock is low: 3 left</s> <b>Stock recovered: 20</b>');
    expect(html).toContain('<span class="edited" title="edited 11:00:00 UTC">(edited)</span>');
    expect(html).toContain('<summary>2 earlier versions</summary>');
    const history = html.slice(html.indexOf('<details'));
    expect(history.indexOf('shown from 09:00:00 UTC')).toBeLessThan(
      history.indexOf('shown from 10:00:00 UTC'),
    );
    expect(history.indexOf('3 left')).toBeLessThan(history.indexOf('1 left'));
  });

  it("keeps hostile values escaped in earlier versions and in a person's user id", () => {
    const edited = message({
      text: 'fine now',
      editedAt: at + 1000,
      history: [{ text: '<!channel> &lt;img src=x onerror=alert(1)&gt;', blocks: [], since: at }],
    });
    const said = message({ ts: '1767258000.000002', text: 'ok', user: 'U0"><script>alert(1)</script>' });
    const html = previewPage([channel], [edited, said], { rateLimited: 0 });
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<script>');
    expect(html).toContain('<span class="mention">@channel</span>');
    expect(html).toContain('<b>U0&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;</b>');
  });
});

describe('previewPage: ephemeral answers', () => {
  it('shows one in its channel, marked as visible to the clicker only, hostile text escaped', () => {
    const ephemeral = [
      { user: 'U0ALICE', channel: channel.id, text: 'Muted <!here> &lt;b&gt;', blocks: [], receivedAt: at },
      { user: 'U0BOB', channel: 'C0ELSEWHERE', text: 'not here', blocks: [], receivedAt: at },
    ];
    const html = previewPage([channel], [message()], { rateLimited: 0, ephemeral });
    expect(html).toContain('<span class="only">Only visible to U0ALICE</span>');
    expect(html).toContain('Muted <span class="mention">@here</span> &lt;b&gt;');
    expect(html).not.toContain('not here');
  });
});
