import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkConfig, formatPath, loadConfig, parseConfig, showValue } from '../../../src/config/index.ts';
import { NotifierError } from '../../../src/domain/errors.ts';

const EXAMPLE = new URL('../../../config/listing-notifier.yaml', import.meta.url);
const exampleText = readFileSync(EXAMPLE, 'utf8');

const errorsOf = (text: string): string[] => {
  const result = checkConfig(text, 'rules.yaml');
  if (result.ok) throw new Error('expected the config to be invalid');
  return result.errors;
};

describe('the example file', () => {
  it('is valid and says exactly what the defaults say (an empty file behaves the same)', () => {
    const example = parseConfig(exampleText, 'example');
    expect(example).toEqual(parseConfig('', 'empty'));
    expect(example).toEqual(parseConfig('{}', 'empty mapping'));
  });

  it('reproduces the seed routing: price, stock low/recovered, unpublished to two channels', () => {
    const config = parseConfig(exampleText, 'example');
    expect(config.rules.map((r) => [r.match, r.channels.map((c) => config.channels[c])])).toEqual([
      [{ field: ['price'] }, ['#sales-alerts']],
      [{ field: ['stock'], condition: ['low', 'recovered'] }, ['#inventory-warnings']],
      [{ field: ['status'], from: ['A', 'S'], to: ['U', 'D'] }, ['#support-heads-up', '#marketing-updates']],
      [{ field: ['status'], from: ['A'], to: ['S'] }, ['#inventory-warnings']],
      [{ condition: ['deleted'] }, ['#support-heads-up', '#marketing-updates']],
    ]);
    expect(config.fields.status).toMatchObject({ column: 'LST_STAT_CD', codes: { U: 'Unpublished' } });
    expect(config.unmatched).toEqual({ action: 'drop' });
  });

  it('has the service sections with the documented defaults', () => {
    const config = parseConfig('', 'empty');
    expect(config.source).toEqual({
      brokers: ['127.0.0.1:9092'],
      topics: ['monolith.public.listings'],
      groupId: 'listing-notifier',
      clientId: 'listing-notifier',
      sessionTimeoutMs: 30_000,
      deadLetterTopic: null,
      tls: null,
      sasl: null,
      registryUrl: null,
      registryAuth: null,
      registryCaFile: null,
      columns: {},
      fetch: {
        maxBytes: 4194304,
        maxBytesPerPartition: 786432,
        partitionsConsumedConcurrently: 4,
        maxWaitTimeMs: 1000,
      },
      poison: { maxAttempts: 3, probeRecords: 1000 },
    });
    expect(config.slack).toEqual({ apiUrl: 'https://slack.com/api/', tokenEnv: 'SLACK_BOT_TOKEN' });
    expect(config.delivery).toEqual({
      perChannel: { intervalMs: 1000, cap: 1 },
      burst: 3,
      workspace: { intervalMs: 1000, cap: 20 },
      maxQueuedPerChannel: 200,
      maxInFlightRecords: 1000,
      maxInFlightBytes: 33554432,
      flood: {
        enabled: true,
        budgetMs: 10000,
        digestQuietMs: 2000,
        digestWindowMs: 30000,
        maxDigestItems: 12000,
        maxFoldedRecords: 24000,
        coalesce: true,
        netZero: 'drop',
        completeList: 'file',
        channels: {},
      },
      retry: { minDelayMs: 500, maxDelayMs: 30000, factor: 2, jitter: 0.2 },
      shutdownDeadlineMs: 25000,
      threads: { channels: [], windowMs: 86400000 },
      updates: { channels: [], windowMs: 86400000, pace: { cap: 50, intervalMs: 60000, burst: 10 } },
    });
    expect(config.store).toEqual({
      url: null,
      keyPrefix: 'listing-notifier',
      expectedReplicas: 1,
      alertMemory: true,
      ledger: { enabled: true, retentionMs: 604800000, maxMemoryBytes: 16777216 },
      lastValues: { enabled: true, ttlMs: 2592000000, maxBytes: 16777216 },
    });
    expect(config.http).toEqual({ host: '0.0.0.0', port: 9464 });
  });

  it('fills option defaults inside a field the user writes', () => {
    const config = parseConfig(
      'fields:\n  price: { kind: money, column: amount }\nrules: [{ match: { field: price }, channels: [sales-alerts] }]\n',
      'x',
    );
    expect(config.fields.price).toEqual({
      kind: 'money',
      column: 'amount',
      currencyColumn: null,
      currency: 'USD',
      decimalScale: null,
      minPercent: null,
      minAmount: null,
    });
  });

  it('keeps decimals exact whether written as numbers or strings', () => {
    const config = parseConfig(
      'fields:\n  price: { kind: money, column: p, minPercent: 2.5, minAmount: "0.10" }\nrules: []\n',
      'x',
    );
    expect(config.fields.price).toMatchObject({ minPercent: '2.5', minAmount: '0.10' });
  });

  it('does not share default objects between parses', () => {
    const a = parseConfig('', 'a');
    (a.fields.price as { column: string }).column = 'mutated';
    expect(parseConfig('', 'b').fields.price?.column).toBe('prc_amt');
  });
});

