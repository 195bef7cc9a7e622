/**
 * The Grafana dashboard and the alerts query only metrics the service exports, read from the registry
 * src/adapters/prom-metrics.ts builds (not a copied list), and every exported metric has a panel.
 * Alerts on readiness use kube-state-metrics, named here.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createPromMetrics } from '../../../src/adapters/prom-metrics.ts';
import { find, repoRoot } from '../../support/k8s.ts';

/** Names a scrape shows: histograms as _bucket, _sum and _count. */
async function exportedNames(): Promise<Set<string>> {
  const metrics = await createPromMetrics().registry.getMetricsAsJSON();
  return new Set(
    metrics.flatMap((m) =>
      String(m.type) === 'histogram' ? ['_bucket', '_sum', '_count'].map((s) => `${m.name}${s}`) : [m.name],
    ),
  );
}

const keywords = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'offset',
  'bool',
]);

/** The metric names a PromQL expression reads: identifiers that are not functions, keywords or labels. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  return [...bare.matchAll(/(?<![\w.])[A-Za-z_:][A-Za-z0-9_:]*/g)]
    .filter(
      (m) =>
        !bare
          .slice((m.index ?? 0) + m[0].length)
          .trimStart()
          .startsWith('('),
    )
    .map((m) => m[0])
    .filter((word) => !keywords.has(word));
}

interface Dashboard {
  panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
}
const dashboardText = readFileSync(new URL('k8s/app/grafana-dashboard.json', repoRoot), 'utf8');
const dashboard = JSON.parse(dashboardText) as Dashboard;

interface Rule {
  alert: string;
  expr: string;
  for?: string;
}
const rules = find<{ spec: { groups: Array<{ rules: Rule[] }> } }>(
  'PrometheusRule',
  'listing-notifier',
).spec.groups.flatMap((g) => g.rules);
/** Not the service's: kube-state-metrics, which kube-prometheus-stack runs. */
const kubeStateMetrics = new Set(['kube_pod_status_ready']);

describe('metric names in PromQL', () => {
  it('are read from an expression, functions, labels and ranges left out', () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (le) (rate(a_seconds_bucket{job="x", le!="1"}[5m]))) > on (job) b_total offset 5m',
      ),
    ).toEqual(['a_seconds_bucket', 'b_total']);
  });
});

describe('k8s/app/grafana-dashboard.json', () => {
  it('queries only metrics the service exports, in every panel', async () => {
    const exported = await exportedNames();
    expect(dashboard.panels.length).toBeGreaterThan(0);
    for (const panel of dashboard.panels) {
      expect(panel.targets.length, panel.title).toBeGreaterThan(0);
      for (const { expr } of panel.targets) {
        const names = metricNames(expr);
        expect(names.length, `${panel.title}: ${expr}`).toBeGreaterThan(0);
        for (const name of names) expect(exported, `${panel.title}: ${name}`).toContain(name);
      }
    }
  });

  it('has a panel for every metric the service exports', async () => {
    const queried = new Set(dashboard.panels.flatMap((p) => p.targets.flatMap((t) => metricNames(t.expr))));
    const metrics = await createPromMetrics().registry.getMetricsAsJSON();
    for (const m of metrics) {
      const names = String(m.type) === 'histogram' ? [`${m.name}_bucket`] : [m.name];
      expect(
        names.some((n) => queried.has(n)),
        m.name,
      ).toBe(true);
    }
  });

  it('shows dead letters, 429s by channel, queue depth by channel and outcomes by reason', () => {
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
    expect(exprs.some((e) => e.includes('outcome="dead-letter"'))).toBe(true);
    expect(exprs.some((e) => /by \(channel\).*slack_rate_limited_total/.test(e))).toBe(true);
    expect(exprs.some((e) => /by \(channel\).*delivery_queue_depth/.test(e))).toBe(true);
    expect(exprs.some((e) => /by \(outcome, reason\).*records_total/.test(e))).toBe(true);
    expect(exprs.some((e) => /histogram_quantile\(0\.99,.*end_to_end_latency_seconds_bucket/.test(e))).toBe(
      true,
    );
  });

  it("is shipped as a ConfigMap for Grafana's dashboard sidecar", () => {
    const configMap = find<{ data: Record<string, string> }>('ConfigMap', 'listing-notifier-dashboard');
    expect(configMap.metadata.labels?.grafana_dashboard).toBe('1');
    expect(Object.values(configMap.data)).toEqual([dashboardText]);
  });
});

describe('k8s PrometheusRule', () => {
  it('alerts on growing lag, dead letters, sustained 429s and pods not ready', () => {
    expect(rules.map((r) => r.alert).sort()).toEqual([
      'ListingNotifierDeadLetterBlocked',
      'ListingNotifierDeadLetters',
      'ListingNotifierKafkaUnreachable',
      'ListingNotifierLagGrowing',
      'ListingNotifierNotReady',
      'ListingNotifierSlackRateLimited',
    ]);
    // "Sustained" and "growing" mean a while, not one scrape.
    for (const name of [
      'ListingNotifierDeadLetterBlocked',
      'ListingNotifierKafkaUnreachable',
      'ListingNotifierLagGrowing',
      'ListingNotifierSlackRateLimited',
      'ListingNotifierNotReady',
    ])
      expect(rules.find((r) => r.alert === name)?.for, name).toMatch(/^\d+m$/);
  });

  it("queries only the service's metrics and kube-state-metrics", async () => {
    const exported = await exportedNames();
    for (const rule of rules) {
      const names = metricNames(rule.expr);
      expect(names.length, rule.alert).toBeGreaterThan(0);
      for (const name of names)
        expect(exported.has(name) || kubeStateMetrics.has(name), `${rule.alert}: ${name}`).toBe(true);
    }
  });
});
