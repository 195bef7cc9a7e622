/**
 * Rules reload against a real folder: a plain file edited in place, a Kubernetes-style ConfigMap
 * volume updated by swapping its `..data` symlink, a real SIGHUP to this process, and an injected
 * signal source. Waits are on the reload callbacks themselves, never on a timer.
 */
import { EventEmitter } from 'node:events';
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createReloadMetrics } from '../../../src/adapters/prom-reload-metrics.ts';
import {
  assessReload,
  changedPaths,
  createReloadablePipeline,
  createRulesWatcher,
  type ReloadReport,
  type RulesWatcher,
} from '../../../src/app/rules-reload.ts';
import { type Config, parseConfig } from '../../../src/config/index.ts';
import { createPipeline } from '../../../src/pipeline/index.ts';
import type { Logger } from '../../../src/ports/index.ts';
import { makeRecord } from '../../support/records.ts';

const rules = (channel: string, extra = ''): string =>
  `channels: { alerts: "#${channel}" }\nrules:\n  - { name: any price, match: { field: price }, channels: [alerts] }\n${extra}`;

/** A logger that keeps its lines. */
function memoryLogger(): Logger & {
  lines: Array<{ level: string; msg?: string; fields: Record<string, unknown> }>;
} {
  const lines: Array<{ level: string; msg?: string; fields: Record<string, unknown> }> = [];
  const at =
    (level: string) =>
    (fields: Record<string, unknown>, msg?: string): void => {
      lines.push({ level, fields, ...(msg === undefined ? {} : { msg }) });
    };
  const logger = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    lines,
    child: () => logger,
  };
  return logger;
}

/** Resolves with the next config handed to onReload. */
function reloads() {
  const waiting: Array<(c: Config) => void> = [];
  const seen: Config[] = [];
  return {
    seen,
    onReload: (config: Config) => {
      seen.push(config);
      waiting.shift()?.(config);
    },
    next: () => new Promise<Config>((resolve) => waiting.push(resolve)),
  };
}

describe('changedPaths and assessReload (pure)', () => {
  const base = parseConfig(rules('sales'), 'a.yaml');

  it('names the paths that differ', () => {
    expect(changedPaths({ a: { b: 1, c: [1] } }, { a: { b: 2, c: [1] }, d: 1 })).toEqual(['a.b', 'd']);
    expect(changedPaths(base, base)).toEqual([]);
  });

  it('applies rule changes and keeps the running restart-only sections, reporting them', () => {
    const next = parseConfig(
      `${rules('sales-new')}source: { brokers: ["kafka-2:9092"], groupId: other }\nhttp: { port: 9000 }\n`,
      'b.yaml',
    );
    const assessed = assessReload(base, next);
    expect(assessed.result).toBe('applied');
    expect(assessed.config.channels).toEqual({ alerts: '#sales-new' });
    expect(assessed.config.source).toEqual(base.source);
    expect(assessed.config.http).toEqual(base.http);
    expect(assessed.restartNeeded).toEqual(['source.brokers', 'source.groupId', 'http.port']);
  });

  it('says restart-needed when only restart-only settings changed, and unchanged when nothing did', () => {
    const onlyTopics = parseConfig(`${rules('sales')}source: { topics: [t2] }\n`, 'c.yaml');
    expect(assessReload(base, onlyTopics)).toMatchObject({
      result: 'restart-needed',
      config: base,
      restartNeeded: ['source.topics'],
    });
    expect(assessReload(base, parseConfig(`# a comment\n${rules('sales')}`, 'd.yaml')).result).toBe(
      'unchanged',
    );
  });
});

describe('createReloadablePipeline', () => {
  it('routes each record with the rules in effect when it arrives', async () => {
    const record = makeRecord(); // a price cut 19.99 -> 17.99
    const pipeline = createReloadablePipeline(parseConfig(rules('sales'), 'a.yaml'), (c) =>
      createPipeline(c),
    );
    const first = await pipeline.process(record);
    pipeline.swap(parseConfig(rules('pricing'), 'b.yaml'));
    const second = await pipeline.process(record);
    expect(first.kind === 'notify' && first.messages.map((m) => m.channel)).toEqual(['#sales']);
    expect(second.kind === 'notify' && second.messages.map((m) => m.channel)).toEqual(['#pricing']);
    expect(pipeline.config().channels).toEqual({ alerts: '#pricing' });
  });
});