// One case per kind of mistake: each names the path and the value found.
describe('config errors name the path and the value', () => {
  it.each([
    [
      'YAML syntax',
      'rules: [1\n',
      'rules.yaml:2:1: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ],
    ['duplicate key', 'timeZone: UTC\ntimeZone: UTC\n', 'rules.yaml:2:1: Map keys must be unique'],
    ['unknown top-level key', 'timezone: UTC\n', 'timezone: unknown key, got "UTC"'],
    ['unknown nested key', 'delivery: { retry: { tries: 3 } }\n', 'delivery.retry.tries: unknown key, got 3'],
    ['wrong type', 'http: { port: "x" }\n', 'http.port: expected number, got "x"'],
    ['not an integer', 'delivery: { burst: 1.5 }\n', 'delivery.burst: expected int, got 1.5'],
    ['number too small', 'delivery: { burst: 0 }\n', 'delivery.burst: expected >= 1, got 0'],
    [
      'throttle of no message',
      'rules: [{ match: { field: price }, channels: [sales-alerts], throttle: { perListing: 0 } }]\n',
      'rules[0].throttle.perListing: expected >= 1, got 0',
    ],
    [
      'throttle without perListing',
      'rules: [{ match: { field: price }, channels: [sales-alerts], throttle: { windowMs: 60000 } }]\n',
      'rules[0].throttle.perListing: expected number, got undefined',
    ],
    ['number too big', 'delivery: { retry: { jitter: 2 } }\n', 'delivery.retry.jitter: expected <= 1, got 2'],
    ['empty list', 'source: { topics: [] }\n', 'source.topics: expected length >= 1 items, got []'],
    ['bad broker', 'source: { brokers: ["kafka"] }\n', 'source.brokers[0]: expected host:port, got "kafka"'],
    [
      'poison attempts below 2',
      'source: { poison: { maxAttempts: 1 } }\n',
      'source.poison.maxAttempts: expected >= 2, got 1',
    ],
    [
      'not a URL',
      'source: { registryUrl: "ftp://x" }\n',
      'source.registryUrl: expected an http(s) URL, got "ftp://x"',
    ],
    [
      'column map for a topic not read',
      'source: { columns: { other.topic: { stk_qty: prod_stk_qty } } }\n',
      'source.columns["other.topic"]: not one of source.topics (monolith.public.listings), got {"stk_qty":"prod_stk_qty"}',
    ],
    [
      'two columns mapped to one name',
      'source: { topics: [t], columns: { t: { stk_qty: prod_stk_qty, qty: prod_stk_qty } } }\n',
      'source.columns.t.qty: stk_qty is mapped to prod_stk_qty already, got "prod_stk_qty"',
    ],
    [
      'empty column name',
      'source: { topics: [t], columns: { t: { stk_qty: "" } } }\n',
      'source.columns.t.stk_qty: expected length >= 1 characters, got ""',
    ],
    ['bad enum', 'previousUnknown: ignore\n', 'previousUnknown: expected "notify" | "drop", got "ignore"'],
    ['time zone', 'timeZone: Mars/Olympus\n', 'timeZone: unknown IANA time zone, got "Mars/Olympus"'],
    ['locale', 'locale: "??"\n', 'locale: not a valid BCP 47 locale, got "??"'],
    [
      'URL template without {id}',
      'listingUrlTemplate: https://shop.example.com/l\n',
      'listingUrlTemplate: must contain {id}, got "https://shop.example.com/l"',
    ],
    [
      'token in the file',
      'slack: { tokenEnv: "xoxb-123" }\n',
      'slack.tokenEnv: expected an environment variable name, got "xoxb-123"',
    ],
    [
      'unknown field kind',
      'fields: { price: { kind: currency, column: p } }\nrules: []\n',
      'fields.price.kind: expected "money" | "code" | "quantity" | "text" | "timestamp", got "currency"',
    ],
    [
      'missing column',
      'fields: { price: { kind: money } }\nrules: []\n',
      'fields.price.column: expected string, got undefined',
    ],
    [
      'option of another kind',
      'fields: { price: { kind: money, column: p, lowBelow: 5 } }\nrules: []\n',
      'fields.price.lowBelow: unknown key, got 5',
    ],
    [
      'bad field key',
      'fields: { Price: { kind: money, column: p } }\nrules: []\n',
      'fields.Price: invalid key: expected a lower-case key such as "price", got "Price"',
    ],
    [
      'bad decimal',
      'fields: { price: { kind: money, column: p, minAmount: "1,50" } }\nrules: []\n',
      'fields.price.minAmount: expected a decimal number such as "1.50" (amount), got "1,50"',
    ],
    [
      'negative percent',
      'fields: { price: { kind: money, column: p, minPercent: -1 } }\nrules: []\n',
      'fields.price.minPercent: expected a number >= 0 (percent), got -1',
    ],
    [
      'bad currency',
      'fields: { price: { kind: money, column: p, currency: usd } }\nrules: []\n',
      'fields.price.currency: expected an ISO 4217 code such as "USD", got "usd"',
    ],
    [
      'unknown code in a transition',
      'fields: { status: { kind: code, column: s, codes: { A: Active }, transitions: [{ to: [Z] }] } }\nrules: []\n',
      'fields.status.transitions[0].to[0]: unknown code, expected one of A, got "Z"',
    ],
    [
      'bad channel target',
      'channels: { sales: "Sales Alerts" }\nrules: []\n',
      'channels.sales: expected a Slack channel id or #channel-name, got "Sales Alerts"',
    ],
    [
      'rule without channels',
      'rules: [{ match: { field: price } }]\n',
      'rules[0].channels: expected string or array, got undefined',
    ],
    [
      'unknown condition',
      'rules: [{ match: { condition: dropped }, channels: sales-alerts }]\n',
      'rules[0].match.condition: expected "increased" | "decreased" | "changed" | "low" | "recovered" | "created" | "deleted", got "dropped"',
    ],
    [
      'rule names an unknown channel',
      'rules: [{ match: { field: price }, channels: [sales] }]\n',
      'rules[0].channels[0]: unknown channel, expected one of sales-alerts, inventory-warnings, support-heads-up, marketing-updates, got "sales"',
    ],
    [
      'rule names an unknown field',
      'rules: [{ match: { field: cost }, channels: sales-alerts }]\n',
      'rules[0].match.field[0]: unknown field, expected one of price, status, stock, description, got "cost"',
    ],
    [
      'from/to on a non-code field',
      'rules: [{ match: { field: price, to: U }, channels: sales-alerts }]\n',
      'rules[0].match: from/to need `field` naming code fields only, got {"field":"price","to":"U"}',
    ],
    [
      'update in place in an unknown channel',
      'delivery: { updates: { channels: [sales] } }\n',
      'delivery.updates.channels[0]: unknown channel, expected one of sales-alerts, inventory-warnings, support-heads-up, marketing-updates, got "sales"',
    ],
    [
      'update in place in a Teams channel',
      'channels: { sales-alerts: "#sales-alerts", t: { type: teams, urlEnv: TEAMS_URL } }\nrules: [{ channels: t }]\ndelivery: { updates: { channels: [t] } }\n',
      'delivery.updates.channels[0]: only Slack messages can be edited in place, got "t"',
    ],
    [
      'unmatched channel',
      'unmatched: { action: send, channel: nowhere }\n',
      'unmatched.channel: unknown channel, expected one of sales-alerts, inventory-warnings, support-heads-up, marketing-updates, got "nowhere"',
    ],
    [
      'unmatched action',
      'unmatched: { action: ignore }\n',
      'unmatched.action: expected "drop" | "send", got "ignore"',
    ],
    ['not a mapping', '- 1\n', '(root): expected object, got [1]'],
  ])('%s', (_kind, text, expected) => {
    expect(errorsOf(text)).toContain(expected);
  });

  it('says when a failing value came from a default section', () => {
    expect(errorsOf('channels: { sales: "#sales" }\n')).toContain(
      'rules[0].channels[0]: unknown channel, expected one of sales, got "sales-alerts" (in the default rules: give `rules` too)',
    );
  });

  it('lists every issue, not just the first', () => {
    const errors = errorsOf('timezone: UTC\nhttp: { port: -1 }\ndelivery: { burst: 0 }\n');
    expect(errors).toHaveLength(3);
  });
});

describe('secured connections in the rules file', () => {
  it('takes TLS, SASL and registry auth as names of env vars and files, with defaults', () => {
    const config = parseConfig(
      [
        'source:',
        '  tls: { caFile: /etc/kafka/ca.pem }',
        '  sasl: { mechanism: scram-sha-256, username: svc, passwordEnv: KAFKA_PASSWORD }',
        '  registryUrl: https://registry.example.com',
        '  registryAuth: { username: reg, passwordFile: /run/secrets/registry }',
        '',
      ].join('\n'),
      'rules.yaml',
    );
    expect(config.source).toMatchObject({
      tls: {
        caFile: '/etc/kafka/ca.pem',
        certFile: null,
        keyFile: null,
        serverName: null,
        checkServerName: true,
      },
      sasl: { mechanism: 'scram-sha-256', username: 'svc', passwordEnv: 'KAFKA_PASSWORD' },
      registryAuth: { username: 'reg', passwordFile: '/run/secrets/registry' },
      registryCaFile: null,
    });
  });

  it('refuses a password written into the file without echoing it', () => {
    const errors = errorsOf(
      'source:\n  sasl: { mechanism: plain, username: svc, password: hunter2-secret }\n',
    );
    expect(errors).toEqual([
      'source.sasl.password: unknown key, got "[Redacted]"',
      'source.sasl: expected exactly one of passwordEnv or passwordFile (the password itself is never read from this file), got {"mechanism":"plain","username":"svc","password":"[Redacted]"}',
    ]);
    const inUrl = errorsOf('source: { registryUrl: "https://reg:hunter2-secret@registry.example.com" }\n');
    expect(inUrl).toEqual([
      'source.registryUrl: expected no user:password in the URL (use registryAuth with passwordEnv or passwordFile), got "https://***@registry.example.com"',
    ]);
  });

  it('wants exactly one password source, a known mechanism, and a client certificate with its key', () => {
    expect(
      errorsOf('source: { sasl: { mechanism: plain, username: u, passwordEnv: A, passwordFile: /b } }\n'),
    ).toEqual([expect.stringMatching(/^source\.sasl: expected exactly one of passwordEnv or passwordFile/)]);
    expect(errorsOf('source: { sasl: { mechanism: gssapi, username: u, passwordEnv: A } }\n')).toEqual([
      'source.sasl.mechanism: expected "plain" | "scram-sha-256" | "scram-sha-512", got "gssapi"',
    ]);
    expect(errorsOf('source: { tls: { certFile: /c.pem } }\n')).toEqual([
      expect.stringMatching(/^source\.tls: expected certFile and keyFile together/),
    ]);
    expect(
      errorsOf('source: { sasl: { mechanism: plain, username: u, passwordEnv: "not a name" } }\n'),
    ).toEqual(['source.sasl.passwordEnv: expected an environment variable name, got "not a name"']);
  });
});

describe('parseConfig', () => {
  it('throws CONFIG_INVALID (stop) with one line per issue', () => {
    let error: unknown;
    try {
      parseConfig('timezone: UTC\nhttp: { port: "x" }\n', 'bad.yaml');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NotifierError);
    const e = error as NotifierError;
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.disposition).toBe('stop');
    expect(e.message.split('\n')).toEqual([
      'bad.yaml: invalid configuration',
      'http.port: expected number, got "x"',
      'timezone: unknown key, got "UTC"',
    ]);
    expect(e.details.errors).toHaveLength(2);
  });
});

