import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/index.ts';
import { parseRenderArgs } from '../../../src/cli/render.ts';
import { checkPayload } from '../../../src/pipeline/block-limits.ts';
import {
  FIXTURES_DIR,
  fixtureCases,
  jsonText,
  loadFixture,
  makePayload,
  makeRow,
} from '../../support/records.ts';
import { captureIo } from './support.ts';

const ROOT = new URL('../../../', import.meta.url).pathname;
const CONFIG = join(ROOT, 'config/listing-notifier.yaml');

interface Line {
  source: string;
  outcome: 'notify' | 'dropped' | 'dead-letter';
  reason: string;
  messages: {
    channel: string;
    payload: { text: string; blocks: { type: string; text?: { text: string } }[] };
  }[];
}

const parse = (out: string[]): Line[] => out.map((line) => JSON.parse(line) as Line);

/** Every value file of every captured case. */
const valueFiles = fixtureCases().flatMap((name) =>
  loadFixture(name)
    .meta.records.map((r) => r.valueFile)
    .filter((f): f is string => f !== null)
    .map((f) => join(FIXTURES_DIR, name, f)),
);

describe('render over every captured fixture value file', () => {
  it('prints one line per file with the outcome a sales or support person expects; exit 0', async () => {
    const io = captureIo();
    expect(await main(['render', '--config', CONFIG, ...valueFiles], io)).toBe(0);
    expect(io.err).toEqual([]);
    const lines = parse(io.out);
    expect(lines.map((l) => l.source)).toEqual(valueFiles);
    const seen = Object.fromEntries(
      lines.map((l) => [
        l.source.slice(FIXTURES_DIR.length),
        [l.outcome, l.messages.map((m) => `${m.channel}: ${m.payload.blocks[1]?.text?.text}`)],
      ]),
    );
    const priceUp = ['notify', ['#sales-alerts: Price changed from €199.99 to €1,234,567.89 (+617214.8%)']];
    expect(seen).toEqual({
      'decimal-double/01.value.json': priceUp,
      'decimal-precise/01.value.json': priceUp,
      'decimal-string/01.value.json': priceUp,
      'delete/01.value.json': [
        'notify',
        ['#support-heads-up: Listing deleted', '#marketing-updates: Listing deleted'],
      ],
      'insert/01.value.json': ['dropped', []],
      'primary-key-change/01.value.json': ['dropped', []],
      'primary-key-change/03.value.json': ['dropped', []],
      'replica-identity-default/01.value.json': [
        'notify',
        [
          '#sales-alerts: Price is now €1,099.00 (previous value unknown)',
          // previousUnknown: notify warns of stock below its low mark (issue 9, finding 3).
          '#inventory-warnings: Stock ran out: 0 left (previous value unknown)',
        ],
      ],
      'schemas-disabled/01.value.json': priceUp,
      'snapshot-read/01.value.json': ['dropped', []],
      'snapshot-read/02.value.json': ['dropped', []],
      'update-description/01.value.json': ['dropped', []],
      'update-internal-only/01.value.json': ['dropped', []],
      'update-no-op/01.value.json': ['dropped', []],
      'update-price/01.value.json': [
        'notify',
        ['#sales-alerts: Price changed from €249.00 to €199.99 (-19.7%)'],
      ],
      'update-status/01.value.json': [
        'notify',
        ['#inventory-warnings: Status changed from Active to Sold out'],
      ],
      'update-stock/01.value.json': ['notify', ['#inventory-warnings: Stock ran out: 0 left (was 12)']],
      'update-title/01.value.json': ['dropped', []],
      'update-updated-at-only/01.value.json': ['dropped', []],
    });
    for (const line of lines) {
      expect(Object.keys(line)).toEqual(['source', 'outcome', 'reason', 'messages']);
      expect(line.reason).not.toBe('');
      for (const m of line.messages)
        expect(checkPayload(m.payload as never, { forbidMarkup: true })).toEqual([]);
    }
  });
});

