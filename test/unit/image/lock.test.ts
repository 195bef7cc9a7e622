/**
 * `npm ci` refuses a lock file that lacks an entry for any optional dependency of any package, even one
 * for another platform ("Missing: @biomejs/cli-darwin-arm64@2.6.8 from lock file"): the image build
 * (`npm ci --omit=dev`) failed on exactly that. These checks fail before the image build would.
 * https://docs.npmjs.com/cli/commands/npm-ci
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

interface LockEntry {
  version?: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}
const root = new URL('../../../', import.meta.url);
const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8')) as {
  lockfileVersion: number;
  packages: Record<string, LockEntry>;
};
const manifest = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as LockEntry;

/** Node's lookup: <dir>/node_modules/<name>, then each enclosing node_modules, up to the root. */
function resolve(from: string, name: string): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = `${dir === '' ? '' : `${dir}/`}node_modules/${name}`;
    if (lock.packages[candidate]) return candidate;
    if (dir === '') return undefined;
    const cut = dir.lastIndexOf('/node_modules/');
    dir = cut < 0 ? '' : dir.slice(0, cut);
  }
}

describe('package-lock.json', () => {
  it('is a v3 lock whose root entry matches package.json', () => {
    expect(lock.lockfileVersion).toBe(3);
    const top = lock.packages[''];
    expect(top?.dependencies).toEqual(manifest.dependencies);
    expect(top?.devDependencies).toEqual(manifest.devDependencies);
  });

  it("holds every package's optional dependencies, other platforms' binaries included", () => {
    const missing: string[] = [];
    let optional = 0;
    for (const [path, entry] of Object.entries(lock.packages)) {
      for (const name of Object.keys(entry.optionalDependencies ?? {})) {
        optional += 1;
        if (!resolve(path, name)) missing.push(`${path || '(root)'} -> ${name}`);
      }
    }
    expect(optional).toBeGreaterThan(0);
    expect(missing).toEqual([]);
  });

  it('resolves every dependency of every package', () => {
    const missing: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      if (path !== '' && !path.includes('node_modules/')) continue; // workspace links, none today
      for (const name of Object.keys({
        ...entry.dependencies,
        ...(path === '' ? entry.devDependencies : {}),
      }))
        if (!resolve(path, name)) missing.push(`${path || '(root)'} -> ${name}`);
    }
    expect(missing).toEqual([]);
  });
});
