import { describe, expect, it } from 'vitest';
import { run } from '../../../src/cli/dlq.ts';
import { parseDlqArgs } from '../../../src/cli/dlq-args.ts';
import { parseExplainArgs } from '../../../src/cli/explain.ts';
import { captureIo } from './support.ts';

const NOW = Date.UTC(2026, 10, 26, 12, 0, 0);

describe('dlq arguments', () => {
  it('reads filters, times (ISO or ago) and the redrive switches', () => {
    const args = parseDlqArgs(
      [
        'redrive',
        '-c',
        'a.yaml',
        '--code',
        'A',
        '--code',
        'B',
        '--channel',
        'x',
        '--since',
        '2h',
        '--until',
        '2026-11-26T11:30:00Z',
        '--dry-run',
        '--skip-failing',
        '--group',
        'g',
        '--reroute',
        '#a=b',
        '--json',
      ],
      NOW,
    );
    expect(args).toMatchObject({
      action: 'redrive',
      config: 'a.yaml',
      filter: { codes: ['A', 'B'], channels: ['x'], sinceMs: NOW - 7_200_000, untilMs: NOW - 1_800_000 },
      dryRun: true,
      skipFailing: true,
      skipUnmatched: false,
      group: 'g',
      reroute: ['#a=b'],
      json: true,
    });
    expect(parseDlqArgs(['show', '-c', 'a.yaml', 't.dlq:0:1', 't.dlq:0:2'], NOW)).toMatchObject({
      ids: ['t.dlq:0:1', 't.dlq:0:2'],
    });
    expect(parseDlqArgs(['list', '-c', 'a.yaml'], NOW)).toMatchObject({ limit: 100, filter: {} });
  });

  it.each([
    [[], 'expected list, show or redrive, got ""'],
    [['purge', '-c', 'a'], 'expected list, show or redrive, got "purge"'],
    [['list'], '--config: missing FILE'],
    [['list', '-c', 'a', '--since', 'yesterday'], '--since: expected an ISO 8601 date-time with a zone'],
    [['list', '-c', 'a', '--limit', '0'], '--limit: expected a positive whole number, got "0"'],
    [['list', '-c', 'a', '--dry-run'], '--dry-run: not an option of dlq list'],
    [['list', '-c', 'a', '--reroute', 'a=b'], '--reroute: not an option of dlq list'],
    [['show', '-c', 'a', '--code', 'X', 't:0:1'], '--code: not an option of dlq show'],
    [['show', '-c', 'a'], 'missing ID'],
    [['show', '-c', 'a', 'nope'], 'expected an ID like my.topic.dlq:0:17, got "nope"'],
    [['list', '-c', 'a', 'extra'], "Unexpected argument 'extra'"],
  ])('rejects %j', (argv, message) => {
    const result = parseDlqArgs(argv, NOW);
    expect('error' in result && result.error).toContain(message);
  });

  it('exits 2 with the usage on a bad flag, before touching Kafka', async () => {
    const io = captureIo();
    expect(await run(['list', '--bogus'], io, { env: {} })).toBe(2);
    expect(io.err.join('\n')).toContain('usage: listing-notifier dlq list');
  });
});

describe('explain arguments', () => {
  it('reads the offset form and the listing form with its defaults', () => {
    expect(parseExplainArgs(['-c', 'a.yaml', '--partition', '0', '--offset', '17'], NOW)).toEqual({
      config: 'a.yaml',
      topics: undefined,
      json: false,
      mode: 'offset',
      partition: 0,
      offset: '17',
    });
    expect(parseExplainArgs(['-c', 'a.yaml', '--listing', '42', '--json'], NOW)).toEqual({
      config: 'a.yaml',
      topics: undefined,
      json: true,
      mode: 'listing',
      listing: '42',
      sinceMs: NOW - 86_400_000,
      untilMs: null,
      limit: 20,
    });
  });

  it.each([
    [['-c', 'a'], 'give either --partition and --offset, or --listing'],
    [['-c', 'a', '--listing', '1', '--offset', '2'], 'give either'],
    [['-c', 'a', '--partition=-1', '--offset', '2'], '--partition: expected a whole number >= 0'],
    [['-c', 'a', '--partition', '0', '--offset', 'x'], '--offset: expected an offset, got "x"'],
    [['-c', 'a', '--partition', '0', '--offset', '1', '--since', '1h'], '--since: only with --listing'],
    [['-c', 'a', '--listing', '1', '--until', 'soon'], '--until: expected an ISO 8601'],
  ])('rejects %j', (argv, message) => {
    const result = parseExplainArgs(argv, NOW);
    expect('error' in result && result.error).toContain(message);
  });
});

describe('commandLogger without LOG_LEVEL', () => {
  it('turns kafkajs retry errors into one "waiting for Kafka" line and keeps other warnings plain', async () => {
    const { commandLogger } = await import('../../../src/cli/command-context.ts');
    const io = captureIo();
    const logger = commandLogger({}, io);
    const kafkajs = logger.child({ component: 'kafkajs' });
    kafkajs.error({ stack: 'Error: ...' }, 'Connection error: connect ECONNREFUSED 127.0.0.1:9092');
    kafkajs.error({ stack: 'Error: ...' }, 'Connection error: connect ECONNREFUSED 127.0.0.1:9092');
    logger.child({ component: 'delivery' }).warn({ channel: '#a' }, 'Slack call failed; retrying');
    logger.warn({}, 'Slack call failed; retrying');
    logger.info({}, 'not shown');
    expect(io.err).toEqual([
      'listing-notifier: waiting for Kafka (retrying): Connection error: connect ECONNREFUSED 127.0.0.1:9092',
      'listing-notifier: Slack call failed; retrying',
    ]);
  });
});
