/**
 * The Kubernetes Deployment must agree with the service it runs: the health port and paths, a grace
 * period longer than the shutdown drain, the config file mounted where the args say, and the Slack
 * token in the env var the config names.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '../../../src/config/index.ts';

const read = (file: string): unknown =>
  parse(readFileSync(new URL(`../../../k8s/${file}`, import.meta.url), 'utf8'));

interface Container {
  args: string[];
  ports: Array<{ name: string; containerPort: number }>;
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
  envFrom: Array<{ secretRef: { name: string } }>;
  volumeMounts: Array<{ name: string; mountPath: string }>;
}
interface Deployment {
  spec: { template: { spec: { terminationGracePeriodSeconds: number; containers: Container[] } } };
}

const deployment = read('deployment.yaml') as Deployment;
const pod = deployment.spec.template.spec;
const container = pod.containers[0] as Container;
const defaults = parseConfig('{}', 'defaults');

describe('k8s/deployment.yaml', () => {
  it('probes the health server on the configured port', () => {
    expect(container.ports).toContainEqual({ name: 'http', containerPort: defaults.http.port });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
  });

  it('gives SIGTERM more time than the service takes to drain', () => {
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(defaults.delivery.shutdownDeadlineMs);
  });

  it('runs the config file it mounts', () => {
    const configArg = container.args[container.args.indexOf('--config') + 1] ?? '';
    const mount = container.volumeMounts.find((m) => m.name === 'config');
    expect(mount).toBeDefined();
    expect(configArg.startsWith(`${mount?.mountPath}/`)).toBe(true);
  });

  it('takes the Slack token from the secret holding the env var the config names', () => {
    const secret = read('secret.example.yaml') as {
      metadata: { name: string };
      stringData: Record<string, string>;
    };
    expect(container.envFrom).toContainEqual({ secretRef: { name: secret.metadata.name } });
    expect(Object.keys(secret.stringData)).toEqual([defaults.slack.tokenEnv]);
  });
});
