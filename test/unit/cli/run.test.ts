import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { exitCodes, parseRunArgs, run, startExitCode } from '../../../src/cli/run.ts';
import { NotifierError } from '../../../src/domain/errors.ts';

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
  it('answers --help with the exit codes, exit 0', async () => {
    expect(parseRunArgs(['--help'])).toEqual({ help: true });
    const { io, out } = captureIo();
    await expect(run(['--help'], io, {})).resolves.toBe(0);
    const help = out.join('\n');
    expect(help).toContain('usage: listing-notifier run --config FILE');
    for (const code of Object.values(exitCodes)) expect(help).toMatch(new RegExp(`^  ${code}  `, 'm'));
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

describe('run command exit codes', () => {
  it('gives each startup failure its own code', () => {
    const coded = (code: ConstructorParameters<typeof NotifierError>[0]) =>
      startExitCode(new NotifierError(code, 'x'));
    expect(coded('KAFKA_AUTH')).toBe(3);
    expect(coded('KAFKA_TLS')).toBe(4);
    expect(coded('REGISTRY_UNAVAILABLE')).toBe(5);
    expect(coded('REGISTRY_AUTH')).toBe(5);
    expect(coded('CONFIG_INVALID')).toBe(2);
    expect(coded('SLACK_AUTH')).toBe(1);
    expect(startExitCode(new Error('broker unreachable'))).toBe(1);
  });

  it('exits 2 naming the path and the variable when a Kafka password is not set', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ln-run-'));
    try {
      const file = join(dir, 'sasl.yaml');
      await writeFile(
        file,
        'source:\n  sasl: { mechanism: scram-sha-512, username: svc, passwordEnv: KAFKA_PW }\n',
      );
      const { io, err } = captureIo();
      await expect(run(['--config', file], io, { SLACK_BOT_TOKEN: 'xoxb-1' })).resolves.toBe(2);
      expect(err.join('\n')).toContain('source.sasl.passwordEnv: KAFKA_PW is not set');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
