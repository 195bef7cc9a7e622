/**
 * The rendered Deployment must agree with the service it runs and the image it runs in: the health
 * port and paths, a grace period longer than the shutdown drain, the rules file it mounts (which must
 * pass check-config), the Secret holding the env var the config names, and a pod that runs as the
 * image's non-root user on a read-only root filesystem.
 */
import { describe, expect, it } from 'vitest';
import { checkConfig, parseConfig } from '../../../src/config/index.ts';
import { find, readText, readYaml, renderK8s } from '../../support/k8s.ts';

interface Container {
  args: string[];
  ports: Array<{ name: string; containerPort: number }>;
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
  envFrom: Array<{ secretRef: { name: string } }>;
  volumeMounts: Array<{ name: string; mountPath: string; readOnly?: boolean; subPath?: string }>;
  securityContext: Record<string, unknown>;
}
interface Volume {
  name: string;
  configMap?: { name: string };
  emptyDir?: { medium?: string; sizeLimit?: string };
}
interface PodSpec {
  terminationGracePeriodSeconds: number;
  securityContext: Record<string, unknown>;
  containers: Container[];
  volumes: Volume[];
}
interface Deployment {
  spec: {
    replicas?: number;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
}

const deployment = find<Deployment>('Deployment', 'listing-notifier');
const pod = deployment.spec.template.spec;
const container = pod.containers[0] as Container;
const configArg = container.args[container.args.indexOf('--config') + 1] ?? '';
const configMount = container.volumeMounts.find((m) => configArg.startsWith(`${m.mountPath}/`));
const configVolume = pod.volumes.find((v) => v.name === configMount?.name);
const configMap = find<{ data: Record<string, string> }>('ConfigMap', configVolume?.configMap?.name ?? '?');
const clusterConfigText = configMap.data[configArg.slice((configMount?.mountPath.length ?? 0) + 1)] ?? '';
const clusterConfig = parseConfig(clusterConfigText, 'k8s/app/listing-notifier.yaml');

describe('k8s Deployment', () => {
  it('probes the health server on the configured port', () => {
    expect(container.ports).toContainEqual({ name: 'http', containerPort: clusterConfig.http.port });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
  });

  it('gives SIGTERM more time than the service takes to drain', () => {
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(
      clusterConfig.delivery.shutdownDeadlineMs,
    );
  });

  it('runs the rules file it mounts, whole (no subPath, so updates arrive), and that file is valid', () => {
    expect(configMount).toBeDefined();
    expect(configMount?.subPath).toBeUndefined();
    expect(configMount?.readOnly).toBe(true);
    expect(clusterConfigText).toBe(readText('k8s/app/listing-notifier.yaml'));
    expect(checkConfig(clusterConfigText, 'k8s/app/listing-notifier.yaml')).toMatchObject({ ok: true });
  });

  it('routes exactly as the worked example in config/listing-notifier.yaml', () => {
    const example = parseConfig(readText('config/listing-notifier.yaml'), 'config/listing-notifier.yaml');
    for (const key of ['timeZone', 'locale', 'fields', 'channels', 'rules', 'unmatched'] as const)
      expect(clusterConfig[key], key).toEqual(example[key]);
  });

  it('takes the Slack token from a Secret holding the env var the config names', () => {
    const names = container.envFrom.map((e) => e.secretRef.name);
    expect(names).toHaveLength(1);
    const secret = readYaml<{ metadata: { name: string }; stringData: Record<string, string> }>(
      'k8s/app/secret.example.yaml',
    );
    expect(secret.metadata.name).toBe(names[0]);
    expect(Object.keys(secret.stringData)).toEqual([clusterConfig.slack.tokenEnv]);
    // The token is never in the rules file.
    expect(clusterConfigText).not.toMatch(/xox[abp]-/);
  });

  it('finding 7 (issue 19): no placeholder Secret is part of the kustomization (re-applying would overwrite the real token)', () => {
    const secrets = renderK8s().filter((o) => o.kind === 'Secret');
    expect(secrets.map((o) => o.metadata.name)).toEqual([]);
    expect(JSON.stringify(renderK8s())).not.toMatch(/xox[abp]-replace-me|replace-me/);
    // The README says how to create them once instead.
    const readme = readText('k8s/README.md');
    expect(readme).toContain('create secret generic listing-notifier-secrets');
    expect(readme).toContain('create secret generic monolith-debezium');
  });

  it('finding 7 (issue 19): the NetworkPolicy lets the pods reach Redis on 6379 (the shared store)', () => {
    interface Peer {
      namespaceSelector?: { matchLabels: Record<string, string> };
      podSelector?: { matchLabels: Record<string, string> };
    }
    const policy = find<{
      spec: { egress: Array<{ to?: Peer[]; ports: Array<{ protocol: string; port: number }> }> };
    }>('NetworkPolicy', 'listing-notifier');
    const redis = policy.spec.egress.filter((rule) =>
      rule.ports.some((p) => p.protocol === 'TCP' && p.port === 6379),
    );
    expect(redis).toHaveLength(1);
    expect(redis[0]?.to).toEqual([
      {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'redis' } },
        podSelector: { matchLabels: { 'app.kubernetes.io/name': 'redis' } },
      },
    ]);
  });

  it('leaves the replica count to the autoscaler', () => {
    expect(deployment.spec.replicas).toBeUndefined();
    const scaled = find<{ spec: { scaleTargetRef: { name: string } } }>('ScaledObject', 'listing-notifier');
    expect(scaled.spec.scaleTargetRef.name).toBe(deployment.metadata.name);
  });

  it('runs as a non-root user on a read-only root filesystem, with only /tmp writable', () => {
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    const writable = container.volumeMounts.filter((m) => !m.readOnly);
    expect(writable.map((m) => m.mountPath)).toEqual(['/tmp']);
    expect(pod.volumes.find((v) => v.name === writable[0]?.name)?.emptyDir).toBeDefined();
  });

  it('is selected by its Service, PodDisruptionBudget, NetworkPolicy and ServiceMonitor', () => {
    const labels = deployment.spec.template.metadata.labels;
    expect(labels).toMatchObject(deployment.spec.selector.matchLabels);
    const selects = (selector: Record<string, string>) =>
      Object.entries(selector).every(([k, v]) => labels[k] === v);
    const service = find<{ spec: { selector: Record<string, string>; ports: Array<{ name: string }> } }>(
      'Service',
      'listing-notifier',
    );
    expect(selects(service.spec.selector)).toBe(true);
    for (const kind of ['PodDisruptionBudget', 'NetworkPolicy']) {
      const o = find<{ spec: { selector?: { matchLabels: Record<string, string> } } }>(
        kind,
        'listing-notifier',
      );
      const selector =
        o.spec.selector ?? (o.spec as { podSelector: { matchLabels: Record<string, string> } }).podSelector;
      expect(selects(selector.matchLabels), kind).toBe(true);
    }
    const monitor = find<{
      spec: {
        selector: { matchLabels: Record<string, string> };
        endpoints: Array<{ port: string; path: string }>;
      };
    }>('ServiceMonitor', 'listing-notifier');
    expect(
      Object.entries(monitor.spec.selector.matchLabels).every(([k, v]) => service.metadata.labels?.[k] === v),
    ).toBe(true);
    expect(service.spec.ports.map((p) => p.name)).toContain(monitor.spec.endpoints[0]?.port);
    expect(monitor.spec.endpoints[0]?.path).toBe('/metrics');
  });
});
