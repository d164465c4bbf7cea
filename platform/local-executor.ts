import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { BOX_WORK_DIR, EXTRA_FILES_FD, createSandbox } from './sandbox.js';
import type { RunLimits, Sandbox, SandboxMode } from './sandbox.js';
import { Capture, byNumber, explain } from './run-ending.js';
import type { Ending, RunRequest, RunResult } from './run-ending.js';
import { detectInterpreters } from './interpreters.js';
import type { Interpreter } from './interpreters.js';
import { removeStaleWorkDirs, removeWorkDir, workDirPrefix } from './work-dirs.js';

export type { RunRequest, RunResult, TerminationReason } from './run-ending.js';
export { KILLED_EXIT_CODE, TIMEOUT_EXIT_CODE } from './run-ending.js';

/** An extra file's name: one path segment, never `.` or `..` (spec: ExtraFile). */
const SAFE_NAME = /^(?!\.\.?$)[A-Za-z0-9._-]{1,64}$/;

/** Limits of every run besides its memory and time, which each request brings. */
export type ExecutorLimits = Omit<RunLimits, 'memoryMb' | 'cpuSeconds'>;

export const DEFAULT_LIMITS: ExecutorLimits = {
  maxProcesses: 64,
  fileSizeMb: 16,
  diskMb: 64,
  openFiles: 256,
};

interface Running {
  child: ChildProcess;
  stdout: Capture;
  stderr: Capture;
  /** Why this executor stopped it, if it did. */
  stoppedFor?: 'cancelled' | 'timeout' | 'output_limit';
}

export interface LocalExecutorOptions {
  sandbox?: SandboxMode;
  limits?: Partial<ExecutorLimits>;
  interpreters?: Record<string, Interpreter>;
}

/**
 * Runs each evaluation in a sandbox (bubblewrap: its own user, PID, network, IPC and mount
 * namespaces as uid 65534, a private work directory, kernel-enforced limits; see sandbox.ts),
 * or, with no sandbox, as a plain child process with a clean environment and rlimits.
 */
export class LocalExecutor {
  private readonly runs = new Map<string, Running>();
  readonly interpreters: Record<string, Interpreter>;
  readonly sandbox: Sandbox;
  readonly limits: ExecutorLimits;

  constructor(
    readonly id: string,
    readonly capacity: number,
    opts: LocalExecutorOptions = {},
  ) {
    this.interpreters = opts.interpreters ?? detectInterpreters();
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    const runtimes = Object.values(this.interpreters).map((i) => i.runtime);
    this.sandbox = createSandbox(opts.sandbox ?? 'auto', runtimes);
    if (this.sandbox.kind === 'none') removeStaleWorkDirs();
  }

  get languages(): string[] {
    return Object.keys(this.interpreters);
  }

  running(): string[] {
    return [...this.runs.keys()];
  }

  /** Output so far of a running evaluation. */
  logs(evalId: string): { output: string; error: string } | undefined {
    const r = this.runs.get(evalId);
    return r && { output: r.stdout.text(), error: r.stderr.text() };
  }

  /** Kills a running evaluation and everything it started; false when it runs nothing by that id. */
  kill(evalId: string): boolean {
    const r = this.runs.get(evalId);
    if (!r) return false;
    stop(r, 'cancelled');
    return true;
  }