describe('createRulesWatcher', () => {
  let dir: string;
  let watcher: RulesWatcher | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ln-reload-'));
  });
  afterEach(async () => {
    watcher?.stop();
    watcher = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('applies an edited file, refuses an invalid one (old rules stay, errors logged, counted)', async () => {
    const file = join(dir, 'rules.yaml');
    await writeFile(file, rules('sales'));
    const logger = memoryLogger();
    const registry = new Registry();
    const seen = reloads();
    const reports: ReloadReport[] = [];
    watcher = await createRulesWatcher({
      path: file,
      logger,
      metrics: createReloadMetrics(registry),
      onReload: seen.onReload,
      signals: null,
      debounceMs: 20,
    });

    const applied = seen.next();
    await writeFile(file, rules('sales-2'));
    expect((await applied).channels).toEqual({ alerts: '#sales-2' });

    // Invalid: a rule pointing at an unknown channel. Asked for directly to read the report.
    await writeFile(file, `${rules('sales-3')}  - { match: { field: stock }, channels: [nowhere] }\n`);
    reports.push(await watcher.reload());
    expect(reports[0]).toMatchObject({ result: 'invalid' });
    expect(reports[0]?.errors).toEqual([
      'rules[1].channels[0]: unknown channel, expected one of alerts, got "nowhere"',
    ]);
    expect(watcher.current().channels).toEqual({ alerts: '#sales-2' });
    const refused = logger.lines.find((l) => l.level === 'error');
    expect(refused?.msg).toContain('rules file refused, the previous rules stay: rules[1].channels[0]');
    expect(seen.seen).toHaveLength(1);

    const text = await registry.metrics();
    expect(text).toContain('listing_notifier_rules_reloads_total{result="applied"} 1');
    expect(text).toMatch(/listing_notifier_rules_reloads_total\{result="invalid"\} [12]\n/);
  });

  it('follows a ConfigMap-style ..data symlink swap', async () => {
    // The kubelet's layout: rules.yaml -> ..data/rules.yaml, ..data -> ..2026_01, swapped by rename.
    const mount = join(dir, 'mount');
    await mkdir(join(mount, '..2026_01'), { recursive: true });
    await writeFile(join(mount, '..2026_01', 'rules.yaml'), rules('sales'));
    await symlink('..2026_01', join(mount, '..data'));
    await symlink('..data/rules.yaml', join(mount, 'rules.yaml'));
    const logger = memoryLogger();
    const seen = reloads();
    watcher = await createRulesWatcher({
      path: join(mount, 'rules.yaml'),
      logger,
      onReload: seen.onReload,
      signals: null,
      debounceMs: 20,
    });
    expect(watcher.current().channels).toEqual({ alerts: '#sales' });

    const applied = seen.next();
    await mkdir(join(mount, '..2026_02'));
    await writeFile(
      join(mount, '..2026_02', 'rules.yaml'),
      rules('swapped', 'source: { brokers: ["kafka-9:9092"] }\n'),
    );
    await symlink('..2026_02', join(mount, '..data_tmp'));
    await rename(join(mount, '..data_tmp'), join(mount, '..data'));
    await rm(join(mount, '..2026_01'), { recursive: true });

    expect((await applied).channels).toEqual({ alerts: '#swapped' });
    expect(watcher.current().source.brokers).toEqual(['127.0.0.1:9092']);
    const restart = logger.lines.find((l) => l.level === 'warn');
    expect(restart?.msg).toBe('not applied until a restart: source.brokers');
  });

  it('reloads on a real SIGHUP to this process', async () => {
    const file = join(dir, 'rules.yaml');
    await writeFile(file, rules('sales'));
    const seen = reloads();
    watcher = await createRulesWatcher({
      path: file,
      logger: memoryLogger(),
      onReload: seen.onReload,
      watch: false,
    });
    await writeFile(file, rules('after-hup'));
    const applied = seen.next();
    process.kill(process.pid, 'SIGHUP');
    expect((await applied).channels).toEqual({ alerts: '#after-hup' });
    watcher.stop();
    expect(process.listenerCount('SIGHUP')).toBe(0);
  });

  it('reloads on an injected signal and says "unchanged" when nothing changed', async () => {
    const file = join(dir, 'rules.yaml');
    await writeFile(file, rules('sales'));
    const signals = new EventEmitter();
    const logger = memoryLogger();
    const registry = new Registry();
    const seen = reloads();
    watcher = await createRulesWatcher({
      path: file,
      logger,
      metrics: createReloadMetrics(registry),
      onReload: seen.onReload,
      watch: false,
      signals: signals as unknown as { on: () => unknown; off: () => unknown },
    });
    expect(signals.listenerCount('SIGHUP')).toBe(1);
    signals.emit('SIGHUP');
    await watcher.reload('signal'); // queued behind the signal's reload: both have finished after it
    expect(seen.seen).toEqual([]);
    expect(await registry.metrics()).toContain('listing_notifier_rules_reloads_total{result="unchanged"} 2');
    watcher.stop();
    expect(signals.listenerCount('SIGHUP')).toBe(0);
  });

  it('refuses to start on an invalid file (the service must not start on one)', async () => {
    const file = join(dir, 'rules.yaml');
    await writeFile(file, 'rules: 3\n');
    await expect(
      createRulesWatcher({ path: file, logger: memoryLogger(), onReload: () => {}, signals: null }),
    ).rejects.toThrow('rules: expected array, got 3');
  });
});

describe('createRulesWatcher and a file caught mid-write', () => {
  it('refuses an empty file on reload (it would otherwise mean "all the default rules")', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ln-reload-'));
    const file = join(dir, 'rules.yaml');
    await writeFile(file, rules('sales'));
    const seen = reloads();
    const watcher = await createRulesWatcher({
      path: file,
      logger: memoryLogger(),
      onReload: seen.onReload,
      watch: false,
      signals: null,
    });
    await writeFile(file, '');
    const report = await watcher.reload();
    expect(report.result).toBe('invalid');
    expect(report.errors).toEqual([`${file}: file is empty (caught mid-write?); not applied`]);
    expect(watcher.current().channels).toEqual({ alerts: '#sales' });
    watcher.stop();
    await rm(dir, { recursive: true, force: true });
  });
});
