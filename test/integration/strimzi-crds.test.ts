/**
 * k8s/strimzi/ against Strimzi's own schemas: the CustomResourceDefinitions that Strimzi's CRD generator
 * makes from Strimzi's API classes (both from Maven Central, test/integration/strimzi/pom.xml), the way
 * Strimzi builds its install files. No cluster needed: each rendered KafkaConnect, KafkaConnector and
 * KafkaTopic is checked against its CRD's openAPIV3Schema with Ajv, and, as `kubectl apply` with strict
 * field validation would, for fields the schema does not know.
 *
 * Needs Maven (as scripts/stack.sh does) and Java 21 or later for the generator; the generated CRDs
 * are cached in $LISTING_NOTIFIER_CACHE/strimzi-crds/ (default ~/.cache/listing-notifier).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv from 'ajv';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type K8sObject, renderK8s, strimziKinds } from '../support/k8s.ts';

const pom = fileURLToPath(new URL('strimzi/pom.xml', import.meta.url));
const classes: Record<string, string> = {
  KafkaConnect: 'io.strimzi.api.kafka.model.connect.KafkaConnect',
  KafkaConnector: 'io.strimzi.api.kafka.model.connector.KafkaConnector',
  KafkaTopic: 'io.strimzi.api.kafka.model.topic.KafkaTopic',
};

interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: boolean | Schema;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}
interface Crd {
  spec: { names: { kind: string }; versions: Array<{ name: string; schema: { openAPIV3Schema: Schema } }> };
}

/** A `java` of major version 21 or later: $JAVA_HOME first, then /usr/lib/jvm/*. */
function java21(): string {
  const candidates = [
    ...(process.env.JAVA_HOME ? [join(process.env.JAVA_HOME, 'bin/java')] : []),
    ...(existsSync('/usr/lib/jvm')
      ? readdirSync('/usr/lib/jvm').map((d) => join('/usr/lib/jvm', d, 'bin/java'))
      : []),
  ].filter((path) => existsSync(path));
  for (const path of candidates) {
    // `java -XshowSettings:properties -version` writes the properties on stderr.
    const shown = spawnSync(path, ['-XshowSettings:properties', '-version'], { encoding: 'utf8' }).stderr;
    if (Number(/java\.specification\.version = (\d+)/.exec(shown)?.[1]) >= 21) return path;
  }
  throw new Error(
    `Strimzi's CRD generator needs Java 21 or later; none found (JAVA_HOME, /usr/lib/jvm/*: ${candidates.join(', ') || 'no java'})`,
  );
}

