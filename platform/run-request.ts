import type { RunRequest } from './run-ending.js';

/** One evaluation as either backend hands it over. */
export interface Work {
  eval_id: string;
  code: string;
  language: string;
  timeout: number;
  priority?: boolean | number;
  submitted_at?: string;
  owner?: string;
  /** The submitting request's W3C trace context, continued in this worker's calls. */
  traceparent?: string;
  stdin?: string;
  args?: string[];
  test_cases?: { stdin?: string; expected_output?: string }[];
  files?: { name: string; content: string }[];
  /** The submission's own limits; the worker's are the most it grants. */
  limits?: { memory_mb?: number; max_processes?: number; output_bytes?: number };
}

/** What the worker grants any run at most. */
export interface WorkerLimits {
  memoryMb: number;
  outputBytes: number;
}

const atMost = (asked: number | undefined, most: number): number => Math.min(asked ?? most, most);

/** The executor's request for one run of `work` (with `stdin`: one test case's, or its own). */
export function runRequest(
  work: Work,
  limits: WorkerLimits,
  stdin: string | undefined,
): RunRequest {
  return {
    eval_id: work.eval_id,
    code: work.code,
    language: work.language,
    timeout: work.timeout,
    memory_mb: atMost(work.limits?.memory_mb, limits.memoryMb),
    output_bytes: atMost(work.limits?.output_bytes, limits.outputBytes),
    ...(work.limits?.max_processes ? { max_processes: work.limits.max_processes } : {}),
    ...(stdin ? { stdin } : {}),
    ...(work.args?.length ? { args: work.args } : {}),
    ...(work.files?.length ? { files: work.files } : {}),
  };
}
