import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRunArgs, run } from '../../../src/cli/run.ts';

const captureIo = () => {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { stdout: (l: string) => out.push(l), stderr: (l: string) => err.push(l) }, out, err };
};

describe('run command arguments', () => {
  it('accepts --config FILE, -c FILE and --config=FILE', () => {
    expect(parseRunArgs(['--config', 'a.yaml'])).toEqual({ config: 'a.yaml' });
    expect(parseRunArgs(['-c', 'a.yaml'])).toEqual({ config: 'a.yaml' });
    expect(parseRunArgs(['--config=a.yaml'])).toEqual({ config: 'a.yaml' });
  });
  it('rejects a missing config and unknown arguments', () => {
    expect(parseRunArgs([])).toEqual({ error: 'missing --config FILE' });
    expect(parseRunArgs(['--config', 'a.yaml', '--fast'])).toEqual({ error: 'unknown argument: --fast' });
  });
});

describe('run command before starting', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('exits 2 with usage on bad arguments', async () => {
    const { io, err } = captureIo();
    await expect(run([], io, {})).resolves.toBe(2);
    expect(err.join('\n')).toContain('usage: listing-notifier run --config FILE');
  });

  it('exits 2 naming the file and path of an invalid config', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ln-run-'));
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'http:\n  port: "nine"\n');
    const { io, err } = captureIo();
    await expect(run(['--config', file], io, { SLACK_BOT_TOKEN: 'xoxb-1' })).resolves.toBe(2);
    expect(err.join('\n')).toContain('http.port');
  });

  it('exits 2 when the token variable is not set, naming it', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ln-run-'));
    const file = join(dir, 'ok.yaml');
    await writeFile(file, 'slack:\n  tokenEnv: NOTIFIER_TOKEN\n');
    const { io, err } = captureIo();
    await expect(run(['--config', file], io, {})).resolves.toBe(2);
    expect(err.join('\n')).toMatch(/^NOTIFIER_TOKEN is not set/);
  });
});
