import type { components } from '../generated/types/gateway.js';
import type { StoredEvaluation } from '../clients/storage-service.js';

type S = components['schemas'];

/**
 * Storage timestamps may come without a zone (Python's isoformat of a naive UTC time); they are
 * UTC, so they are answered as RFC 3339 with `Z`. Unparseable values become null.
 */
export function timestamp(value: string | null | undefined): string | null {
  if (!value) return null;
  const zoned = /(Z|[+-]\d{2}:?\d{2})$/i.test(value) ? value : `${value}Z`;
  const t = Date.parse(zoned);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}

/** true when completed cleanly, false when failed or cancelled, null while unfinished. */
export function success(e: StoredEvaluation): boolean | null {
  if (e.status === 'completed')
    return e.exit_code === undefined || e.exit_code === null || e.exit_code === 0;
  if (e.status === 'failed' || e.status === 'cancelled') return false;
  return null;
}

const REASONS = new Set<string>([
  'exited',
  'timeout',
  'memory_limit',
  'process_limit',
  'output_limit',
  'file_size_limit',
  'cpu_time_limit',
  'signal',
  'cancelled',
  'sandbox_error',
]);
type Reason = S['EvaluationStatus']['termination_reason'];

/** A reason the contract names, or null (a storage service may know others, or none). */
const reason = (r: string | null | undefined): Reason =>
  r && REASONS.has(r) ? (r as Reason) : null;

export function statusView(e: StoredEvaluation): S['EvaluationStatus'] {
  return {
    eval_id: e.id,
    status: e.status,
    language: e.language ?? null,
    created_at: timestamp(e.created_at),
    started_at: timestamp(e.started_at),
    completed_at: timestamp(e.completed_at),
    output: e.output ?? null,
    error: e.error ?? null,
    success: success(e),
    exit_code: e.exit_code ?? null,
    runtime_ms: e.runtime_ms ?? null,
    output_truncated: e.output_truncated ?? false,
    error_truncated: e.error_truncated ?? false,
    executor_id: e.executor_id ?? null,
    termination_reason: reason(e.termination_reason),
    // Once a run has ended on an executor.
    ...(e.resources?.wall_time_ms === undefined
      ? {}
      : {
          resources: {
            wall_time_ms: e.resources.wall_time_ms,
            cpu_time_ms: e.resources.cpu_time_ms ?? null,
            max_memory_kb: e.resources.max_memory_kb ?? null,
            exit_signal: e.resources.exit_signal ?? null,
          },
        }),
    // With test cases, once the run has ended.
    ...(e.test_summary
      ? {
          test_results: e.test_results as S['TestResult'][],
          test_summary: e.test_summary as S['TestSummary'],
        }
      : {}),
  };
}

export function recordView(e: StoredEvaluation): S['EvaluationRecord'] {
  return { ...statusView(e), code: e.code ?? null, metadata: e.metadata ?? {} };
}

export function summaryView(e: StoredEvaluation): S['EvaluationSummary'] {
  return {
    eval_id: e.id,
    status: e.status,
    language: e.language ?? null,
    created_at: timestamp(e.created_at),
    completed_at: timestamp(e.completed_at),
    success: success(e),
    runtime_ms: e.runtime_ms ?? null,
  };
}
