/**
 * The Kafka side in Kubernetes agrees with the native stack and the service: the KafkaConnector is
 * debezium/connector.json, the KafkaConnect runs the same Kafka and Debezium versions
 * (scripts/stack/versions.env) and gives the connector every ${env:...} it reads, the KafkaTopics are
 * the service's topics, and the autoscaler's ceiling is the topic's partition count.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/index.ts';
import { find, type K8sObject, readText, readYaml, renderK8s } from '../../support/k8s.ts';
import { readVersionsEnv } from '../../support/stack.ts';

interface Connector {
  name: string;
  config: Record<string, string>;
}
interface KafkaConnector {
  metadata: { labels: Record<string, string> };
  spec: { class: string; tasksMax: number; config: Record<string, unknown> };
}
interface KafkaConnect {
  metadata: { annotations: Record<string, string> };
  spec: {
    version: string;
    bootstrapServers: string;
    config: Record<string, unknown>;
    build: { plugins: Array<{ artifacts: Array<Record<string, string>> }> };
    template: { connectContainer: { env: Array<{ name: string }> } };
  };
}
interface KafkaTopic {
  metadata: { labels: Record<string, string> };
  spec: { partitions: number; topicName?: string };
}
interface ScaledObject {
  spec: {
    minReplicaCount: number;
    maxReplicaCount: number;
    triggers: Array<{ type: string; metadata: Record<string, string> }>;
  };
}

const connector = JSON.parse(readText('debezium/connector.json')) as Connector;
const versions = readVersionsEnv();
const kafkaConnector = find<KafkaConnector>('KafkaConnector', connector.name);
const kafkaConnect = find<KafkaConnect>(
  'KafkaConnect',
  kafkaConnector.metadata.labels['strimzi.io/cluster'] ?? '?',
);
const clusterConfig = parseConfig(readText('k8s/app/listing-notifier.yaml'), 'k8s/app/listing-notifier.yaml');
const listingsTopic = clusterConfig.source.topics[0] ?? '?';
const topicName = (t: K8sObject & KafkaTopic) => t.spec.topicName ?? t.metadata.name;
const topics = renderK8s().filter((o) => o.kind === 'KafkaTopic') as Array<K8sObject & KafkaTopic>;
const topic = (name: string) => {
  const found = topics.find((t) => topicName(t) === name);
  if (!found) throw new Error(`no KafkaTopic for ${name}`);
  return found;
};

describe('Strimzi KafkaConnector', () => {
  it('is debezium/connector.json, value for value', () => {
    const { class: connectorClass, tasksMax, config } = kafkaConnector.spec;
    expect({
      name: kafkaConnector.metadata.name,
      config: { 'connector.class': connectorClass, 'tasks.max': String(tasksMax), ...config },
    }).toEqual(connector);
  });

  it('belongs to a KafkaConnect that takes connectors as resources', () => {
    expect(kafkaConnect.metadata.annotations['strimzi.io/use-connector-resources']).toBe('true');
  });
});

describe('Strimzi KafkaConnect', () => {
  it('runs the Kafka version of the native stack, with the Debezium plugin from its Maven coordinates', () => {
    expect(kafkaConnect.spec.version).toBe(versions.KAFKA_VERSION);
    const artifacts = kafkaConnect.spec.build.plugins.flatMap((p) => p.artifacts);
    expect(artifacts).toEqual([
      {
        type: 'maven',
        group: 'io.debezium',
        artifact: 'debezium-connector-postgres',
        version: versions.DEBEZIUM_VERSION,
      },
    ]);
    // The same coordinates scripts/stack.sh resolves.
    expect(readText('scripts/stack.sh')).toContain(
      'io.debezium:debezium-connector-postgres:$DEBEZIUM_VERSION',
    );
  });

  it("sets every env variable the connector config reads, through Kafka's env config provider", () => {
    const wanted = Object.values(connector.config).flatMap((v) =>
      [...v.matchAll(/\$\{env:([A-Z0-9_]+)\}/g)].map((m) => m[1]),
    );
    expect(wanted.length).toBeGreaterThan(0);
    const env = kafkaConnect.spec.template.connectContainer.env.map((e) => e.name);
    for (const name of wanted) expect(env, String(name)).toContain(name);
    expect(kafkaConnect.spec.config).toMatchObject({
      'config.providers': 'env',
      'config.providers.env.class': 'org.apache.kafka.common.config.provider.EnvVarConfigProvider',
    });
  });

  it('reads the same Kafka cluster as the service and its topics', () => {
    const cluster = topic(listingsTopic).metadata.labels['strimzi.io/cluster'];
    const bootstrap = `${cluster}-kafka-bootstrap`;
    expect(kafkaConnect.spec.bootstrapServers.startsWith(`${bootstrap}:`)).toBe(true);
    expect(clusterConfig.source.brokers.every((b) => b.startsWith(`${bootstrap}.kafka.svc:`))).toBe(true);
  });
});

describe('KafkaTopics and the autoscaler', () => {
  const scaled = find<ScaledObject>('ScaledObject', 'listing-notifier');
  const trigger = scaled.spec.triggers.find((t) => t.type === 'kafka');

  it("declare the service's topics and its dead-letter topic", () => {
    expect(topics.map(topicName).sort()).toEqual(
      [...clusterConfig.source.topics, clusterConfig.source.deadLetterTopic ?? `${listingsTopic}.dlq`].sort(),
    );
    // Debezium's topic: <topic.prefix>.<schema>.<table>.
    expect(listingsTopic).toBe(
      `${connector.config['topic.prefix']}.${connector.config['table.include.list']}`,
    );
  });

  it("scale on the service's own group and topic, through the same brokers", () => {
    expect(trigger?.metadata).toMatchObject({
      consumerGroup: clusterConfig.source.groupId,
      topic: listingsTopic,
      bootstrapServers: clusterConfig.source.brokers.join(','),
      allowIdleConsumers: 'false',
    });
  });

  it('never run more members than the topic has partitions, with the number written once', () => {
    const partitions = topic(listingsTopic).spec.partitions;
    expect(partitions).toBeGreaterThan(1);
    expect(scaled.spec.maxReplicaCount).toBe(partitions);
    expect(scaled.spec.minReplicaCount).toBeLessThanOrEqual(partitions);
    // Copied by k8s/kustomization.yaml, not written a second time.
    expect(readYaml<{ spec: Record<string, unknown> }>('k8s/app/scaledobject.yaml').spec).not.toHaveProperty(
      'maxReplicaCount',
    );
    // Should Debezium create the topic itself (topic.creation.*), it must ask for the same count.
    const debeziumPartitions = connector.config['topic.creation.default.partitions'];
    if (debeziumPartitions !== undefined) expect(Number(debeziumPartitions)).toBe(partitions);
  });
});
