/**
 * A memory cgroup (Linux cgroup v1, the memory controller) to run the service under an enforced limit,
 * as Kubernetes enforces a container's `resources.limits.memory`: past the limit the kernel reclaims
 * and then OOM-kills inside the group. Used by bench/burst.ts and the flood memory test.
 *
 * Needs root and /sys/fs/cgroup/memory (this machine has both); `available()` says whether it can work.
 * memory.max_usage_in_bytes counts page cache the process caused too; VmHWM of the process is its RSS.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';

const ROOT = '/sys/fs/cgroup/memory';

export interface MemoryCgroupStats {
  /** memory.max_usage_in_bytes */
  maxUsageBytes: number;
  /** memory.failcnt: how often the limit was hit (reclaim ran). */
  failcnt: number;
  /** oom_kill in memory.oom_control: processes the kernel killed for memory. */
  oomKills: number;
}

export interface MemoryCgroup {
  path: string;
  limitBytes: number;
  /** The file a process writes its pid to, to join. */
  procsFile: string;
  stats(): Promise<MemoryCgroupStats>;
  /** Removes the group (it must be empty). */
  remove(): Promise<void>;
}

export const cgroupAvailable = (): boolean =>
  process.platform === 'linux' && existsSync(join(ROOT, 'memory.limit_in_bytes')) && process.getuid?.() === 0;

export async function createMemoryCgroup(name: string, limitBytes: number): Promise<MemoryCgroup> {
  const path = join(ROOT, name);
  await mkdir(path, { recursive: true });
  await writeFile(join(path, 'memory.limit_in_bytes'), String(limitBytes));
  // No swap on this machine; with some, swapping would hide what the limit does.
  await writeFile(join(path, 'memory.swappiness'), '0').catch(() => {});
  const num = async (file: string): Promise<number> =>
    Number((await readFile(join(path, file), 'utf8')).trim());
  return {
    path,
    limitBytes,
    procsFile: join(path, 'cgroup.procs'),
    stats: async () => {
      const oom = await readFile(join(path, 'memory.oom_control'), 'utf8');
      return {
        maxUsageBytes: await num('memory.max_usage_in_bytes'),
        failcnt: await num('memory.failcnt'),
        oomKills: Number(/oom_kill (\d+)/.exec(oom)?.[1] ?? 0),
      };
    },
    remove: () => rmdir(path).catch(() => {}),
  };
}

const deployment = (): string =>
  readFileSync(new URL('../../k8s/app/deployment.yaml', import.meta.url), 'utf8');

interface DeploymentEnv {
  spec: { template: { spec: { containers: Array<{ env?: Array<{ name: string; value?: string }> }> } } };
}

/**
 * The service container's literal environment in k8s/app/deployment.yaml (NODE_OPTIONS, MALLOC_*,
 * LOG_LEVEL; not the secrets'): benches and tests run the service as deployed.
 */
export function deployedEnv(): Record<string, string> {
  const { containers } = (parse(deployment()) as DeploymentEnv).spec.template.spec;
  const env: Record<string, string> = {};
  for (const { name, value } of containers[0]?.env ?? []) if (value !== undefined) env[name] = value;
  return env;
}

/** NODE_OPTIONS as the Deployment sets it. */
export function deployedNodeOptions(): string {
  const value = deployedEnv().NODE_OPTIONS;
  if (value === undefined) throw new Error('k8s/app/deployment.yaml sets no NODE_OPTIONS');
  return value;
}

/** The Deployment's `limits: { memory: NNNMi }`, in bytes. */
export function deployedMemoryLimitBytes(): number {
  const mi = /limits:\s*\{\s*memory:\s*(\d+)Mi\s*\}/.exec(deployment())?.[1];
  if (mi === undefined) throw new Error('k8s/app/deployment.yaml sets no memory limit in Mi');
  return Number(mi) * 1024 * 1024;
}