describe('loadConfig', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('reads and validates a file', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ln-config-'));
    const file = join(dir, 'rules.yaml');
    writeFileSync(file, 'timeZone: Europe/Berlin\n');
    expect((await loadConfig(file)).timeZone).toBe('Europe/Berlin');
    writeFileSync(file, 'timeZone: Europe/Nowhere\n');
    await expect(loadConfig(file)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('timeZone: unknown IANA time zone, got "Europe/Nowhere"'),
    });
  });

  it('reports a file it cannot read as CONFIG_INVALID', async () => {
    await expect(loadConfig('/nonexistent/rules.yaml')).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringMatching(/^\/nonexistent\/rules\.yaml: cannot read: ENOENT/),
    });
  });
});

describe('formatting', () => {
  it.each([
    [[], '(root)'],
    [['rules', 3, 'channel'], 'rules[3].channel'],
    [['fields', 'price', 'column'], 'fields.price.column'],
    [['channels', 'sales alerts'], 'channels["sales alerts"]'],
  ] as const)('formatPath(%j) = %s', (path, expected) => {
    expect(formatPath(path)).toBe(expected);
  });

  it('shows values quoted and short', () => {
    expect(showValue(undefined)).toBe('undefined');
    expect(showValue('x')).toBe('"x"');
    expect(showValue('y'.repeat(200))).toHaveLength(80);
  });
});
