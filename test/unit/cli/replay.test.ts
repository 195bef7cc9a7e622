import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseReplayArgs, run } from '../../../src/cli/replay.ts';
import { captureIo } from './support.ts';

describe('replay command arguments', () => {
  it('accepts each target, repeated --topic and --dry-run', () => {
    expect(parseReplayArgs(['--config', 'a.yaml', '--to-earliest'])).toEqual({
      config: 'a.yaml',
      target: { kind: 'earliest' },
      topics: undefined,
      dryRun: false,
    });
    expect(
      parseReplayArgs(['-c', 'a.yaml', '--to-latest', '--topic', 't1', '--topic=t2', '--dry-run']),
    ).toEqual({
      config: 'a.yaml',
      target: { kind: 'latest' },
      topics: ['t1', 't2'],
      dryRun: true,
    });
    expect(parseReplayArgs(['--config=a.yaml', '--to-datetime', '2025-01-31T09:00:00Z'])).toMatchObject({
      target: { kind: 'datetime', ms: Date.UTC(2025, 0, 31, 9) },
    });
    expect(parseReplayArgs(['--config=a.yaml', '--by-duration', '1h30m'])).toMatchObject({
      target: { kind: 'duration', ms: 90 * 60_000, text: '1h30m' },
    });
  });

  it.each([
    [[], '--config: missing FILE'],
    [
      ['--config', 'a.yaml'],
      'missing target: give one of --to-datetime, --to-earliest, --to-latest, --by-duration',
    ],
    [['--config', 'a.yaml', '--to-earliest', '--to-latest'], 'give only one of'],
    [['--config', 'a.yaml', '--to-earliest', '--by-duration', '1h'], 'got --to-earliest and --by-duration'],
    [['--config', 'a.yaml', '--to-datetime', '2025-01-31 09:00'], '--to-datetime: expected an ISO 8601'],
    [['--config', 'a.yaml', '--to-datetime', '2025-01-31T09:00:00'], 'got "2025-01-31T09:00:00"'],
    [
      ['--config', 'a.yaml', '--by-duration', '90x'],
      '--by-duration: expected a positive duration like 1h30m',
    ],
    [['--config', 'a.yaml', '--by-duration', '0s'], 'got "0s"'],
    [['--config', 'a.yaml', '--to-latest', '--topic', ''], '--topic: expected a topic name, got ""'],
    [['--config', 'a.yaml', '--to-latest', '--fast'], "Unknown option '--fast'"],
    [['--config', 'a.yaml', '--to-latest', 'extra'], "Unexpected argument 'extra'"],
    [['--config', 'a.yaml', '--to-datetime'], "Option '--to-datetime <value>' argument missing"],
  ])('rejects %j naming the flag and the value', (argv, message) => {
    const result = parseReplayArgs(argv);
    expect(result).toHaveProperty('error');
    expect((result as { error: string }).error).toContain(message);
  });
});

describe('replay command before connecting', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('exits 2 with the usage on bad arguments', async () => {
    const io = captureIo();
    await expect(run(['--config', 'a.yaml', '--by-duration', 'soon'], io, {})).resolves.toBe(2);
    expect(io.err.join('\n')).toContain('--by-duration: expected a positive duration like 1h30m');
    expect(io.err.join('\n')).toContain('usage: listing-notifier replay --config FILE');
    expect(io.out).toEqual([]);
  });

  it('exits 2 naming the path and value of an invalid config', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ln-replay-'));
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'source:\n  groupId: ""\n');
    const io = captureIo();
    await expect(run(['--config', file, '--to-latest'], io, {})).resolves.toBe(2);
    expect(io.err.join('\n')).toContain('source.groupId');
  });

  it('exits 2 on a bad KAFKA_BROKERS override', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ln-replay-'));
    const file = join(dir, 'ok.yaml');
    await writeFile(file, 'rules: []\n');
    const io = captureIo();
    await expect(run(['--config', file, '--to-latest'], io, { KAFKA_BROKERS: 'not a broker' })).resolves.toBe(
      2,
    );
    expect(io.err.join('\n')).toContain('KAFKA_BROKERS: expected host:port');
  });
});
