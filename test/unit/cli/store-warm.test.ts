/** `store warm` arguments and value conversion (src/cli/store-warm.ts); the command itself runs on the real stack. */
import { describe, expect, it } from 'vitest';
import { parseWarmArgs, run, warmValue } from '../../../src/cli/store-warm.ts';

describe('store warm', () => {
  it('parses its options and refuses bad ones by name', () => {
    expect(parseWarmArgs(['warm', '-c', 'r.yaml'])).toEqual({
      config: 'r.yaml',
      table: 'public.listings',
      urlEnv: 'DATABASE_URL',
      batch: 1000,
    });
    expect(parseWarmArgs(['cool', '-c', 'r.yaml'])).toEqual({
      error: 'expected the subcommand "warm", got "cool"',
    });
    expect(parseWarmArgs(['warm'])).toEqual({ error: '--config: missing FILE' });
    expect(parseWarmArgs(['warm', '-c', 'r', '--table', 'listings; drop'])).toMatchObject({
      error: expect.stringMatching(/^--table: expected SCHEMA.TABLE/),
    });
    expect(parseWarmArgs(['warm', '-c', 'r', '--batch', '0'])).toMatchObject({
      error: expect.stringMatching(/^--batch/),
    });
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
      ['warm', '-c', file],
      { stdout: () => {}, stderr: (l) => err.push(l) },
      { env: {} },
    );
    expect(code).toBe(2);
    expect(err.join('\n')).toMatch(/^store\.url: null/);
  });
});
