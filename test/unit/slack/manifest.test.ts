import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isMap, isScalar, isSeq, parse, parseDocument } from 'yaml';

const manifestUrl = new URL('../../../slack/manifest.yaml', import.meta.url);
const manifestText = readFileSync(manifestUrl, 'utf8');
const srcDir = fileURLToPath(new URL('../../../src/', import.meta.url));

/**
 * The bot scope each Slack Web API method needs (https://docs.slack.dev/reference/methods/<method>,
 * "Required scopes"); null: none. A method the service calls and this table lacks fails the test,
 * so a new call cannot slip in without its scope being decided here and in the manifest.
 */
const scopeOf: Record<string, string | null> = {
  'auth.test': null,
  'chat.postMessage': 'chat:write',
  'chat.update': 'chat:write',
  'files.getUploadURLExternal': 'files:write',
  'files.completeUploadExternal': 'files:write',
};

/** Methods issue 17's features will call that nothing in src/ calls yet. */
const plannedMethods = ['chat.update'];

/** Every `client.<family>.<method>(` call under src/ (the @slack/web-api WebClient). */
function calledMethods(): string[] {
  const found = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) {
        for (const m of readFileSync(path, 'utf8').matchAll(/\bclient\.(\w+)\.(\w+)\(/g)) {
          found.add(`${m[1]}.${m[2]}`);
        }
      }
    }
  };
  walk(srcDir);
  return [...found].sort();
}

interface Manifest {
  _metadata: { major_version: number };
  display_information: { name: string };
  features: { bot_user: { display_name: string } };
  oauth_config: { scopes: { bot: string[]; user?: string[] } };
  settings: { interactivity: { is_enabled: boolean; request_url: string }; socket_mode_enabled: boolean };
}

describe('slack/manifest.yaml', () => {
  const manifest = parse(manifestText) as Manifest;

  it('asks for exactly the bot scopes of the methods the service calls, and no user scopes', () => {
    const methods = calledMethods();
    expect(methods).toEqual(
      expect.arrayContaining(['auth.test', 'chat.postMessage', 'files.completeUploadExternal']),
    );
    const unknown = [...methods, ...plannedMethods].filter((m) => !(m in scopeOf));
    expect(unknown, 'add the method and its scope to scopeOf (and the manifest)').toEqual([]);
    const needed = [...new Set([...methods, ...plannedMethods].map((m) => scopeOf[m]))]
      .filter((s): s is string => s !== null && s !== undefined)
      .sort();
    expect(needed).toEqual(['chat:write', 'files:write']);
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual(needed);
    expect(manifest.oauth_config.scopes.user).toBeUndefined();
  });

  it('says, per scope, which calls need it', () => {
    const doc = parseDocument(manifestText);
    const bot = doc.getIn(['oauth_config', 'scopes', 'bot'], true);
    if (!isSeq(bot)) throw new Error('oauth_config.scopes.bot is not a list');
    bot.items.forEach((item, i) => {
      if (!isScalar(item)) throw new Error('a scope is not a string');
      // The yaml package hangs the first item's comment on the list itself.
      const comment = (i === 0 ? (item.commentBefore ?? bot.commentBefore) : item.commentBefore) ?? '';
      const methods = Object.keys(scopeOf).filter((m) => scopeOf[m] === item.value);
      expect(methods.length, String(item.value)).toBeGreaterThan(0);
      for (const method of methods)
        expect(comment, `${String(item.value)} names ${method}`).toContain(method);
    });
  });

  it('turns interactivity on with an https request URL, over HTTP (not Socket Mode)', () => {
    expect(manifest._metadata.major_version).toBe(2);
    expect(manifest.display_information.name).toBe('listing-notifier');
    expect(manifest.features.bot_user.display_name).toBe('listing-notifier');
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    expect(new URL(manifest.settings.interactivity.request_url).protocol).toBe('https:');
    expect(manifest.settings.socket_mode_enabled).toBe(false);
    expect(isMap(parseDocument(manifestText).contents)).toBe(true);
  });
});
