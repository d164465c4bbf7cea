import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { processAlive as alive } from './work-dirs.js';

/** Limits the kernel enforces on one run's whole process tree. */
export interface CgroupLimits {
  memoryBytes: number;
  maxProcesses: number;
}

/** What the kernel counted for one run. */
export interface CgroupReport {
  /** The memory limit made the kernel kill a process. */
  oomKilled: boolean;
  /** A fork or clone was refused by the process limit. */
  processLimitHit: boolean;
  /** The most memory the run used, when the kernel reports it. */
  maxMemoryKb: number | null;
  /** CPU time of the whole run (all its processes and threads), when the kernel accounts it. */
  cpuTimeMs: number | null;
}

/** One run's control groups: memory and pids, on cgroup v1 or v2. */
export interface RunCgroup {
  /** `cgroup.procs` files the run's first process writes its pid into before it execs. */
  readonly procs: string[];
  report(): Promise<CgroupReport>;
  /** Kills every process still inside, then removes the groups. */
  destroy(): Promise<void>;
}

export interface Cgroups {
  readonly version: 'v1' | 'v2';
  create(name: string, limits: CgroupLimits): Promise<RunCgroup>;
}

const ROOT = '/sys/fs/cgroup';
const read = (file: string): Promise<string> => readFile(file, 'utf8').catch(() => '');
const count = (text: string, key: string): number =>
  Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);

/** This process's cgroup path in each hierarchy (`memory`, `pids`, or `` for v2). */
function ownPaths(): Map<string, string> {
  const paths = new Map<string, string>();
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const [, controllers, path] = line.split(':');
    if (controllers === undefined || path === undefined) continue;
    for (const c of controllers.split(',')) paths.set(c, path);
  }
  return paths;
}

/** Kills whatever is left in `dir` and its children, then removes them (deepest first). */
async function removeTree(dir: string): Promise<void> {
  const children = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory());
  for (const c of children) await removeTree(join(dir, c.name));
  for (let attempt = 0; attempt < 100; attempt++) {
    for (const pid of (await read(join(dir, 'cgroup.procs'))).split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone already
      }
    }
    try {
      await rmdir(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY') throw err;
      await new Promise((r) => setTimeout(r, 20)); // the killed processes are still exiting
    }
  }
}

/**
 * Makes `<own cgroup>/crucible-<pid>` in each hierarchy, first removing the groups of executor
 * processes on this host that are gone (a crash leaves them, perhaps with programs inside).
 */
function prepareBase(hierarchy: string, own: string): string {
  const parent = join(hierarchy, own);
  for (const name of readdirSync(parent)) {
    const m = /^crucible-(\d+)$/.exec(name);
    if (m && Number(m[1]) !== process.pid && !alive(Number(m[1])))
      void removeTree(join(parent, name)).catch(() => undefined);
  }
  const base = join(parent, `crucible-${process.pid}`);
  mkdirSync(base, { recursive: true });
  return base;
}

/** A base in `hierarchy` when it is mounted and ours to use, else undefined (no accounting). */
function optionalBase(hierarchy: string, own: string | undefined): string | undefined {
  if (own === undefined || !existsSync(hierarchy)) return undefined;
  try {
    return prepareBase(hierarchy, own);
  } catch {
    return undefined;
  }
}

const numberIn = (text: string, key: string): number | null => {
  const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : null;
};

function v1(paths: Map<string, string>): Cgroups {
  const memory = prepareBase(join(ROOT, 'memory'), paths.get('memory') ?? '/');
  const pids = prepareBase(join(ROOT, 'pids'), paths.get('pids') ?? '/');
  // CPU time, where the cpuacct hierarchy is mounted (it counts; it limits nothing).
  const cpuacct = optionalBase(join(ROOT, 'cpuacct'), paths.get('cpuacct'));
  return {
    version: 'v1',
    async create(name, limits) {
      const m = join(memory, name);
      const p = join(pids, name);
      const c = cpuacct && join(cpuacct, name);
      mkdirSync(m);
      mkdirSync(p);
      if (c) mkdirSync(c);
      await writeFile(join(m, 'memory.limit_in_bytes'), String(limits.memoryBytes));
      // Without this the limit would only hold the run's RAM and let it use swap beyond it.
      if (existsSync(join(m, 'memory.memsw.limit_in_bytes')))
        await writeFile(join(m, 'memory.memsw.limit_in_bytes'), String(limits.memoryBytes));
      await writeFile(join(p, 'pids.max'), String(limits.maxProcesses));
      return {
        procs: [
          join(m, 'cgroup.procs'),
          join(p, 'cgroup.procs'),
          ...(c ? [join(c, 'cgroup.procs')] : []),
        ],
        async report() {
          const peak = Number(await read(join(m, 'memory.max_usage_in_bytes')));
          const cpuNs = c ? (await read(join(c, 'cpuacct.usage'))).trim() : '';
          return {
            oomKilled: count(await read(join(m, 'memory.oom_control')), 'oom_kill') > 0,
            processLimitHit: count(await read(join(p, 'pids.events')), 'max') > 0,
            maxMemoryKb: peak ? Math.round(peak / 1024) : null,
            cpuTimeMs: /^\d+$/.test(cpuNs) ? Math.round(Number(cpuNs) / 1e6) : null,
          };
        },
        destroy: async () => {
          await removeTree(m);
          await removeTree(p);
          if (c) await removeTree(c);
        },
      };
    },
  };
}

function v2(own: string): Cgroups {
  const base = prepareBase(ROOT, own);
  writeFileSync(join(base, 'cgroup.subtree_control'), '+memory +pids');
  // CPU accounting where the cpu controller is delegated to us too.
  let cpu = true;
  try {
    writeFileSync(join(base, 'cgroup.subtree_control'), '+cpu');
  } catch {
    cpu = false;
  }
  return {
    version: 'v2',
    async create(name, limits) {
      const g = join(base, name);
      mkdirSync(g);
      await writeFile(join(g, 'memory.max'), String(limits.memoryBytes));
      await writeFile(join(g, 'memory.swap.max'), '0').catch(() => undefined);
      await writeFile(join(g, 'pids.max'), String(limits.maxProcesses));
      return {
        procs: [join(g, 'cgroup.procs')],
        async report() {
          const peak = Number(await read(join(g, 'memory.peak')));
          const usec = cpu ? numberIn(await read(join(g, 'cpu.stat')), 'usage_usec') : null;
          return {
            oomKilled: count(await read(join(g, 'memory.events')), 'oom_kill') > 0,
            processLimitHit: count(await read(join(g, 'pids.events')), 'max') > 0,
            maxMemoryKb: peak ? Math.round(peak / 1024) : null,
            cpuTimeMs: usec === null ? null : Math.round(usec / 1000),
          };
        },
        destroy: () => removeTree(g),
      };
    },
  };
}

/**
 * Per-run control groups where this process may create them (root, with the memory and pids
 * controllers mounted); undefined otherwise, and the sandbox falls back to rlimits.
 */
export function detectCgroups(): Cgroups | undefined {
  try {
    const paths = ownPaths();
    if (paths.has('memory') && paths.has('pids')) return v1(paths);
    const unified = paths.get('');
    if (unified !== undefined && existsSync(join(ROOT, 'cgroup.controllers'))) return v2(unified);
  } catch {
    // not writable, or the controllers are not delegated to us
  }
  return undefined;
}
