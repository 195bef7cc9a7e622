/**
 * The Dockerfile, played through without a container engine (none runs here): its steps run in a
 * temporary folder, read from the Dockerfile itself (test/support/dockerfile.ts), and the result runs
 * the way k8s/app/deployment.yaml runs the image: as the Dockerfile's USER on a read-only root
 * filesystem with only /tmp writable (test/support/image-sandbox.sh: a mount namespace and chroot).
 *
 * - COPY copies what it names from the repository, minus .dockerignore, into <folder>/image/<WORKDIR>.
 * - RUN runs its shell line there with the Dockerfile's ENV and Node 24 first on PATH (the base image's
 *   node); npm's cache is the folder's own, so `npm cache clean --force` leaves the machine's alone.
 * - ENTRYPOINT + arguments start in the sandbox with the Dockerfile's ENV and WORKDIR: `--help`,
 *   `check-config` on the file CMD names, and the service as the Deployment runs it (its rules file
 *   mounted at /etc/listing-notifier), against the real stack and the Slack stand-in.
 * What differs from a real image: the base image's /usr and /etc are the machine's, and npm is the
 * machine's (11.x, like node:24's).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import dockerignoreModule from '@balena/dockerignore';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseConfig } from '../../src/config/index.ts';
import { envOf, type Instruction, parseDockerfile, readDockerfile } from '../support/dockerfile.ts';
import { connectPg, LISTINGS_TOPIC } from '../support/stack.ts';
import {
  deleteListings,
  insertListings,
  messagesFor,
  type SlackStandin,
  seedGroupAtEnd,
  startSlackStandin,
  uniqueGroupId,
  waitUntil,
} from './service/harness.ts';

const dockerignore = dockerignoreModule.default;
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const sandboxScript = fileURLToPath(new URL('../support/image-sandbox.sh', import.meta.url));
const LISTING = 860_001; // image test's own listing id (service tests: 810000-819999)

interface Image {
  dir: string;
  /** The image's files (what COPY and RUN put there). */
  files: string;
  env: Record<string, string>;
  workdir: string;
  user: string;
  entrypoint: string[];
  cmd: string[];
  /** What each RUN printed. */
  runLog: string[];
}

/** The machine's npm configuration files and TLS/proxy variables, whatever this process runs under. */
function machineNetworkEnv(): Record<string, string> {
  const npmConfig = (key: string) =>
    execFileSync('npm', ['config', 'get', key], { encoding: 'utf8', env: process.env }).trim();
  const passed = Object.entries(process.env).filter(
    ([key, value]) =>
      value !== undefined &&
      /^(NODE_EXTRA_CA_CERTS|SSL_CERT_FILE|SSL_CERT_DIR|(HTTPS?|NO)_PROXY)$/i.test(key),
  ) as Array<[string, string]>;
  return {
    ...Object.fromEntries(passed),
    npm_config_globalconfig: npmConfig('globalconfig'),
    npm_config_userconfig: npmConfig('userconfig') || join(homedir(), '.npmrc'),
  };
}