  /** Runs one evaluation; `onStart` is called once its process exists (and can be killed). */
  async run(req: RunRequest, onStart?: () => void): Promise<RunResult> {
    const interpreter = this.interpreters[req.language];
    const started = performance.now();
    if (!interpreter) {
      return {
        ...explain(
          {
            kind: 'unavailable',
            message: `Language ${req.language} is not available on executor ${this.id}`,
          },
          req,
        ),
        eval_id: req.eval_id,
        output: '',
        runtime_ms: 0,
        output_truncated: false,
        error_truncated: false,
        container_id: '',
        resources: { wall_time_ms: 0, cpu_time_ms: null, max_memory_kb: null, exit_signal: null },
      };
    }
    if (this.runs.has(req.eval_id))
      throw new Error(`evaluation ${req.eval_id} is already running here`);
    // CPU time gets a second more than the wall-clock timeout: a single busy thread ends at the
    // timeout (it raced RLIMIT_CPU before), a program burning several cores is stopped sooner.
    const files = req.files ?? [];
    const bad = files.find((f) => !SAFE_NAME.test(f.name) || f.name === interpreter.file);
    if (bad) throw new Error(`extra file name ${JSON.stringify(bad.name)} is not allowed`);
    const limits: RunLimits = {
      ...this.limits,
      maxProcesses: Math.min(
        req.max_processes ?? this.limits.maxProcesses,
        this.limits.maxProcesses,
      ),
      memoryMb: req.memory_mb,
      cpuSeconds: req.timeout + 1,
    };
    const boxed = this.sandbox.kind === 'bwrap';
    const dir = boxed ? undefined : await mkdtemp(workDirPrefix());
    const file = boxed ? `${BOX_WORK_DIR}/${interpreter.file}` : join(dir!, interpreter.file);
    if (dir) {
      await writeFile(file, req.code, { mode: 0o600 });
      for (const f of files) await writeFile(join(dir, f.name), f.content, { mode: 0o600 });
    }
    const program = [...interpreter.command(file, req.memory_mb), ...(req.args ?? [])];
    const launch = await this.sandbox.launch(
      { name: req.eval_id, file: interpreter.file, source: req.code, program, files },
      limits,
    );
    try {
      // A sandbox dies with its parent (bwrap --die-with-parent); a plain process has a
      // backstop timeout in its argv instead (sandbox.ts).
      const [bin, ...args] = launch.argv;
      const child = spawn(bin!, args, {
        cwd: dir ?? '/',
        detached: true, // its own process group, so a kill reaches everything it started
        stdio: [
          req.stdin ? 'pipe' : 'ignore',
          'pipe',
          'pipe',
          ...(boxed ? (['pipe', 'pipe', ...files.map(() => 'pipe' as const)] as const) : []),
        ],
        env: boxed
          ? {}
          : {
              PATH: '/usr/local/bin:/usr/bin:/bin',
              HOME: dir!,
              PWD: dir!,
              TMPDIR: dir!,
              LANG: 'C.UTF-8',
              PYTHONDONTWRITEBYTECODE: '1',
            },
      });
      if (req.stdin && child.stdin) {
        // A program that exits without reading all of it closes the pipe: not an error.
        child.stdin.on('error', () => undefined);
        child.stdin.end(req.stdin);
      }
      const run: Running = {
        child,
        stdout: new Capture(req.output_bytes, () => stop(run, 'output_limit')),
        stderr: new Capture(req.output_bytes, () => stop(run, 'output_limit')),
      };
      this.runs.set(req.eval_id, run);
      onStart?.();
      // A box killed before it read its source closes the pipe (EPIPE): that is no crash.
      const source = child.stdio[3] as Writable | undefined;
      source?.on('error', () => undefined).end(launch.source ?? '');
      if (boxed)
        files.forEach((f, i) =>
          (child.stdio[EXTRA_FILES_FD + i] as Writable | null)
            ?.on('error', () => undefined)
            .end(f.content),
        );
      (child.stdio[4] as Readable | undefined)?.on('error', () => undefined);
      let status = '';
      (child.stdio[4] as Readable | undefined)?.on('data', (c: Buffer) => (status += c.toString()));
      child.stdout?.on('data', (c: Buffer) => run.stdout.add(c));
      child.stderr?.on('data', (c: Buffer) => run.stderr.add(c));
      const timer = setTimeout(() => stop(run, 'timeout'), req.timeout * 1000);
      const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>(
        (resolve) => {
          child.once('error', () => resolve([127, null]));
          child.once('close', (c, s) => resolve([c, s]));
        },
      );
      clearTimeout(timer);
      this.runs.delete(req.eval_id);
      const report = await launch.cgroup?.report();
      const ending: Ending = {
        kind: 'ended',
        stoppedFor: run.stoppedFor,
        exitCode: code,
        signal,
        // bwrap reports an exit code only for a program that ran: without one, the box failed.
        boxFailed: boxed && !run.stoppedFor && !/"exit-code"/.test(status),
        cgroup: report,
        stderr: run.stderr.text(),
      };
      const explained = explain(ending, req);
      const wall = Math.round(performance.now() - started);
      return {
        ...explained,
        eval_id: req.eval_id,
        output: run.stdout.text(),
        runtime_ms: wall,
        resources: {
          wall_time_ms: wall,
          cpu_time_ms: report?.cpuTimeMs ?? null,
          max_memory_kb: report?.maxMemoryKb ?? null,
          exit_signal: explained.exit_code > 128 ? byNumber(explained.exit_code - 128) : null,
        },
        output_truncated: run.stdout.truncated,
        error_truncated: run.stderr.truncated,
        container_id: `${this.sandbox.kind}-${child.pid ?? 0}`,
      };
    } finally {
      this.runs.delete(req.eval_id);
      await launch.cgroup?.destroy().catch(() => undefined);
      if (dir) await removeWorkDir(dir);
    }
  }

  /** Kills everything still running (shutdown). */
  killAll(): void {
    for (const id of this.runs.keys()) this.kill(id);
  }
}

function stop(run: Running, why: NonNullable<Running['stoppedFor']>): void {
  run.stoppedFor ??= why;
  const pid = run.child.pid;
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    run.child.kill('SIGKILL'); // the group is gone already; make sure of the process itself
  }
}
