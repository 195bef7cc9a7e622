/**
 * Finds or starts the real stack once for the integration project, and hands its endpoints to the
 * tests with `provide('stack', ...)` (tests: `inject('stack')`). In order:
 *
 * 1. KAFKA_BROKERS + DATABASE_URL + CONNECT_URL set: use that stack as it is.
 * 2. A Docker engine answers: docker-compose.yml through testcontainers (stopped afterwards).
 * 3. Otherwise: `scripts/stack.sh up` (native processes; left running for the next run and for
 *    other clones, `scripts/stack.sh down` stops it).
 *
 * Never skips: when no stack can be had, setup fails and says why.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DockerComposeEnvironment, getContainerRuntimeClient, Wait } from 'testcontainers';
import type { TestProject } from 'vitest/node';
import {
  CONNECTOR_NAME,
  endpointsFromEnv,
  localStackEndpoints,
  type StackEndpoints,
  waitForConnectorRunning,
} from '../support/stack.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

type Teardown = () => Promise<void>;

async function dockerAnswers(): Promise<boolean> {
  try {
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

async function startCompose(): Promise<{ endpoints: StackEndpoints; teardown: Teardown }> {
  // The compose file publishes the native stack's host ports, so the endpoints are the same.
  const environment = await new DockerComposeEnvironment(repoRoot, 'docker-compose.yml')
    .withWaitStrategy('connect-1', Wait.forHttp('/connectors', 8083))
    .up();
  return {
    endpoints: localStackEndpoints('testcontainers'),
    teardown: () => environment.down().then(() => {}),
  };
}

async function startNative(): Promise<{ endpoints: StackEndpoints; teardown: Teardown }> {
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn('bash', ['scripts/stack.sh', 'up'], { cwd: repoRoot, stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', resolve);
  });
  if (code !== 0) {
    throw new Error(
      `scripts/stack.sh up exited with ${code}: the integration tests need the stack ` +
        '(or set KAFKA_BROKERS, DATABASE_URL and CONNECT_URL to one that runs)',
    );
  }
  return {
    endpoints: localStackEndpoints('native'),
    teardown: async () =>
      console.log('[integration] native stack left running (scripts/stack.sh down stops it)'),
  };
}

export default async function setup(project: TestProject): Promise<Teardown> {
  const fromEnv = endpointsFromEnv();
  let found: { endpoints: StackEndpoints; teardown: Teardown };
  if (fromEnv) {
    found = { endpoints: fromEnv, teardown: async () => {} };
  } else if (await dockerAnswers()) {
    console.log('[integration] Docker answers: starting docker-compose.yml with testcontainers');
    found = await startCompose();
  } else {
    console.log(
      '[integration] no stack in the environment and no Docker engine: running scripts/stack.sh up',
    );
    found = await startNative();
  }
  const { endpoints } = found;
  console.log(
    `[integration] stack: ${endpoints.source} (kafka ${endpoints.kafkaBrokers.join(',')}, ` +
      `postgres ${endpoints.databaseUrl.replace(/\/\/[^@]*@/, '//***@')}, connect ${endpoints.connectUrl})`,
  );
  await waitForConnectorRunning(endpoints.connectUrl, CONNECTOR_NAME);
  project.provide('stack', endpoints);
  return found.teardown;
}
