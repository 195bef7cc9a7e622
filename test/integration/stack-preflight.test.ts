/**
 * `scripts/stack.sh preflight` (what .ci/run calls before anything else on CI): with the stack of
 * another state directory running on the stack's ports, a stack of a fresh state directory is refused
 * in one line that names the ports, instead of mixing with it (issue 15); the running stack's own state
 * directory passes.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { readVersionsEnv } from '../support/stack.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const fresh = mkdtempSync(join(tmpdir(), 'preflight-'));
afterAll(() => rmSync(fresh, { recursive: true, force: true }));

const preflight = (stateDir: string) =>
  spawnSync('bash', [join(root, 'scripts/stack.sh'), 'preflight'], {
    encoding: 'utf8',
    env: { ...process.env, LISTING_NOTIFIER_STACK_DIR: stateDir },
  });

describe('scripts/stack.sh preflight beside a running stack', () => {
  it('refuses a fresh state directory in one line naming the held ports', () => {
    const versions = readVersionsEnv();
    const result = preflight(join(fresh, 'state'));
    if (inject('stack').source === 'env') {
      // A stack from the environment may be elsewhere: the ports here may be free. One line either way.
      expect(`${result.stdout}${result.stderr}`.trimEnd().split('\n')).toHaveLength(1);
      return;
    }
    expect(result.status).toBe(1);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^\[stack\] ERROR: another stack or service holds the ports, not one started from /,
    );
    expect(lines[0]).toContain(`${versions.KAFKA_PORT} Kafka`);
    expect(lines[0]).toContain(`${versions.POSTGRES_PORT} PostgreSQL`);
  });

  it("passes the running native stack's own state directory", () => {
    const stack = inject('stack');
    // Only the native stack has a state directory; containers or a stack from the environment hold
    // the ports with processes no state directory started, which the first test covers.
    if (stack.source !== 'native') return;
    const own = process.env.LISTING_NOTIFIER_STACK_DIR ?? join(homedir(), '.local/state/listing-notifier');
    const result = preflight(own);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
