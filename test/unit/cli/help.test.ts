/**
 * Every command answers --help (and -h) on stdout with exit 0, whatever else is on the line; the
 * help names the command's exit codes. Regression: `run --help` and `replay --help` exited 2 with
 * "unknown argument" (issue 8).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main, wantsHelp } from '../../../src/cli/index.ts';
import { captureIo } from './support.ts';

const ROOT = new URL('../../../', import.meta.url).pathname;
const commands = ['run', 'replay', 'check-config', 'render', 'dlq', 'explain', 'store', 'mute'];

describe('--help', () => {
  it.each(commands)('%s --help prints its usage and exit codes, exit 0', async (command) => {
    for (const args of [['--help'], ['-h'], ['--config', 'x.yaml', '--bogus', '--help']]) {
      const io = captureIo();
      expect(await main([command, ...args], io)).toBe(0);
      expect(io.err).toEqual([]);
      const text = io.out.join('\n');
      expect(text).toMatch(new RegExp(`^usage: listing-notifier ${command}`));
      expect(text).toContain('Exit codes:');
      expect(text).toMatch(/^ {2}0 {2}/m);
      expect(text).toMatch(/^ {2}2 {2}/m);
    }
  });

  it('lists every command with the shared exit codes', async () => {
    const io = captureIo();
    expect(await main(['--help'], io)).toBe(0);
    for (const command of commands) expect(io.out.join('\n')).toContain(`  ${command} `);
    expect(io.out.join('\n')).toContain('Exit codes: 0 ok; 2 bad usage or configuration; 1 Kafka');
    expect(await main([], captureIo())).toBe(2);
  });

  it('takes only options before "--" as a request for help', () => {
    expect(wantsHelp(['a', '-h'])).toBe(true);
    expect(wantsHelp(['--', '--help'])).toBe(false);
  });

  it('works as a real process: run --help and replay --help exit 0 (bin/listing-notifier.js)', () => {
    for (const command of ['run', 'replay']) {
      const result = spawnSync(process.execPath, [join(ROOT, 'bin/listing-notifier.js'), command, '--help'], {
        encoding: 'utf8',
      });
      expect([result.status, result.stderr]).toEqual([0, '']);
      expect(result.stdout).toContain(`usage: listing-notifier ${command}`);
    }
  });
});
