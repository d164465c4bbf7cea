import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What one evaluation asks of the executor. */
export interface RunRequest {
  eval_id: string;
  code: string;
  language: string;
  /** Seconds. */
  timeout: number;
  memory_mb: number;
  /** Cap on each of stdout and stderr. */
  output_bytes: number;
}

export interface RunResult {
  eval_id: string;
  status: 'completed' | 'failed' | 'timeout' | 'cancelled';
  output: string;
  error: string;
  exit_code: number;
  runtime_ms: number;
  output_truncated: boolean;
  error_truncated: boolean;
  container_id: string;
}

interface Interpreter {
  file: string;
  /** The command for a program in `file`, with the memory limit applied. */
  command(file: string, memoryMb: number): string[];
}

/** Exit code of a run stopped by its timeout, as coreutils' `timeout` uses. */
export const TIMEOUT_EXIT_CODE = 124;
/** Exit code of a run killed on request (128 + SIGKILL). */
export const KILLED_EXIT_CODE = 137;

const PRLIMIT = ['/usr/bin/prlimit', '/bin/prlimit'].find((p) => existsSync(p));
const TIMEOUT = ['/usr/bin/timeout', '/bin/timeout'].find((p) => existsSync(p));
/** How long after its own timeout the backstop kills a program whose executor is gone. */
const BACKSTOP_GRACE_S = 5;

/** `cmd` under an address-space limit, when prlimit is there to set one. */
const limited = (memoryMb: number, cmd: string[]): string[] =>
  PRLIMIT ? [PRLIMIT, `--as=${memoryMb * 1024 * 1024}`, '--', ...cmd] : cmd;

function realPython(): string | undefined {
  try {
    // `python3` may be a shim that needs the caller's environment; the real binary does not.
    return (
      execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], {
        encoding: 'utf8',
        timeout: 5000,
      }).trim() || undefined
    );
  } catch {
    return undefined;
  }
}

/** The languages this machine can run: python when python3 is installed, javascript (Node itself), bash. */
export function detectInterpreters(): Record<string, Interpreter> {
  const found: Record<string, Interpreter> = {};
  const python = realPython();
  if (python) {
    found.python = { file: 'main.py', command: (f, mb) => limited(mb, [python, '-I', '-u', f]) };
  }
  // V8 reserves far more address space than it uses, so Node is held by its heap limit instead.
  found.javascript = {
    file: 'main.js',
    command: (f, mb) => [process.execPath, `--max-old-space-size=${mb}`, f],
  };
  const bash = ['/bin/bash', '/usr/bin/bash'].find((p) => existsSync(p));
  if (bash) found.bash = { file: 'main.sh', command: (f, mb) => limited(mb, [bash, f]) };
  return found;
}

class Capture {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  truncated = false;
  constructor(private readonly max: number) {}
  add(chunk: Buffer): void {
    if (this.size >= this.max) {
      this.truncated = true;
      return;
    }
    const room = this.max - this.size;
    if (chunk.length > room) {
      this.truncated = true;
      chunk = chunk.subarray(0, room);
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
  }
  text(): string {
    return Buffer.concat(this.chunks, this.size).toString('utf8');
  }
}

interface Running {
  child: ChildProcess;
  stdout: Capture;
  stderr: Capture;
  killed: boolean;
}

/**
 * Runs each evaluation as a child process in a fresh temporary directory, with a clean
 * environment, its timeout, a memory limit and capped output. This is NOT a sandbox: the code
 * runs as this process's user on this machine.
 */
export class LocalExecutor {
  private readonly runs = new Map<string, Running>();
  readonly interpreters: Record<string, Interpreter>;

