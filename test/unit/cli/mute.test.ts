/**
 * `listing-notifier mute list|add|remove` (src/cli/mute.ts) with the in-process mute store standing in
 * for Redis and the manual clock: arguments refused by name, the one line without a store, text and
 * --json output, removal, and a store failure as exit 1.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createMemoryMuteStore } from '../../../src/adapters/memory-mutes.ts';
import { main } from '../../../src/cli/index.ts';
import { parseMuteArgs, run } from '../../../src/cli/mute.ts';
import { NotifierError } from '../../../src/domain/errors.ts';
import type { MuteStore } from '../../../src/ports/mutes.ts';
import { createManualClock } from '../../support/fakes.ts';
import { captureIo } from './support.ts';

const HOUR = 3_600_000;
const dir = mkdtempSync(join(tmpdir(), 'ln-mute-'));
afterAll(async () => {
  const { rm } = await import('node:fs/promises');
  await rm(dir, { recursive: true, force: true });
});

const rulesFile = (name: string, config: unknown): string => {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(config));
  return file;
};
const withStore = rulesFile('store.json', {
  store: { url: 'redis://127.0.0.1:1' },
  channels: { sales: '#sales', ops: '#ops' },
  rules: [{ name: 'price moved', match: { field: ['price'] }, channels: ['sales'] }],
});
const withoutStore = rulesFile('embedded.json', {});

function setup(store?: MuteStore) {
  const clock = createManualClock(); // 2026-01-01T00:00:00Z
  let n = 0;
  const mutes = store ?? createMemoryMuteStore({ clock, ids: () => `m${++n}` });
  let closed = 0;
  const deps = {
    env: {},
    clock,
    user: () => 'ops-user',
    openMutes: async () => ({
      mutes,
      close: async () => {
        closed += 1;
      },
    }),
  };
  const mute = async (...argv: string[]) => {
    const io = captureIo();
    const code = await run(argv, io, deps);
    return { code, out: io.out, err: io.err };
  };
  return { clock, mutes, mute, closed: () => closed };
}

describe('mute arguments', () => {
  it('parses each subcommand', () => {
    expect(parseMuteArgs(['add', '-c', 'r', '--listing', '42', '--for', '7d', '--by', 'ana'])).toEqual({
      sub: 'add',
      config: 'r',
      listing: '42',
      forMs: 7 * 24 * HOUR,
      by: 'ana',
      json: false,
      ids: [],
    });
    expect(parseMuteArgs(['add', '-c', 'r', '--rule', 'price moved'])).toMatchObject({ forMs: 24 * HOUR });
    expect(parseMuteArgs(['list', '-c', 'r', '--json'])).toMatchObject({ sub: 'list', json: true });
    expect(parseMuteArgs(['remove', '-c', 'r', 'a', 'b'])).toMatchObject({ sub: 'remove', ids: ['a', 'b'] });
  });

  it('refuses bad ones by name', () => {
    expect(parseMuteArgs(['mute', '-c', 'r'])).toEqual({
      error: 'expected the subcommand list, add or remove, got "mute"',
    });
    expect(parseMuteArgs(['add', '--listing', '1'])).toEqual({ error: '--config: missing FILE' });
    expect(parseMuteArgs(['add', '-c', 'r'])).toEqual({
      error: '--listing or --rule: give exactly one (a mute is of a listing or of a rule)',
    });
    expect(parseMuteArgs(['add', '-c', 'r', '--listing', '1', '--rule', 'x'])).toMatchObject({
      error: expect.stringMatching(/^--listing or --rule/),
    });
    expect(parseMuteArgs(['add', '-c', 'r', '--listing', ''])).toEqual({
      error: '--listing: empty (give a value or leave the option out)',
    });
    expect(parseMuteArgs(['list', '-c', 'r', '--for', '1h'])).toEqual({ error: '--for: only with mute add' });
    expect(parseMuteArgs(['remove', '-c', 'r'])).toEqual({
      error: 'mute remove: missing ID (see mute list)',
    });
    expect(parseMuteArgs(['remove', '-c', 'r', 'a', '--listing', '1'])).toEqual({
      error: '--listing: only with mute add or list',
    });
    expect(parseMuteArgs(['list', '-c', 'r', 'stray'])).toMatchObject({
      error: expect.stringMatching(/stray/),
    });
  });

  it('names a bad duration', async () => {
    for (const value of ['24', '1.5h', '1w', '0m']) {
      expect(parseMuteArgs(['add', '-c', 'r', '--listing', '1', '--for', value])).toEqual({
        error: `--for: expected a duration like 30m, 1h, 24h or 7d (a whole number and m, h or d), got ${JSON.stringify(value)}`,
      });
    }
    const { mute, mutes, clock } = setup();
    const result = await mute('add', '-c', withStore, '--listing', '42', '--for', '100d');
    expect(result.code).toBe(2);
    expect(result.err.join('\n')).toMatch(
      /^--for: expected at most 90d, got "100d"\nusage: listing-notifier mute/,
    );
    expect(await mutes.list(clock.now())).toEqual([]);
  });
});

describe('mute', () => {
  it('without a store, says in one line that mutes need the shared store, exit 2', async () => {
    const { mute } = setup();
    const result = await mute('list', '-c', withoutStore);
    expect(result.code).toBe(2);
    expect(result.err).toHaveLength(1);
    expect(result.err[0]).toMatch(/^store\.url: null; mutes need the shared store \(store\.url, Redis\)/);
    expect(result.out).toEqual([]);
  });

  it('adds a listing mute for 24 h by the OS user, and lists it', async () => {
    const { mute, mutes, clock, closed } = setup();
    const added = await mute('add', '-c', withStore, '--listing', '42');
    expect(added).toEqual({
      code: 0,
      out: ['m1  listing 42  until 2026-01-02T00:00:00Z (in 24 h)  by @ops-user'],
      err: [],
    });
    expect(await mutes.list(clock.now())).toEqual([
      { id: 'm1', scope: 'listing', listingId: '42', by: 'ops-user', until: clock.now() + 24 * HOUR },
    ]);
    const listed = await mute('list', '-c', withStore);
    expect(listed).toEqual({
      code: 0,
      out: ['m1  listing 42  until 2026-01-02T00:00:00Z (in 24 h)  by @ops-user'],
      err: ['1 mute(s) in force'],
    });
    expect(closed()).toBe(2);
  });

  it('--json: one object per line, until as ISO time and epoch ms', async () => {
    const { mute, clock } = setup();
    const added = await mute(
      'add',
      '-c',
      withStore,
      '--rule',
      'price moved',
      '--channel',
      'sales',
      '--for',
      '30m',
      '--by',
      'ana',
      '--reason',
      'bulk import',
      '--json',
    );
    const until = clock.now() + 30 * 60_000;
    const expected = {
      scope: 'rule',
      rule: 'price moved',
      by: 'ana',
      until: '2026-01-01T00:30:00Z',
      untilMs: until,
      channel: 'sales',
      reason: 'bulk import',
      id: 'm1',
    };
    expect(added.code).toBe(0);
    expect(added.out.map((l) => JSON.parse(l))).toEqual([expected]);
    const listed = await mute('list', '-c', withStore, '--json');
    expect(listed.out.map((l) => JSON.parse(l))).toEqual([expected]);
    expect(listed.err).toEqual([]);
    const removed = await mute('remove', '-c', withStore, 'm1', 'nope', '--json');
    expect(removed.out.map((l) => JSON.parse(l))).toEqual([
      { id: 'm1', removed: true },
      { id: 'nope', removed: false },
    ]);
    expect(removed.code).toBe(2);
  });

  it('lists only what applies to --listing, --rule or --channel, soonest end first, ended ones never', async () => {
    const { mute, clock } = setup();
    await mute('add', '-c', withStore, '--listing', '42', '--for', '7d');
    await mute('add', '-c', withStore, '--listing', '43', '--channel', 'ops', '--for', '1h');
    await mute('add', '-c', withStore, '--rule', 'price moved', '--for', '2h');
    const ids = async (...filters: string[]) =>
      (await mute('list', '-c', withStore, '--json', ...filters)).out.map((l) => JSON.parse(l).id);
    expect(await ids()).toEqual(['m2', 'm3', 'm1']);
    expect(await ids('--listing', '42')).toEqual(['m1']);
    expect(await ids('--rule', 'price moved', '--listing', '43')).toEqual(['m2', 'm3']);
    expect(await ids('--channel', 'sales')).toEqual(['m3', 'm1']);
    await clock.advance(HOUR);
    expect(await ids()).toEqual(['m3', 'm1']);
  });

  it('removes by id; an unknown id is named, exit 2', async () => {
    const { mute, mutes, clock } = setup();
    await mute('add', '-c', withStore, '--listing', '42');
    expect(await mute('remove', '-c', withStore, 'm1')).toEqual({ code: 0, out: ['removed m1'], err: [] });
    expect(await mutes.list(clock.now())).toEqual([]);
    expect(await mute('remove', '-c', withStore, 'm1')).toEqual({
      code: 2,
      out: [],
      err: ['m1: no such mute (never was, removed, or ended)'],
    });
  });

  it('refuses a rule or channel the rules file does not have, naming those it has', async () => {
    const { mute } = setup();
    expect(await mute('add', '-c', withStore, '--rule', 'price-moved')).toEqual({
      code: 2,
      out: [],
      err: [`--rule: no rule "price-moved" in ${withStore} (rules: "price moved")`],
    });
    const channel = await mute('add', '-c', withStore, '--listing', '1', '--channel', '#sales');
    expect(channel.code).toBe(2);
    expect(channel.err).toEqual([
      `--channel: no channel "#sales" in ${withStore} (channels: "sales", "ops")`,
    ]);
  });

  it('shows hostile values escaped', async () => {
    const { mute } = setup();
    await mute('add', '-c', withStore, '--listing', '4\u001b[2J2', '--by', 'e\u202Eve', '--reason', 'x\ny');
    const [line] = (await mute('list', '-c', withStore)).out;
    expect(line).toBe(
      'm1  listing 4\\u001b[2J2  until 2026-01-02T00:00:00Z (in 24 h)  by @e\\u202eve  x\\u000ay',
    );
  });

  it('a store failure is one line, exit 1, and the store is closed', async () => {
    const failing: MuteStore = {
      list: async () => {
        throw new NotifierError('STORE_UNAVAILABLE', 'mutes list failed: connect ECONNREFUSED');
      },
      add: async () => 'x',
      remove: async () => false,
    };
    const { mute, closed } = setup(failing);
    expect(await mute('list', '-c', withStore)).toEqual({
      code: 1,
      out: [],
      err: ['listing-notifier mute: store error: mutes list failed: connect ECONNREFUSED'],
    });
    expect(closed()).toBe(1);
  });

  it('is a command of the CLI with its help', async () => {
    const io = captureIo();
    expect(await main(['mute', '--help'], io)).toBe(0);
    expect(io.out.join('\n')).toMatch(/^usage: listing-notifier mute list/);
    expect(io.out.join('\n')).toMatch(/^ {2}2 {2}/m);
    const all = captureIo();
    await main(['--help'], all);
    expect(all.out.join('\n')).toContain('  mute list|add|remove');
  });
});