/** Generates (once, then cached) the CRDs and returns them by kind. */
function strimziCrds(): Map<string, Crd> {
  const versions = readFileSync(pom, 'utf8');
  const api = /<strimzi\.api\.version>(.+)<\//.exec(versions)?.[1];
  const generator = /<strimzi\.crd-generator\.version>(.+)<\//.exec(versions)?.[1];
  const cache = join(
    process.env.LISTING_NOTIFIER_CACHE ?? join(homedir(), '.cache/listing-notifier'),
    'strimzi-crds',
    `api-${api}-generator-${generator}`,
  );
  if (!existsSync(join(cache, '.complete'))) {
    const work = `${cache}.tmp-${process.pid}`;
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    const repo = process.env.LISTING_NOTIFIER_M2_REPO;
    try {
      execFileSync(
        'mvn',
        [
          '-q',
          '-B',
          ...(repo ? [`-Dmaven.repo.local=${repo}`] : []),
          '-f',
          pom,
          'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath',
          `-Dmdep.outputFile=${join(work, 'classpath.txt')}`,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
    } catch (error) {
      const e = error as NodeJS.ErrnoException & { stdout?: Buffer };
      if (e.code === 'ENOENT')
        throw new Error('mvn not found: install Maven (Debian: apt-get install maven)');
      throw new Error(
        `could not resolve Strimzi's API and CRD generator from Maven Central: ${String(e.stdout ?? e.message).slice(-2000)}`,
      );
    }
    const classpath = readFileSync(join(work, 'classpath.txt'), 'utf8').trim();
    execFileSync(
      java21(),
      [
        '-cp',
        classpath,
        'io.strimzi.crdgenerator.CrdGenerator',
        '--crd-api-version',
        'v1',
        '--api-versions',
        'v1',
        '--storage-version',
        'v1',
        '--yaml',
        ...Object.entries(classes).map(([kind, cls]) => `${cls}=${join(work, `${kind}.yaml`)}`),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    execFileSync('touch', [join(work, '.complete')]);
    rmSync(cache, { recursive: true, force: true });
    renameSync(work, cache);
  }
  return new Map(
    Object.keys(classes).map((kind) => [
      kind,
      parse(readFileSync(join(cache, `${kind}.yaml`), 'utf8')) as Crd,
    ]),
  );
}

/** Paths of fields the schema does not declare (what strict field validation rejects). */
function unknownFields(schema: Schema | undefined, value: unknown, path: string): string[] {
  if (schema === undefined || schema['x-kubernetes-preserve-unknown-fields']) return [];
  if (Array.isArray(value)) return value.flatMap((v, i) => unknownFields(schema.items, v, `${path}[${i}]`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, v]) => {
    if (path === '' && ['apiVersion', 'kind', 'metadata'].includes(key)) return [];
    const declared = schema.properties?.[key];
    if (declared) return unknownFields(declared, v, `${path}.${key}`);
    if (typeof schema.additionalProperties === 'object')
      return unknownFields(schema.additionalProperties, v, `${path}.${key}`);
    return schema.additionalProperties === true ? [] : [`${path}.${key}`];
  });
}

describe("k8s/strimzi against Strimzi's generated CRD schemas", () => {
  let crds: Map<string, Crd>;
  const ajv = new Ajv.default({ strict: false, allErrors: true });
  const objects = renderK8s().filter((o) => o.apiVersion.startsWith('kafka.strimzi.io/'));

  beforeAll(() => {
    crds = strimziCrds();
  }, 600_000);

  const problems = (o: K8sObject): string[] => {
    const crd = crds.get(o.kind);
    const version = crd?.spec.versions.find((v) => `kafka.strimzi.io/${v.name}` === o.apiVersion);
    if (!version) return [`${o.apiVersion} ${o.kind}: no such CRD version`];
    const validate = ajv.compile(version.schema.openAPIV3Schema);
    const invalid = validate(o) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
    const unknown = unknownFields(version.schema.openAPIV3Schema, o, '').map((p) => `${p}: unknown field`);
    return [...invalid, ...unknown].map((p) => `${o.kind}/${o.metadata.name}: ${p}`);
  };

  it('covers every Strimzi kind k8s/ renders', () => {
    expect([...new Set(objects.map((o) => o.kind))].sort()).toEqual([...strimziKinds].sort());
  });

  it('every KafkaConnect, KafkaConnector and KafkaTopic validates, with no unknown fields', () => {
    expect(objects.flatMap(problems)).toEqual([]);
  });

  it('the check fails on a wrong type, a bad enum value and an unknown field', () => {
    const connector = objects.find((o) => o.kind === 'KafkaConnector') as K8sObject & { spec: object };
    expect(problems({ ...connector, spec: { ...connector.spec, tasksMax: 'one' } }).join('\n')).toMatch(
      /tasksMax must be integer/,
    );
    expect(problems({ ...connector, spec: { ...connector.spec, state: 'sleeping' } }).join('\n')).toMatch(
      /state must be equal to one of the allowed values/,
    );
    const connect = objects.find((o) => o.kind === 'KafkaConnect') as K8sObject & { spec: object };
    expect(problems({ ...connect, spec: { ...connect.spec, externalConfiguration: {} } })).toEqual([
      'KafkaConnect/listings-connect: .spec.externalConfiguration: unknown field',
    ]);
  });
});
