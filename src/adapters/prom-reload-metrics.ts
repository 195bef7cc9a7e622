/**
 * ReloadMetrics (src/app/rules-reload.ts) on prom-client: `listing_notifier_rules_reloads_total{result}`
 * with result applied | unchanged | restart-needed | invalid, so that an alert can say "the rules file
 * in the ConfigMap does not validate; the pod runs the old rules" (increase of result="invalid").
 */
import { Counter, type Registry } from 'prom-client';
import type { ReloadMetrics, ReloadResult } from '../ports/reload-metrics.ts';

const results: ReloadResult[] = ['applied', 'unchanged', 'restart-needed', 'invalid'];

export function createReloadMetrics(registry: Registry): ReloadMetrics {
  const reloads = new Counter({
    name: 'listing_notifier_rules_reloads_total',
    help: 'Rules file reloads (file change or SIGHUP), by result (applied, unchanged, restart-needed, invalid).',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  // Every result shows as 0 from the start: rate() and increase() need the series to exist.
  for (const result of results) reloads.inc({ result }, 0);
  return { rulesReload: (result) => reloads.inc({ result }) };
}