  constructor(
    readonly id: string,
    readonly capacity: number,
    interpreters: Record<string, Interpreter> = detectInterpreters(),
  ) {
    this.interpreters = interpreters;
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

  /** Kills a running evaluation's whole process group; false when it runs nothing by that id. */
  kill(evalId: string): boolean {
    const r = this.runs.get(evalId);
    if (!r) return false;
    r.killed = true;
    killGroup(r.child);
    return true;
  }

  /** Runs one evaluation; `onStart` is called once its process exists (and can be killed). */
  async run(req: RunRequest, onStart?: () => void): Promise<RunResult> {
    const interpreter = this.interpreters[req.language];
    const started = performance.now();
    const base = {
      eval_id: req.eval_id,
      output_truncated: false,
      error_truncated: false,
      container_id: '',
    };
    if (!interpreter) {
      return {
        ...base,
        status: 'failed',
        output: '',
        error: `Language ${req.language} is not available on executor ${this.id}`,
        exit_code: 127,
        runtime_ms: 0,
      };
    }
    if (this.runs.has(req.eval_id))
      throw new Error(`evaluation ${req.eval_id} is already running here`);
    const dir = await mkdtemp(join(tmpdir(), 'crucible-eval-'));
    try {
      const file = join(dir, interpreter.file);
      await writeFile(file, req.code, { mode: 0o600 });
      // The executor enforces the timeout itself; coreutils' timeout is a backstop that still
      // kills the program if this process dies first (it runs in a process group of its own).
      const command = interpreter.command(file, req.memory_mb);
      const guarded = TIMEOUT
        ? [TIMEOUT, '-s', 'KILL', String(req.timeout + BACKSTOP_GRACE_S), ...command]
        : command;
      const [bin, ...args] = guarded;
      const child = spawn(bin!, args, {
        cwd: dir,
        detached: true, // its own process group, so a kill reaches everything it started
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          PATH: '/usr/local/bin:/usr/bin:/bin',
          HOME: dir,
          TMPDIR: dir,
          LANG: 'C.UTF-8',
          PYTHONDONTWRITEBYTECODE: '1',
        },
      });
      const run: Running = {
        child,
        stdout: new Capture(req.output_bytes),
        stderr: new Capture(req.output_bytes),
        killed: false,
      };
      this.runs.set(req.eval_id, run);
      onStart?.();
      child.stdout?.on('data', (c: Buffer) => run.stdout.add(c));
      child.stderr?.on('data', (c: Buffer) => run.stderr.add(c));
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup(child);
      }, req.timeout * 1000);
      const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>(
        (resolve) => {
          child.once('error', () => resolve([127, null]));
          child.once('close', (c, s) => resolve([c, s]));
        },
      );
      clearTimeout(timer);
      this.runs.delete(req.eval_id);
      const runtime_ms = Math.round(performance.now() - started);
      let error = run.stderr.text();
      let status: RunResult['status'];
      let exit_code: number;
      if (timedOut) {
        status = 'timeout';
        exit_code = TIMEOUT_EXIT_CODE;
        error += `${error && !error.endsWith('\n') ? '\n' : ''}Timed out after ${req.timeout} s\n`;
      } else if (run.killed) {
        status = 'cancelled';
        exit_code = KILLED_EXIT_CODE;
      } else {
        exit_code = code ?? (signal === 'SIGKILL' ? KILLED_EXIT_CODE : 1);
        status = exit_code === 0 ? 'completed' : 'failed';
        // The address-space limit shows up as a MemoryError or a failed allocation.
        if (exit_code !== 0 && /MemoryError|Cannot allocate memory|out of memory/i.test(error)) {
          error += `${error.endsWith('\n') ? '' : '\n'}Memory limit of ${req.memory_mb} MB reached\n`;
        }
      }
      return {
        ...base,
        status,
        output: run.stdout.text(),
        error,
        exit_code,
        runtime_ms,
        output_truncated: run.stdout.truncated,
        error_truncated: run.stderr.truncated,
        container_id: `pid-${child.pid ?? 0}`,
      };
    } finally {
      this.runs.delete(req.eval_id);
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Kills everything still running (shutdown). */
  killAll(): void {
    for (const id of this.runs.keys()) this.kill(id);
  }
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL'); // the group is gone already; make sure of the process itself
  }
}