describe('render', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ln-render-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, content: string | Buffer) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  it('renders a hand-written event, and reports junk and empty files as outcomes (exit 0)', async () => {
    const price = write('price.json', jsonText(makePayload({ after: makeRow({ prc_amt: 'raw:17.99' }) })));
    const junk = write('junk.json', '{not json');
    const empty = write('empty.json', '');
    const io = captureIo();
    expect(await main(['render', '-c', CONFIG, price, junk, empty], io)).toBe(0);
    const [a, b, c] = parse(io.out);
    expect(a).toMatchObject({
      source: price,
      outcome: 'notify',
      reason: 'notify: price decreased -> sales-alerts',
    });
    expect(a?.messages[0]?.payload.text).toBe(
      'Ergonomic Office Chair, Mesh Back (#1): Price changed from €19.99 to €17.99 (-10%)',
    );
    expect(b).toMatchObject({ source: junk, outcome: 'dead-letter', messages: [] });
    expect(b?.reason).toMatch(/^DECODE_FAILED: /);
    expect(c).toEqual({
      source: empty,
      outcome: 'dropped',
      reason: 'tombstone: delete marker for log compaction',
      messages: [],
    });
  });

  it('without the fixture folder beside it, a value file is judged on its value alone', async () => {
    const copy = write('01.value.json', readFileSync(join(FIXTURES_DIR, 'primary-key-change/01.value.json')));
    const io = captureIo();
    expect(await main(['render', '--config', CONFIG, copy], io)).toBe(0);
    expect(parse(io.out)[0]?.reason).toBe(
      'notify: listing deleted -> support-heads-up; listing deleted -> marketing-updates',
    );
  });

  it('exits 2 for a broken config, with the problems', async () => {
    const config = write('bad.yaml', 'timeZone: Mars/Olympus\n');
    const io = captureIo();
    expect(await main(['render', '--config', config, valueFiles[0] ?? ''], io)).toBe(2);
    expect(io.out).toEqual([]);
    expect(io.err).toEqual([
      `${config}: invalid configuration (listing-notifier check-config ${config})`,
      'timeZone: unknown IANA time zone, got "Mars/Olympus"',
    ]);
  });

  it.each([
    [[], 'missing --config FILE'],
    [['--config', 'x.yaml'], 'missing EVENT file(s)'],
    [['--config', 'x.yaml', '--registry', 'not a url', 'e.json'], '--registry: not a URL: not a url'],
    [['--bogus'], "Unknown option '--bogus'"],
  ])('exits 2 on usage errors: %j', async (args, message) => {
    const io = captureIo();
    expect(await main(['render', ...args], io)).toBe(2);
    expect(io.err.join('\n')).toContain(message);
  });

  it('exits 2 when an EVENT file cannot be read, still rendering the others', async () => {
    const io = captureIo();
    const missing = join(dir, 'missing.json');
    expect(await main(['render', '--config', CONFIG, missing, valueFiles[0] ?? ''], io)).toBe(2);
    expect(io.err[0]).toMatch(/missing\.json: cannot read: ENOENT/);
    expect(io.out).toHaveLength(1);
  });

  it('exits 1 when the registry is unavailable (not an outcome)', async () => {
    const framed = write('framed.bin', Buffer.concat([Buffer.from([0, 0, 0, 0, 7]), Buffer.from([2, 4])]));
    const io = captureIo();
    // Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    expect(await main(['render', '--config', CONFIG, '--registry', 'http://127.0.0.1:9', framed], io)).toBe(
      1,
    );
    expect(io.err[0]).toMatch(/framed\.bin: REGISTRY_UNAVAILABLE: /);
  });

  it('parses its arguments with parseArgs', () => {
    expect(parseRenderArgs(['--config', 'c.yaml', '--registry', 'http://r:8081', 'a', 'b'])).toEqual({
      config: 'c.yaml',
      registry: 'http://r:8081',
      events: ['a', 'b'],
    });
    expect(parseRenderArgs(['-h'])).toEqual({ help: true });
  });

  it('works as a real process (bin/listing-notifier.js)', () => {
    const file = join(FIXTURES_DIR, 'update-price/01.value.json');
    const child = spawnSync(
      process.execPath,
      [join(ROOT, 'bin/listing-notifier.js'), 'render', '--config', CONFIG, file],
      {
        encoding: 'utf8',
      },
    );
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    const lines = child.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({
      source: file,
      outcome: 'notify',
      messages: [
        {
          channel: '#sales-alerts',
          payload: {
            text: 'Ergonomic Office Chair, Mesh Back (#900001): Price changed from €249.00 to €199.99 (-19.7%)',
          },
        },
      ],
    });
  });
});
