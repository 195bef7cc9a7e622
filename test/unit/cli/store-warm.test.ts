/**
 * `store warm` arguments and value conversion (src/cli/store-warm.ts, store-warm-table.ts); the command
 * itself runs on the real stack (test/integration/service/replica-identity-default.test.ts for the
 * table, test/integration/cli/store-warm-topic.test.ts for a snapshot topic).
 */
import { describe, expect, it } from 'vitest';
import { run } from '../../../src/cli/store-warm.ts';
import { parseWarmArgs } from '../../../src/cli/store-warm-args.ts';
import { warmValue } from '../../../src/cli/store-warm-table.ts';
import { summaryLine } from '../../../src/cli/store-warm-topic.ts';

describe('store warm', () => {
  it('parses its options and refuses bad ones by name', () => {
    expect(parseWarmArgs(['warm', '-c', 'r.yaml', '--table', 'public.listings'])).toEqual({
      config: 'r.yaml',
      source: 'table',
      table: 'public.listings',
      urlEnv: 'DATABASE_URL',
      batch: 1000,
      progress: 10_000,
    });
    // --database-url-env alone chooses the table too, the default one.
    expect(parseWarmArgs(['warm', '-c', 'r', '--database-url-env', 'RO_URL'])).toMatchObject({
      source: 'table',
      table: 'public.listings',
      urlEnv: 'RO_URL',
    });
    expect(parseWarmArgs(['cool', '-c', 'r.yaml'])).toEqual({
      error: 'expected the subcommand "warm", got "cool"',
    });
    expect(parseWarmArgs(['warm'])).toEqual({ error: '--config: missing FILE' });
    expect(parseWarmArgs(['warm', '-c', 'r', '--table', 't.x', '--progress', '1.5'])).toMatchObject({
      error: expect.stringMatching(/^--progress/),
    });
    expect(parseWarmArgs(['warm', '-c', 'r', '--table', 'listings; drop'])).toMatchObject({
      error: expect.stringMatching(/^--table: expected SCHEMA.TABLE/),
    });
    expect(parseWarmArgs(['warm', '-c', 'r', '--table', 't.x', '--batch', '0'])).toMatchObject({
      error: expect.stringMatching(/^--batch/),
    });
  });

  it('takes a snapshot topic instead of the table: exactly one source, named when wrong', () => {
    expect(parseWarmArgs(['warm', '-c', 'r', '--from-topic', 'monolith.public.listings'])).toEqual({
      config: 'r',
      source: 'topic',
      topic: 'monolith.public.listings',
      columnsOf: 'monolith.public.listings',
      batch: 1000,
      progress: 10_000,
    });
    expect(
      parseWarmArgs(['warm', '-c', 'r', '--from-topic', 'copy', '--columns-of', 'src', '--progress', '0']),
    ).toMatchObject({ source: 'topic', topic: 'copy', columnsOf: 'src', progress: 0 });
    // No source named: the table, as before --from-topic existed.
    expect(parseWarmArgs(['warm', '-c', 'r'])).toMatchObject({
      source: 'table',
      table: 'public.listings',
      urlEnv: 'DATABASE_URL',
    });
    expect(parseWarmArgs(['warm', '-c', 'r', '--from-topic', 't', '--table', 'public.listings'])).toEqual({
      error: '--table: not with --from-topic (the source is the table or the topic, not both)',
    });
    expect(parseWarmArgs(['warm', '-c', 'r', '--from-topic', 't', '--database-url-env', 'U'])).toEqual({
      error: '--database-url-env: not with --from-topic (the source is the table or the topic, not both)',
    });
    expect(parseWarmArgs(['warm', '-c', 'r', '--from-topic', ''])).toEqual({
      error: '--from-topic: missing TOPIC',
    });
    expect(parseWarmArgs(['warm', '-c', 'r', '--table', 'public.x', '--columns-of', 't'])).toEqual({
      error: '--columns-of: only with --from-topic',
    });
  });

  it('exits 2 with the usage when the source is doubled', async () => {
    for (const args of [
      ['warm', '-c', 'r.yaml', '--from-topic', 't', '--table', 'public.listings'],
      ['warm', '-c', 'r.yaml', '--from-topic', 't', '--database-url-env', 'U'],
    ]) {
      const err: string[] = [];
      expect(await run(args, { stdout: () => {}, stderr: (l) => err.push(l) }, { env: {} })).toBe(2);
      expect(err.join('\n')).toMatch(/^--(table|database-url-env): not with --from-topic/);
      expect(err.join('\n')).toContain('usage: listing-notifier store warm');
    }
  });

  it('sums up a topic read: read = stored + skipped, by reason', () => {
    const skipped = new Map([
      ['tombstone', 1],
      ['undecodable', 2],
      ['older', 1],
    ] as const);
    expect(summaryLine('t', { read: 7, stored: 3, skipped: new Map(skipped) }, 1.25)).toBe(
      'store warm: 7 record(s) read from t, 3 stored, 4 skipped (tombstone 1, undecodable 2, not newer than the store 1) in 1.3 s',
    );
    expect(summaryLine('t', { read: 0, stored: 0, skipped: new Map() }, 0)).toBe(
      'store warm: 0 record(s) read from t, 0 stored, 0 skipped in 0.0 s',
    );
  });

  it('converts values as decoded change events carry them', () => {
    expect(warmValue('money', '120.00')).toEqual({ type: 'decimal', value: '120' });
    expect(warmValue('money', '-0.50')).toEqual({ type: 'decimal', value: '-0.5' });
    expect(warmValue('quantity', '8')).toBe(8);
    expect(warmValue('code', 'A')).toBe('A');
    expect(warmValue('currency', 'EUR')).toBe('EUR');
    expect(warmValue('text', null)).toBeNull();
    expect(warmValue('timestamp', '2026-01-01 00:00:00+00')).toBeUndefined();
    expect(warmValue('quantity', '99999999999999999999')).toBeUndefined();
  });

  it('without store.url, exits 2 saying why', async () => {
    const err: string[] = [];
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const file = join(mkdtempSync(join(tmpdir(), 'ln-warm-')), 'rules.json');
    writeFileSync(file, '{}');
    const code = await run(
      ['warm', '-c', file, '--from-topic', 'monolith.public.listings'],
      { stdout: () => {}, stderr: (l) => err.push(l) },
      { env: {} },
    );
    expect(code).toBe(2);
    expect(err.join('\n')).toMatch(/^store\.url: null/);
  });
});
