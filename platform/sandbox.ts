import { execFileSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import { detectCgroups } from './cgroup.js';
import type { Cgroups, RunCgroup } from './cgroup.js';

export type SandboxMode = 'auto' | 'bwrap' | 'none';

/** Limits of one run, the same for every language. */
export interface RunLimits {
  memoryMb: number;
  maxProcesses: number;
  /** Largest file the program may write, and the size of its work directory. */
  fileSizeMb: number;
  diskMb: number;
  openFiles: number;
  /** CPU seconds (all of its threads); the wall-clock timeout is the executor's. */
  cpuSeconds: number;
}

/** How one run is started: the argv, and what the sandbox needs handed over on fd 3. */
export interface Launch {
  argv: string[];
  /** The program's source, for bwrap to copy into the box (fd 3); absent: already on disk. */
  source?: string;
  /** bwrap reports the program's exit status as JSON on fd 4. */
  statusFd: boolean;
  cgroup: RunCgroup | undefined;
}

/** Where the box's own directories are; the program sees /work as its home and temp dir. */
export const BOX_WORK_DIR = '/work';
/** The first fd extra files come on (3 is the program's source, 4 bwrap's status). */
export const EXTRA_FILES_FD = 5;
/** The one user everything in the box runs as, inside and (when started as root) outside it. */
const NOBODY = 65534;

const BWRAP = ['/usr/bin/bwrap', '/bin/bwrap'].find((p) => existsSync(p));
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
const PRLIMIT = ['/usr/bin/prlimit', '/bin/prlimit'].find((p) => existsSync(p));
const SH = ['/bin/sh', '/usr/bin/sh'].find((p) => existsSync(p)) ?? '/bin/sh';
const TIMEOUT = ['/usr/bin/timeout', '/bin/timeout'].find((p) => existsSync(p));
/** How long after its own timeout the backstop kills an unsandboxed program whose executor is gone. */
const BACKSTOP_GRACE_S = 5;
const MB = 1024 * 1024;

/**
 * prlimit's options for `limits`: open files, file size and CPU time always; memory (the data
 * segment: what malloc and mmap'd buffers grow, unlike V8's reserved address space) and the
 * process count only when no cgroup holds them.
 */
function rlimits(limits: RunLimits, cgroup: boolean): string[] {
  return [
    `--nofile=${limits.openFiles}`,
    `--fsize=${limits.fileSizeMb * MB}`,
    `--cpu=${limits.cpuSeconds}:${limits.cpuSeconds + 1}`,
    ...(cgroup ? [] : [`--nproc=${limits.maxProcesses}`, `--data=${limits.memoryMb * MB}`]),
  ];
}

/**
 * Unsandboxed: the same rlimits (the process count only counts for a non-root user), and
 * coreutils' timeout as a backstop that kills the program if the executor dies first.
 */
function plainArgv(program: string[], limits: RunLimits, timeoutS: number): string[] {
  const limited = PRLIMIT ? [PRLIMIT, ...rlimits(limits, false), '--', ...program] : program;
  return TIMEOUT
    ? [TIMEOUT, '-s', 'KILL', String(timeoutS + BACKSTOP_GRACE_S), ...limited]
    : limited;
}
const ROOT = process.getuid?.() === 0;

/** The read-only world a program sees: /usr (with the merged-/usr links), and a few /etc files. */
function view(runtimes: string[]): string[] {
  const args = ['--ro-bind', '/usr', '/usr'];
  for (const [link, target] of [
    ['/lib', 'usr/lib'],
    ['/lib64', 'usr/lib64'],
    ['/bin', 'usr/bin'],
    ['/sbin', 'usr/sbin'],
  ] as const)
    args.push('--symlink', target, link);
  for (const f of ['/etc/ld.so.cache', '/etc/alternatives', '/etc/localtime'])
    if (existsSync(f)) args.push('--ro-bind', f, f);
  // A runtime installed outside /usr (e.g. Node under /opt) is shown read-only, its prefix only.
  const prefixes = new Set(
    runtimes
      .map((r) => realpathSync(r))
      .filter((r) => !r.startsWith('/usr/'))
      .map((r) => dirname(dirname(r))),
  );
  for (const p of prefixes) args.push('--ro-bind', p, p);
  return args;
}

/** Everything but the program: namespaces, user, the view, the work directory, the rlimits. */
function bwrapArgv(
  /** The program's file in the work directory, copied from fd 3; absent for the start-up probe. */
  file: string | undefined,
  runtimes: string[],
  limits: RunLimits,
  cgroup: RunCgroup | undefined,
  /** Extra files' names, copied from fds 5, 6, … in order. */
  extra: string[] = [],
): string[] {
  const box = [
    BWRAP!,
    ...['--unshare-all', '--die-with-parent', '--new-session'],
    ...['--uid', String(NOBODY), '--gid', String(NOBODY), '--hostname', 'sandbox'],
    ...view(runtimes),
    ...['--proc', '/proc', '--dev', '/dev'],
    ...['--size', String(limits.diskMb * MB), '--tmpfs', '/dev/shm'],
    ...['--size', String(limits.diskMb * MB), '--perms', '0700', '--tmpfs', BOX_WORK_DIR],
    ...['--symlink', BOX_WORK_DIR, '/tmp'],
    // The box's own root (a tmpfs bwrap makes) would be writable, and unbounded, without this.
    ...['--remount-ro', '/'],
    ...(file ? ['--file', '3', `${BOX_WORK_DIR}/${file}`, '--json-status-fd', '4'] : []),
    ...extra.flatMap((name, i) => [
      '--file',
      String(EXTRA_FILES_FD + i),
      `${BOX_WORK_DIR}/${name}`,
    ]),
    ...['--chdir', BOX_WORK_DIR, '--clearenv'],
    ...['--setenv', 'PATH', '/usr/local/bin:/usr/bin:/bin', '--setenv', 'HOME', BOX_WORK_DIR],
    ...['--setenv', 'TMPDIR', BOX_WORK_DIR, '--setenv', 'LANG', 'C.UTF-8'],
    ...['--setenv', 'PYTHONDONTWRITEBYTECODE', '1'],
    PRLIMIT!,
    ...rlimits(limits, cgroup !== undefined),
    '--',
  ];
  // As root, bwrap itself runs as nobody: its user namespace then maps the program to nobody
  // on the host too, never to root (whose files it could otherwise read through the view).
  const drop = ROOT
    ? [SETPRIV!, `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--inh-caps=-all']
    : [];
  if (ROOT) drop.push('--bounding-set=-all');
  // The first process joins the run's cgroups before anything else runs, so every process the
  // program starts is counted and limited.
  const join = cgroup
    ? [
        SH,
        '-c',
        'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"',
        'join',
        ...cgroup.procs,
        '--',
      ]
    : [];
  return [...join, ...drop, ...box];
}

export interface Sandbox {
  readonly kind: 'bwrap' | 'none';
  /** Why there is no sandbox, when there is none. */
  readonly reason: string | undefined;
  readonly cgroups: Cgroups['version'] | 'rlimits';
  /** How to run `program` (whose source becomes `file` in the work directory). */
  launch(
    run: {
      name: string;
      file: string;
      source: string;
      program: string[];
      /** Files put beside the program (handed over on fds 5, 6, … in the box). */
      files?: { name: string; content: string }[];
    },
    limits: RunLimits,
  ): Promise<Launch>;
}

/** Whether bwrap starts a box here (missing, or user namespaces refused, say). */
function probe(): string | undefined {
  if (!BWRAP) return 'bwrap is not installed (Debian package bubblewrap)';
  if (!PRLIMIT) return 'prlimit is not installed (util-linux)';
  if (ROOT && !SETPRIV) return 'setpriv is not installed (util-linux)';
  const [bin, ...args] = bwrapArgv(undefined, [], limitsForProbe, undefined);
  try {
    execFileSync(bin!, [...args, '/usr/bin/true'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 5000,
    });
    return undefined;
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    return `bwrap cannot start a sandbox here: ${stderr || String(err)}`;
  }
}

const limitsForProbe: RunLimits = {
  memoryMb: 64,
  maxProcesses: 8,
  fileSizeMb: 1,
  diskMb: 1,
  openFiles: 32,
  cpuSeconds: 5,
};

/**
 * The sandbox for `mode`: `bwrap` demands it (throws when it cannot start one), `none` runs
 * programs as plain child processes, `auto` takes bwrap when it works here.
 */
export function createSandbox(mode: SandboxMode, runtimes: string[]): Sandbox {
  const problem = mode === 'none' ? 'EXECUTOR_SANDBOX=none' : probe();
  if (problem && mode === 'bwrap') throw new Error(`EXECUTOR_SANDBOX=bwrap: ${problem}`);
  if (problem) {
    return {
      kind: 'none',
      reason: problem,
      cgroups: 'rlimits',
      launch: (run, limits) =>
        Promise.resolve({
          argv: plainArgv(run.program, limits, limits.cpuSeconds),
          statusFd: false,
          cgroup: undefined,
        }),
    };
  }
  const cgroups = detectCgroups();
  let seq = 0;
  return {
    kind: 'bwrap',
    reason: undefined,
    cgroups: cgroups?.version ?? 'rlimits',
    async launch(run, limits) {
      // The name becomes a directory: nothing of an id may climb out of the executor's groups.
      const cgroup = await cgroups?.create(`${run.name.replace(/[^\w-]/g, '_')}-${seq++}`, {
        memoryBytes: limits.memoryMb * 1024 * 1024,
        maxProcesses: limits.maxProcesses,
      });
      return {
        argv: [
          ...bwrapArgv(
            run.file,
            runtimes,
            limits,
            cgroup,
            (run.files ?? []).map((f) => f.name),
          ),
          ...run.program,
        ],
        source: run.source,
        statusFd: true,
        cgroup,
      };
    },
  };
}
