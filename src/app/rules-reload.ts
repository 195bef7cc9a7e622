/**
 * Rules reload without a restart: the rules file is watched and SIGHUP reloads it.
 *
 * - Watching: the file's DIRECTORY is watched, not the file. A Kubernetes ConfigMap volume updates by
 *   writing a new timestamped folder and renaming the `..data` symlink onto it (atomic writer,
 *   https://github.com/kubernetes/kubernetes/blob/master/pkg/volume/util/atomic_writer.go); a watch on
 *   the file itself follows the old inode and never fires again. Editors that save by rename behave the
 *   same way. Any event in the directory schedules one reload after `debounceMs` (a swap is several
 *   events); identical bytes are not parsed twice. (A ConfigMap mounted with subPath never updates.)
 * - A valid new file applies to records not yet routed (createReloadablePipeline): the pipeline of the
 *   new rules takes every record processed from then on; records already routed keep their messages.
 * - An invalid file is refused: its path-precise errors (the same lines as check-config) go to the log,
 *   the `invalid` result is counted, and the old rules stay.
 * - Settings read only at start (source, slack, delivery, http: brokers, group, topics, token, pacing,
 *   port) are not applied; their changed paths are logged as needing a restart.
 *
 * Comparisons are made against the previous FILE's config (env overrides such as KAFKA_BROKERS are not
 * in it), so an override never reads as a changed setting.
 */
import { createHash } from 'node:crypto';
import { type FSWatcher, watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { type Config, checkConfig, formatPath } from '../config/index.ts';
import type { Outcome } from '../domain/outcome.ts';
import type { SourceRecord } from '../domain/record.ts';
import type { Logger } from '../ports/index.ts';
import type { ReloadMetrics, ReloadResult } from '../ports/reload-metrics.ts';

export type { ReloadMetrics, ReloadResult };

/** The sections read once at start; a change to them needs a restart. */
export const restartSections = ['source', 'slack', 'delivery', 'http'] as const;

export interface ReloadReport {
  result: ReloadResult;
  trigger: 'watch' | 'signal' | 'call';
  /** Paths of restart-only settings that differ from the running ones (`source.brokers`). */
  restartNeeded: string[];
  /** For 'invalid': one `path: problem, got value` line each. */
  errors: string[];
}

/** Where SIGHUP comes from: `process` by default; tests may pass an EventEmitter. */
export interface SignalSource {
  on(signal: 'SIGHUP', listener: () => void): unknown;
  off(signal: 'SIGHUP', listener: () => void): unknown;
}

export interface RulesWatcherOptions {
  /** The rules file (may be a symlink, as in a ConfigMap volume). */
  path: string;
  logger: Logger;
  metrics?: ReloadMetrics;
  /** Called with the new config (its restart-only sections are the previous ones) when rules change. */
  onReload(config: Config): void | Promise<void>;
  /** The config the service started with as read from the file; default: the file read at start. */
  initial?: Config;
  /** Default process. null: no SIGHUP handler. */
  signals?: SignalSource | null;
  /** Watch the directory; default true. */
  watch?: boolean;
  /** Quiet time after the last directory event before reloading; default 200 ms. */
  debounceMs?: number;
}

export interface RulesWatcher {
  /** Reloads now (what SIGHUP and the watcher call); resolves with what happened. */
  reload(trigger?: ReloadReport['trigger']): Promise<ReloadReport>;
  /** The config of the rules in effect (file values, restart-only sections as started). */
  current(): Config;
  /** Stops watching and removes the SIGHUP handler. */
  stop(): void;
}

/** Dotted paths at which two values differ (`source.brokers`, `delivery.retry.minDelayMs`). */
export function changedPaths(before: unknown, after: unknown, path: PropertyKey[] = []): string[] {
  if (isDeepStrictEqual(before, after)) return [];
  const isObject = (v: unknown): v is Record<string, unknown> =>
    v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isObject(before) || !isObject(after)) return [formatPath(path)];
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  return keys.flatMap((key) => changedPaths(before[key], after[key], [...path, key]));
}

/** The pure decision: what a newly read file means against the rules in effect. */
export function assessReload(
  current: Config,
  next: Config,
): { result: Exclude<ReloadResult, 'invalid'>; config: Config; restartNeeded: string[] } {
  const restartNeeded = restartSections.flatMap((section) =>
    changedPaths(current[section], next[section], [section]),
  );
  // The restart-only sections stay as the service started; the rest is the new file.
  const merged: Config = { ...next };
  for (const section of restartSections) Object.assign(merged, { [section]: current[section] });
  if (!isDeepStrictEqual(merged, current)) return { result: 'applied', config: merged, restartNeeded };
  return {
    result: restartNeeded.length > 0 ? 'restart-needed' : 'unchanged',
    config: current,
    restartNeeded,
  };
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

async function readConfig(
  path: string,
  allowEmpty = false,
): Promise<{ text: string } & ReturnType<typeof checkConfig>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return { text: '', ok: false, errors: [`${path}: cannot read: ${(error as Error).message}`] };
  }
  // An empty file is a valid config (all defaults) at start, but on a reload it is far more likely a
  // file caught mid-write (truncated, then written) than a wish for the default rules.
  if (!allowEmpty && text.trim() === '')
    return { text, ok: false, errors: [`${path}: file is empty (caught mid-write?); not applied`] };
  return { text, ...checkConfig(text, path) };
}

