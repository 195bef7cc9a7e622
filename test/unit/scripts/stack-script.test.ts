/**
 * scripts/stack.sh on paper and in a sandbox: the fresh-machine failures (issue 15) were commands that
 * fail inside a pipeline or a command substitution under `set -euo pipefail`, which end the script
 * without a word. Nothing here needs the stack: the error trap runs in a throw-away script, and the
 * prerequisite check runs with a PATH that lacks what it must name (it starts nothing).
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const errorsScript = join(root, 'scripts/stack/errors.sh');
const dirs: string[] = [];
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'stack-script-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function runBash(script: string, env: NodeJS.ProcessEnv = process.env) {
  const dir = tempDir();
  const file = join(dir, 'script.sh');
  writeFileSync(file, script);
  return spawnSync('bash', [file], { encoding: 'utf8', env });
}

describe('scripts/stack/errors.sh: no failure path ends the script silently', () => {
  it('names the line, the function, the command and the log of a failing pipeline in one line', () => {
    const result = runBash(`set -euo pipefail
LOGS=/var/log/nowhere
source ${JSON.stringify(errorsScript)}
log_of() { printf '%s.log' "$1"; }
topic_up() {
  local current
  current="$(false | sed -n p | head -n1)"
  echo "not reached: $current"
}
topic_up
`);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).toEqual([
      '[stack] ERROR: line 7 (topic_up): `current="$(false | sed -n p | head -n1)"` exited 1; see topic_up.log',
    ]);
  });

  it('keeps the status of the failing command and reports a failure outside functions too', () => {
    const result = runBash(`set -euo pipefail
LOGS=/var/log/nowhere
ERR_PREFIX='[registry]'
source ${JSON.stringify(errorsScript)}
sh -c 'exit 3'
`);
    expect(result.status).toBe(3);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(
      /^\[registry\] ERROR: line 5 \(main\): `sh -c 'exit 3'` exited 3; see \/var\/log\/nowhere\n$/,
    );
  });

  it('stays silent where a failure is handled (conditions, || lists, tolerated substitutions)', () => {
    const result = runBash(`set -euo pipefail
source ${JSON.stringify(errorsScript)}
probe() { false | cat; }
if probe; then echo yes; else echo no; fi
described="$(false)" || true
probe || echo handled
echo "done:$described"
`);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('no\nhandled\ndone:\n');
    expect(result.status).toBe(0);
  });

  it('is installed by both stack scripts', () => {
    for (const script of ['scripts/stack.sh', 'scripts/registry.sh']) {
      expect(readFileSync(join(root, script), 'utf8')).toMatch(/^source ".*errors\.sh"$/m);
    }
  });
});

describe('scripts/stack.sh prerequisites', () => {
  /** A PATH of links to the machine's tools, leaving out `without`. */
  function pathWithout(without: string[]): string {
    const bin = tempDir();
    const tools = [
      'bash',
      'jq',
      'sed',
      'awk',
      'cat',
      'dirname',
      'mkdir',
      'ss',
      'ps',
      'cut',
      'flock',
      'head',
      'printf',
      'curl',
      'openssl',
      'setsid',
      'runuser',
      'psql',
      'mariadb',
      'mariadb-admin',
      'redis-cli',
      'redis-server',
      'id',
      'java',
      'mvn',
      'mariadb-install-db',
    ];
    for (const tool of tools) {
      if (without.includes(tool)) continue;
      const found = spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
      if (found !== '') symlinkSync(found, join(bin, tool));
    }
    return bin;
  }

  it('names every missing prerequisite in one line before anything starts', () => {
    const state = join(tempDir(), 'state');
    const result = spawnSync('bash', [join(root, 'scripts/stack.sh'), 'up'], {
      encoding: 'utf8',
      env: { ...process.env, PATH: pathWithout(['java', 'mvn']), LISTING_NOTIFIER_STACK_DIR: state },
    });
    expect(result.status).toBe(1);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^\[stack\] ERROR: missing prerequisites: java \(apt-get install openjdk-17-jdk-headless/,
    );
    expect(lines[0]).toContain('mvn (apt-get install maven');
    // Nothing was started or laid out: only the lock `up` takes first.
    expect(existsSync(join(state, 'logs'))).toBe(false);
    expect(existsSync(join(state, 'pg'))).toBe(false);
  });

  it('passes the check itself on this machine (preflight starts nothing)', () => {
    const state = join(tempDir(), 'state');
    mkdirSync(state);
    const result = spawnSync('bash', [join(root, 'scripts/stack.sh'), 'preflight'], {
      encoding: 'utf8',
      env: { ...process.env, LISTING_NOTIFIER_STACK_DIR: state },
    });
    // Either all found and the ports free, or (a stack of another state directory runs here) a
    // one-line refusal that names the ports: never a missing prerequisite on the project's machine.
    expect(result.stderr).not.toContain('missing prerequisites');
    if (result.status === 0) expect(result.stdout).toContain('[stack] preflight: prerequisites found');
    else expect(result.stderr).toMatch(/^\[stack\] ERROR: another stack or service holds the ports[^\n]*\n$/);
  });
});
