/**
 * `kubectl kustomize k8s`, rendered once per test file, as parsed objects. kubectl (with kustomize
 * v4.5 or later, for `replacements`) is the one tool these tests need from the machine: on Debian,
 * Google's `kubectl` package or any kubectl >= 1.24 (Debian's own kubernetes-client 1.20 is too old).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';

export const repoRoot = new URL('../../', import.meta.url);

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

const kubectlNeeded =
  "install kubectl >= 1.24 (kustomize v4.5 or later; Debian bookworm's kubernetes-client 1.20 is too old)";

function kubectl(args: string[]): string {
  try {
    return execFileSync('kubectl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT')
      throw new Error(`kubectl not found: the k8s tests render with \`kubectl kustomize\`; ${kubectlNeeded}`);
    throw new Error(`kubectl ${args.join(' ')} failed: ${String(e.stderr ?? e.message).trim()}`);
  }
}

function kustomize(dir: string): string {
  const version = JSON.parse(kubectl(['version', '--client', '-o', 'json'])) as { kustomizeVersion?: string };
  const [major = 0, minor = 0] = (/^v(\d+)\.(\d+)/.exec(version.kustomizeVersion ?? '') ?? [])
    .slice(1)
    .map(Number);
  if (major < 4 || (major === 4 && minor < 5)) {
    throw new Error(
      `kubectl's kustomize is ${version.kustomizeVersion ?? 'unknown'} and k8s/ uses replacements: ${kubectlNeeded}`,
    );
  }
  return kubectl(['kustomize', dir]);
}

/** Validated in the integration suite, against the CRD schemas Strimzi generates from its API classes. */
export const strimziKinds = ['KafkaConnect', 'KafkaConnector', 'KafkaTopic'];

let rendered: K8sObject[] | undefined;

/** Every object `kubectl kustomize k8s` renders. */
export function renderK8s(): K8sObject[] {
  rendered ??= parseAllDocuments(kustomize(fileURLToPath(new URL('k8s', repoRoot))))
    .map((doc) => doc.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
  return rendered;
}

/** The one rendered object of this kind and name; throws when there is none or several. */
export function find<T = K8sObject>(kind: string, name: string): T & K8sObject {
  const found = renderK8s().filter((o) => o.kind === kind && o.metadata.name === name);
  if (found.length !== 1)
    throw new Error(`expected one ${kind}/${name} in the rendered manifests, found ${found.length}`);
  return found[0] as T & K8sObject;
}

/** A file of the repository, as text. */
export const readText = (path: string): string => readFileSync(new URL(path, repoRoot), 'utf8');
/** A YAML file of the repository, parsed (the first document). */
export const readYaml = <T>(path: string): T => parse(readText(path)) as T;