export async function createRulesWatcher(opts: RulesWatcherOptions): Promise<RulesWatcher> {
  const { path, logger } = opts;
  const debounceMs = opts.debounceMs ?? 200;
  let current: Config;
  let lastText: string | undefined;
  if (opts.initial !== undefined) current = opts.initial;
  else {
    const first = await readConfig(path, true);
    if (!first.ok) throw new Error(`${path}: invalid configuration\n${first.errors.join('\n')}`);
    current = first.config;
    lastText = sha256(first.text);
  }

  let chain: Promise<unknown> = Promise.resolve();
  const reloadNow = async (trigger: ReloadReport['trigger']): Promise<ReloadReport> => {
    const read = await readConfig(path);
    const hash = sha256(read.text);
    // The same bytes again (one swap, several events): nothing to say unless a person asked.
    if (trigger === 'watch' && hash === lastText)
      return { result: 'unchanged', trigger, restartNeeded: [], errors: [] };
    lastText = hash;
    let report: ReloadReport;
    if (!read.ok) {
      report = { result: 'invalid', trigger, restartNeeded: [], errors: read.errors };
      logger.error(
        { path, trigger, errors: read.errors },
        `rules file refused, the previous rules stay: ${read.errors.join('; ')}`,
      );
    } else {
      const assessed = assessReload(current, read.config);
      report = { result: assessed.result, trigger, restartNeeded: assessed.restartNeeded, errors: [] };
      if (assessed.restartNeeded.length > 0)
        logger.warn(
          { path, trigger, restartNeeded: assessed.restartNeeded },
          `not applied until a restart: ${assessed.restartNeeded.join(', ')}`,
        );
      if (assessed.result === 'applied') {
        const previous = current;
        current = assessed.config;
        try {
          await opts.onReload(assessed.config);
        } catch (error) {
          current = previous;
          throw error;
        }
        logger.info({ path, trigger }, 'rules reloaded: records not yet routed use the new rules');
      } else if (assessed.result === 'unchanged') {
        logger.info({ path, trigger }, 'rules file read again: no change');
      }
    }
    opts.metrics?.rulesReload(report.result);
    return report;
  };
  // One reload at a time, in the order asked.
  const reload = (trigger: ReloadReport['trigger'] = 'call'): Promise<ReloadReport> => {
    const next = chain.then(() => reloadNow(trigger));
    chain = next.catch(() => undefined);
    return next;
  };
  const reloadLogged = (trigger: ReloadReport['trigger']): void => {
    reload(trigger).catch((error: unknown) =>
      logger.error({ path, trigger, error: String(error) }, 'rules reload failed; the previous rules stay'),
    );
  };

  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  if (opts.watch ?? true) {
    watcher = watch(dirname(path), { persistent: false }, () => {
      clearTimeout(timer);
      timer = setTimeout(() => reloadLogged('watch'), debounceMs);
    });
    watcher.on('error', (error) =>
      logger.warn({ path, error: String(error) }, 'watching the rules folder failed; SIGHUP still reloads'),
    );
  }
  const onHangup = (): void => reloadLogged('signal');
  const signals = opts.signals === undefined ? process : opts.signals;
  signals?.on('SIGHUP', onHangup);
  logger.info(
    { path, watching: watcher === undefined ? null : dirname(path), file: basename(path) },
    'rules reload armed (file changes and SIGHUP)',
  );

  return {
    reload,
    current: () => current,
    stop() {
      clearTimeout(timer);
      watcher?.close();
      signals?.off('SIGHUP', onHangup);
    },
  };
}

/** What the record loop calls; the wrapper hands each record to the pipeline of the rules in effect. */
export interface ReloadablePipeline {
  process(record: SourceRecord): Promise<Outcome>;
  /** From now on, records go to the pipeline built from `config`. */
  swap(config: Config): void;
  config(): Config;
}

export function createReloadablePipeline(
  config: Config,
  build: (config: Config) => { process(record: SourceRecord): Promise<Outcome> },
): ReloadablePipeline {
  let currentConfig = config;
  let pipeline = build(config);
  return {
    // The pipeline is picked when the record arrives: a swap during its (async) decode does not mix rules.
    process: (record) => pipeline.process(record),
    swap(next) {
      pipeline = build(next);
      currentConfig = next;
    },
    config: () => currentConfig,
  };
}
