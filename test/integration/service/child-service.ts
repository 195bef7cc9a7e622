/**
 * The service as a child process for the end-to-end tests (`listing-notifier run --config FILE`,
 * configured like a deployment), and what a test asks of a running one: its health URL, /readyz and
 * the counters on /metrics. The one place that starts a child and waits for it to run and join;
 * harness.ts re-exports it, so tests import everything from there.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../../src/config/index.ts';
import type { SlackStandin } from '../../../tools/slack-standin/server.ts';
import { waitUntil } from '../../support/stack.ts';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
/** From spawn to the "running" line; generous, the machine is shared. */
const RUN_TIMEOUT_MS = 60_000;

export interface ChildService {
  child: ChildProcess;
  /** stdout and stderr lines, in the order they came. */
  output: string[];
  /** stdout's lines alone (the JSON log). */
  stdout: string[];
  /** stderr's lines alone (what the CLI tells people, Node's warnings). */
  stderr: string[];
  exited: Promise<number | null>;
  /** Waits for the "running" line with the health URL. */
  ready: Promise<string>;
  cleanup(): Promise<void>;
}

export interface ChildOptions {
  /**
   * Run the child as this user (and group), so a fault test can aim a firewall rule at its traffic
   * alone (`iptables -m owner --uid-owner`). Needs root; the config file is then made readable to it.
   */
  user?: { uid: number; gid: number };
  /** A memory cgroup's cgroup.procs (test/support/cgroup.ts) the service joins before it starts. */
  cgroupProcsFile?: string;
  /** More environment for the child. */
  env?: Record<string, string>;
  /**
   * The config file names the brokers itself (config.source as given) and the child's environment has
   * no KAFKA_BROKERS (a stack taken from the environment sets it in the test's, and it would replace
   * source.brokers): for a listener other than the stack's plain one. Default: false, the brokers come
   * through KAFKA_BROKERS like a deployment's.
   */
  brokersInFile?: boolean;
}

/** The service as a child process: `listing-notifier run --config FILE`, configured like a deployment. */
export async function startChild(
  config: Config,
  standin: SlackStandin,
  options: ChildOptions = {},
): Promise<ChildService> {
  const dir = await mkdtemp(join(tmpdir(), 'ln-e2e-'));
  const file = join(dir, 'config.json');
  const brokersInFile = options.brokersInFile === true;
  // The child reads brokers and the Slack URL from the environment, like a deployment would.
  const { source, slack, ...rest } = config;
  await writeFile(
    file,
    JSON.stringify({
      ...rest,
      source: brokersInFile ? source : { ...source, brokers: ['127.0.0.1:1'] },
      slack: { tokenEnv: slack.tokenEnv },
    }),
  );
  if (options.user !== undefined) {
    await chmod(dir, 0o755);
    await chmod(file, 0o644);
  }
  const argv = [process.execPath, join(repoRoot, 'bin/listing-notifier.js'), 'run', '--config', file];
  // In a memory cgroup (test/support/cgroup.ts): a shell joins it and then becomes the service (exec),
  // so every page the service touches is charged to the group and the child's pid is the service's.
  const [command, ...args] =
    options.cgroupProcsFile === undefined
      ? argv
      : ['/bin/sh', '-c', 'echo $$ > "$0" && exec "$@"', options.cgroupProcsFile, ...argv];
  const { KAFKA_BROKERS: _fromTheTest, ...testEnv } = process.env;
  const child = spawn(command as string, args, {
    cwd: repoRoot,
    ...options.user,
    env: {
      ...(brokersInFile ? testEnv : process.env),
      SLACK_BOT_TOKEN: standin.token,
      ...(brokersInFile ? {} : { KAFKA_BROKERS: source.brokers.join(',') }),
      SLACK_API_URL: slack.apiUrl,
      LOG_LEVEL: 'info',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const stdout: string[] = [];
  const stderr: string[] = [];
  let onReady: (url: string) => void = () => {};
  const ready = new Promise<string>((resolve) => {
    onReady = resolve;
  });
  const collect = (into: string[]) => (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line === '') continue;
      output.push(line);
      into.push(line);
      const match = /health on (http:\/\/\S+)/.exec(line);
      if (match?.[1] !== undefined) onReady(match[1]);
    }
  };
  child.stdout?.on('data', collect(stdout));
  child.stderr?.on('data', collect(stderr));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    output,
    stdout,
    stderr,
    exited,
    ready,
    cleanup: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * startChild, then waits for its "running" line (it serves /healthz, /readyz and /metrics), failing at
 * once with its output when it exits first. The child goes into `children` first, so the test's
 * cleanup stops it whatever happens next. Returns it with its health URL.
 */
export async function startRunningChild(
  config: Config,
  standin: SlackStandin,
  children: ChildService[],
  options: ChildOptions = {},
): Promise<{ child: ChildService; url: string }> {
  const child = await startChild(config, standin, options);
  children.push(child);
  let timer: NodeJS.Timeout | undefined;
  try {
    const url = await Promise.race([
      child.ready,
      child.exited.then((code) => {
        throw new Error(`the service exited (${code}) before it ran:\n${child.output.join('\n')}`);
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`timed out after ${RUN_TIMEOUT_MS} ms waiting for the process to run`)),
          RUN_TIMEOUT_MS,
        );
      }),
    ]);
    return { child, url };
  } finally {
    clearTimeout(timer);
  }
}

/** startRunningChild, then waits until it is a member of its group (/readyz answers 200). */
export async function startJoinedChild(
  config: Config,
  standin: SlackStandin,
  children: ChildService[],
  options: ChildOptions = {},
): Promise<{ child: ChildService; url: string }> {
  const running = await startRunningChild(config, standin, children, options);
  await waitUntil('the process to join its group', async () =>
    (await readyz(running.url))?.status === 200 ? true : undefined,
  );
  return running;
}

/** What /readyz says (src/app/health-server.ts); the fields these tests read. */
export interface ReadyzBody {
  ready: boolean;
  reason?: string;
  assigned?: unknown[];
  /** With the Redis store: `fallback` while the pace gates are on the local share. */
  store?: { kind: string; connected: boolean; fallback: boolean };
  [field: string]: unknown;
}

/** /readyz's status and body (a 503 has a body too), or undefined while nothing answers. */
export async function readyz(url: string): Promise<{ status: number; body: ReadyzBody } | undefined> {
  const response = await fetch(`${url}/readyz`).catch(() => undefined);
  if (response === undefined) return undefined;
  const body = (await response.json().catch(() => undefined)) as ReadyzBody | undefined;
  return body === undefined ? undefined : { status: response.status, body };
}

/**
 * The sum of a metric's samples on /metrics, of those whose labels contain `labels` (say
 * 'kind="digest"') when given; 0 when nothing answers (the process is gone).
 */
export async function metricSum(url: string, name: string, labels?: string): Promise<number> {
  const text = await fetch(`${url}/metrics`)
    .then((r) => r.text())
    .catch(() => '');
  let sum = 0;
  for (const line of text.split('\n')) {
    const sample = line.startsWith(`${name}{`) || line.startsWith(`${name} `);
    if (sample && (labels === undefined || line.includes(labels))) sum += Number(line.split(' ').at(-1));
  }
  return sum;
}
