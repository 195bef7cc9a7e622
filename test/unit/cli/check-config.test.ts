import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/index.ts';
import { captureIo } from './support.ts';

const ROOT = new URL('../../../', import.meta.url).pathname;
const EXAMPLE = join(ROOT, 'config/listing-notifier.yaml');

describe('check-config', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ln-check-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const file = (text: string) => {
    const path = join(dir, 'rules.yaml');
    writeFileSync(path, text);
    return path;
  };

  it('exits 0 and says ok for the example file', async () => {
    const io = captureIo();
    expect(await main(['check-config', EXAMPLE], io)).toBe(0);
    expect(io.out).toEqual([`ok: ${EXAMPLE}`]);
    expect(io.err).toEqual([]);
  });

  it('exits 2 with one path-precise problem per line', async () => {
    const io = captureIo();
    const path = file('timeZone: Mars/Olympus\nrules:\n  - match: { field: cost }\n    channels: [sales]\n');
    expect(await main(['check-config', path], io)).toBe(2);
    expect(io.out).toEqual([]);
    expect(io.err).toEqual([
      'timeZone: unknown IANA time zone, got "Mars/Olympus"',
      'rules[0].match.field[0]: unknown field, expected one of price, status, stock, description, got "cost"',
      'rules[0].channels[0]: unknown channel, expected one of sales-alerts, inventory-warnings, support-heads-up, marketing-updates, got "sales"',
    ]);
  });

  it('reports YAML syntax errors with line and column', async () => {
    const io = captureIo();
    const path = file('fields:\n  price: [\n');
    expect(await main(['check-config', path], io)).toBe(2);
    expect(io.err).toHaveLength(1);
    expect(io.err[0]).toMatch(new RegExp(`^${path}:\\d+:\\d+: `));
  });

  it.each([
    [[], 'missing FILE'],
    [['a.yaml', 'b.yaml'], 'give exactly one FILE'],
    [['--frobnicate', 'a.yaml'], "Unknown option '--frobnicate'"],
  ])('exits 2 on usage errors: %j', async (args, message) => {
    const io = captureIo();
    expect(await main(['check-config', ...args], io)).toBe(2);
    expect(io.err.join('\n')).toContain(message);
    expect(io.err.join('\n')).toContain('usage: listing-notifier check-config FILE');
  });

  it('exits 2 when the file cannot be read', async () => {
    const io = captureIo();
    expect(await main(['check-config', join(dir, 'missing.yaml')], io)).toBe(2);
    expect(io.err[0]).toMatch(/missing\.yaml: cannot read: ENOENT/);
  });

  it('works as a real process (bin/listing-notifier.js)', () => {
    const bad = file('http: { port: 99999 }\n');
    const ok = spawnSync(process.execPath, [join(ROOT, 'bin/listing-notifier.js'), 'check-config', EXAMPLE], {
      encoding: 'utf8',
    });
    expect([ok.status, ok.stdout, ok.stderr]).toEqual([0, `ok: ${EXAMPLE}\n`, '']);
    const failed = spawnSync(process.execPath, [join(ROOT, 'bin/listing-notifier.js'), 'check-config', bad], {
      encoding: 'utf8',
    });
    expect([failed.status, failed.stdout, failed.stderr]).toEqual([
      2,
      '',
      'http.port: expected <= 65535, got 99999\n',
    ]);
  });
});