/** Plays FROM .. CMD into a new temporary folder (removed again when a step fails). */
async function playDockerfile(instructions: Instruction[]): Promise<Image> {
  const dir = await mkdtemp(join(tmpdir(), 'ln-image-'));
  try {
    return await playInto(dir, instructions);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function playInto(dir: string, instructions: Instruction[]): Promise<Image> {
  await chmod(dir, 0o755); // the sandbox's uid 1000 must reach the image's files
  const image: Image = {
    dir,
    files: join(dir, 'image'),
    env: {},
    workdir: '/',
    user: '0:0',
    entrypoint: [],
    cmd: [],
    runLog: [],
  };
  await mkdir(image.files, { mode: 0o755 });
  const ignore = dockerignore().add((await readFile(join(repoRoot, '.dockerignore'), 'utf8')).split('\n'));
  const node = await realpath(process.execPath);
  const at = (path: string) => join(image.files, posix.resolve(image.workdir, path));
  for (const step of instructions) {
    const where = `Dockerfile:${step.line} ${step.keyword}`;
    switch (step.keyword) {
      case 'FROM':
        if (!/^node:24(-|$)/.test(step.raw))
          throw new Error(`${where}: the play-through stands in for node:24 only`);
        break;
      case 'ENV':
        Object.assign(image.env, envOf([step]));
        break;
      case 'WORKDIR':
        image.workdir = posix.resolve(image.workdir, step.raw);
        await mkdir(at('.'), { recursive: true, mode: 0o755 });
        break;
      case 'COPY': {
        if (Object.keys(step.flags).length > 0) throw new Error(`${where}: flags are not played`);
        const args = step.exec ?? step.raw.split(/\s+/);
        const dest = args.at(-1) as string;
        for (const source of args.slice(0, -1)) {
          const target = dest.endsWith('/') ? join(at(dest), posix.basename(source)) : at(dest);
          await cp(join(repoRoot, source), target, {
            recursive: true,
            filter: (from) => {
              const relative = from.slice(repoRoot.length);
              return relative === '' || !ignore.ignores(relative);
            },
          });
        }
        break;
      }
      case 'RUN': {
        const output = execFileSync('sh', ['-c', step.raw], {
          cwd: at('.'),
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
          env: {
            PATH: `${dirname(node)}:/usr/local/bin:/usr/bin:/bin`,
            HOME: join(dir, 'build-home'),
            // The machine's network settings (registry, CA bundle, proxy), as a build host passes its
            // own to a build.
            ...machineNetworkEnv(),
            npm_config_cache: join(dir, 'npm-cache'),
            npm_config_update_notifier: 'false',
            ...image.env,
          },
        });
        image.runLog.push(output);
        break;
      }
      case 'USER':
        image.user = step.raw;
        break;
      case 'ENTRYPOINT':
      case 'CMD':
        if (!step.exec) throw new Error(`${where}: use the exec form (a JSON array)`);
        image[step.keyword === 'CMD' ? 'cmd' : 'entrypoint'] = step.exec;
        break;
      case 'EXPOSE':
      case 'HEALTHCHECK':
      case 'LABEL':
        break; // metadata: checked in test/unit/image/dockerfile.test.ts
      default:
        throw new Error(`${where}: not played by this test; teach it`);
    }
  }
  return image;
}

interface Started {
  child: ChildProcess;
  output: string[];
  exited: Promise<number | null>;
  /** The sandbox's pid: SIGTERM to it reaches the command. */
  pid: Promise<number>;
}

/** Starts ENTRYPOINT + args in the sandbox, as the image's user, on a read-only root. */
function startImage(
  image: Image,
  args: string[],
  o: { env?: Record<string, string>; mounts?: string[] } = {},
) {
  const env = {
    PATH: '/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: '/home/node',
    ...image.env,
    ...o.env,
  };
  const child = spawn(sandboxScript, [...image.entrypoint, ...args], {
    env: {
      PATH: process.env.PATH,
      SANDBOX_IMAGE: image.files,
      SANDBOX_NODE: process.execPath,
      SANDBOX_USER: image.user,
      SANDBOX_WORKDIR: image.workdir,
      SANDBOX_TMP: join(image.dir, 'tmp'),
      SANDBOX_ROOT: join(image.dir, 'root'),
      SANDBOX_MOUNTS: (o.mounts ?? []).join('\n'),
      SANDBOX_ENV: Object.entries(env)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  let onPid: (pid: number) => void = () => {};
  const pid = new Promise<number>((resolve) => {
    onPid = resolve;
  });
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line === '') continue;
      output.push(line);
      const match = /^image-sandbox: pid (\d+)$/.exec(line);
      if (match?.[1]) onPid(Number(match[1]));
    }
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output, exited, pid } satisfies Started;
}

async function runImage(image: Image, args: string[]): Promise<{ code: number | null; output: string }> {
  const started = startImage(image, args);
  const code = await started.exited;
  return { code, output: started.output.filter((l) => !l.startsWith('image-sandbox: pid')).join('\n') };
}

describe('Dockerfile, played through (no container engine here)', () => {
  const stack = inject('stack');
  const instructions = parseDockerfile(readDockerfile());
  let image: Image;

  beforeAll(async () => {
    image = await playDockerfile(instructions);
    await mkdir(join(image.dir, 'tmp'), { mode: 0o777 });
    await chmod(join(image.dir, 'tmp'), 0o1777);
    await mkdir(join(image.dir, 'root'));
  }, 300_000);

  afterAll(async () => {
    if (image) await rm(image.dir, { recursive: true, force: true });
  });

  it('installs the production dependencies with npm ci from the committed lock', async () => {
    const modules = await readdir(join(image.files, image.workdir, 'node_modules'));
    for (const name of ['kafkajs', 'pino', 'zod', '@slack']) expect(modules).toContain(name);
    for (const dev of ['vitest', 'typescript', '@biomejs', 'node']) expect(modules).not.toContain(dev);
    expect(await readFile(join(image.files, image.workdir, 'package-lock.json'), 'utf8')).toBe(
      await readFile(join(repoRoot, 'package-lock.json'), 'utf8'),
    );
    expect(image.runLog.join('\n')).toMatch(/added \d+ packages/);
    // The compile cache is warmed at build time (bin/warm-compile-cache.js). Only the warming is checked:
    // the play-through builds in a temporary folder and runs under chroot, so its cache keys (absolute
    // paths) differ from the run's, where a real image has /app for both.
    expect(image.runLog.join('\n')).toMatch(/warm-compile-cache: \d+ modules in \/\S*\/\.node-compile-cache/);
    expect((await readdir(join(image.files, image.workdir, '.node-compile-cache'))).length).toBeGreaterThan(
      0,
    );
    expect(await readdir(join(image.dir, 'npm-cache')).catch(() => [])).not.toContain('_cacache');
  });

  it('answers --help with the commands, exit 0', async () => {
    const { code, output } = await runImage(image, ['--help']);
    expect(output).toContain('usage: listing-notifier <command>');
    expect(code).toBe(0);
  });

  it('accepts the rules file CMD names (check-config)', async () => {
    const cmd = image.cmd;
    const config = cmd[cmd.indexOf('--config') + 1] ?? '';
    const { code, output } = await runImage(image, ['check-config', config]);
    expect(output).toBe(`ok: ${config}`);
    expect(code).toBe(0);
  });

  describe('the service, as k8s/app/deployment.yaml runs it', () => {
    let db: pg.Client;
    let standin: SlackStandin;
    let started: Started | undefined;

    beforeAll(async () => {
      db = await connectPg(stack.databaseUrl);
      standin = await startSlackStandin({ pace: { perSecond: 20, burst: 20 } });
      await insertListings(db, stack, [{ id: LISTING, price: '100.00' }]);
    });

    afterAll(async () => {
      if (started && started.child.exitCode === null) {
        started.child.kill('SIGKILL');
        await started.exited;
      }
      await deleteListings(db, [LISTING]);
      await standin?.close();
      await db?.end();
    });

    it('delivers a change as uid 1000 on a read-only root, writes nothing, and stops cleanly on SIGTERM', async () => {
      // The Deployment's rules file, with this test's group and a free health port.
      const groupId = uniqueGroupId('image');
      const clusterText = await readFile(join(repoRoot, 'k8s/app/listing-notifier.yaml'), 'utf8');
      const cluster = parseConfig(clusterText, 'k8s/app/listing-notifier.yaml');
      const configDir = join(image.dir, 'configmap');
      await mkdir(configDir, { mode: 0o755 });
      await writeFile(
        join(configDir, 'listing-notifier.yaml'),
        JSON.stringify({
          source: { ...cluster.source, groupId, topics: [LISTINGS_TOPIC], deadLetterTopic: null },
          http: { host: '127.0.0.1', port: 0 },
        }),
        { mode: 0o644 },
      );
      await seedGroupAtEnd(stack, groupId);

      started = startImage(image, ['run', '--config', '/etc/listing-notifier/listing-notifier.yaml'], {
        env: {
          KAFKA_BROKERS: stack.kafkaBrokers.join(','),
          SLACK_API_URL: standin.apiUrl,
          [cluster.slack.tokenEnv]: standin.token,
          LOG_LEVEL: 'info',
        },
        mounts: [`${configDir}:/etc/listing-notifier`],
      });
      const running = started;
      // Fails at once, with the output, should the service exit while this waits.
      const unlessExited = <T>(waiting: Promise<T>): Promise<T> =>
        Promise.race([
          waiting,
          running.exited.then((code) => {
            throw new Error(`the service exited (${code}):\n${running.output.join('\n')}`);
          }),
        ]);
      const healthUrl = await unlessExited(
        waitUntil('the service to report its health URL', async () =>
          running.output.map((l) => /health on (http:\/\/\S+)/.exec(l)?.[1]).find(Boolean),
        ),
      );
      await unlessExited(
        waitUntil('the service to join its group', async () =>
          (await fetch(`${healthUrl}/readyz`)).ok ? true : undefined,
        ),
      );

      await db.query('UPDATE public.listings SET prc_amt = 79.90 WHERE lst_id = $1', [LISTING]);
      await unlessExited(
        waitUntil('the price message at the stand-in', async () =>
          messagesFor(standin, LISTING).length > 0 ? true : undefined,
        ),
      );

      process.kill(await running.pid, 'SIGTERM');
      expect(await running.exited).toBe(0);
      const output = running.output.join('\n');
      expect(output).not.toMatch(/EROFS|EACCES|read-only file system|permission denied/i);
      // Nothing written, not even to /tmp.
      expect(await readdir(join(image.dir, 'tmp'))).toEqual([]);
    });
  });
});
