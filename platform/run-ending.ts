import { constants } from 'node:os';
import type { CgroupReport } from './cgroup.js';
import type { components } from '../generated/types/executor.js';

export type TerminationReason = NonNullable<
  components['schemas']['ExecuteResult']['termination_reason']
>;

/** What one evaluation asks of the executor. */
export interface RunRequest {
  eval_id: string;
  code: string;
  language: string;
  /** Seconds. */
  timeout: number;
  memory_mb: number;
  /** Cap on each of stdout and stderr; a program that prints past it is stopped. */
  output_bytes: number;
  /** Its standard input; without it the program reads end-of-file at once. */
  stdin?: string;
  /** Its command-line arguments. */
  args?: string[];
  /** Files put beside the program before it starts. */
  files?: { name: string; content: string }[];
  /** At most this many processes (the executor's own limit when lower). */
  max_processes?: number;
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
  termination_reason: TerminationReason;
  /** What the kernel measured (CPU time and memory only where the run had control groups). */
  resources: {
    wall_time_ms: number;
    cpu_time_ms: number | null;
    max_memory_kb: number | null;
    exit_signal: string | null;
  };
}

/** Exit code of a run stopped by its timeout, as coreutils' `timeout` uses. */
export const TIMEOUT_EXIT_CODE = 124;
/** Exit code of a run killed (128 + SIGKILL): on request, or past its output cap. */
export const KILLED_EXIT_CODE = 137;

/** One stream's output up to its cap; `onFull` is called once, when the program passes it. */
export class Capture {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  truncated = false;
  constructor(
    private readonly max: number,
    private readonly onFull: () => void = () => undefined,
  ) {}
  add(chunk: Buffer): void {
    const room = this.max - this.size;
    if (chunk.length > room) {
      chunk = chunk.subarray(0, room);
      if (!this.truncated) {
        this.truncated = true;
        this.onFull();
      }
    }
    if (!chunk.length) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
  }
  /** The output as text; NUL characters become U+FFFD, as storage keeps them. */
  text(): string {
    return Buffer.concat(this.chunks, this.size).toString('utf8').replaceAll('\u0000', '\uFFFD');
  }
}

/** How a run ended, as the executor saw it. */
export type Ending =
  | { kind: 'unavailable'; message: string }
  | {
      kind: 'ended';
      stoppedFor: 'cancelled' | 'timeout' | 'output_limit' | undefined;
      exitCode: number | null;
      signal: NodeJS.Signals | null;
      /** The sandbox reported no exit of the program: it never ran. */
      boxFailed: boolean;
      /** What the kernel counted, when the run had cgroups. */
      cgroup: CgroupReport | undefined;
      stderr: string;
    };

type Verdict = Pick<RunResult, 'status' | 'error' | 'exit_code' | 'termination_reason'>;

const SIGNALS = constants.signals;
export const byNumber = (n: number): string =>
  Object.entries(SIGNALS).find(([, v]) => v === n)?.[0] ?? `signal ${n}`;

// Without cgroups, what the runtimes print when an rlimit refuses them is the only evidence.
const MEMORY_WORDS = /MemoryError|Cannot allocate memory|out of memory|allocation failed/i;
const FORK_WORDS = /Resource temporarily unavailable|BlockingIOError|fork: retry|EAGAIN/;
const FILE_WORDS = /File too large|EFBIG|File size limit exceeded/;

/** The status, exit code, reason and a closing line in `error` that says what ended the run. */
export function explain(e: Ending, req: RunRequest): Verdict {
  if (e.kind === 'unavailable') {
    return {
      status: 'failed',
      error: e.message,
      exit_code: 127,
      termination_reason: 'sandbox_error',
    };
  }
  const say = (line: string): string =>
    `${e.stderr}${e.stderr && !e.stderr.endsWith('\n') ? '\n' : ''}${line}\n`;
  const exit = e.exitCode ?? (e.signal ? 128 + (SIGNALS[e.signal] ?? 9) : KILLED_EXIT_CODE);
  const failed = (reason: Verdict['termination_reason'], line: string, code = exit): Verdict => ({
    status: 'failed',
    error: say(line),
    exit_code: code,
    termination_reason: reason,
  });
  if (e.stoppedFor === 'timeout') {
    return {
      ...failed('timeout', `Timed out after ${req.timeout} s`, TIMEOUT_EXIT_CODE),
      status: 'timeout',
    };
  }
  if (e.stoppedFor === 'cancelled') {
    return {
      status: 'cancelled',
      error: e.stderr,
      exit_code: KILLED_EXIT_CODE,
      termination_reason: 'cancelled',
    };
  }
  if (e.boxFailed) return failed('sandbox_error', 'The sandbox could not start the program');
  const cg = e.cgroup;
  const stopped = e.stoppedFor === 'output_limit';
  if (exit !== 0 || stopped) {
    // A limit the kernel counted explains the end better than what it led to (a fork bomb's
    // error messages filling the output, say).
    if (cg ? cg.oomKilled : MEMORY_WORDS.test(e.stderr))
      return failed('memory_limit', `Memory limit of ${req.memory_mb} MB reached`);
    if (cg ? cg.processLimitHit : FORK_WORDS.test(e.stderr))
      return failed('process_limit', 'Process limit reached');
  }
  if (stopped) {
    return failed(
      'output_limit',
      `Output limit of ${req.output_bytes} bytes reached: the program was stopped`,
      KILLED_EXIT_CODE,
    );
  }
  if (exit === 0)
    return { status: 'completed', error: e.stderr, exit_code: 0, termination_reason: 'exited' };
  if (exit === 128 + SIGNALS.SIGXCPU)
    return failed('cpu_time_limit', `CPU time limit of ${req.timeout + 1} s reached`);
  if (exit === 128 + SIGNALS.SIGXFSZ || FILE_WORDS.test(e.stderr))
    return failed('file_size_limit', 'File size limit reached');
  if (exit > 128) return failed('signal', `Ended by ${byNumber(exit - 128)}`);
  return { status: 'failed', error: e.stderr, exit_code: exit, termination_reason: 'exited' };
}
