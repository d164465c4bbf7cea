import type { EventBus } from '../clients/event-bus.js';
import type { StorageService } from '../clients/storage-service.js';
import { GatewayError } from '../lib/errors.js';
import { traceparent } from '../lib/trace.js';
import type { TraceContext } from '../lib/trace.js';
import type { RunResult } from './run-ending.js';
import type { CasesReport } from './test-cases.js';

/**
 * A finished run, recorded: its result in storage (with its test cases' results), then
 * `evaluation:completed` or `evaluation:failed`. An evaluation cancelled meanwhile keeps its
 * cancel (storage refuses the result) and nothing is announced.
 */
export async function recordEnd(
  { storage, events }: { storage: StorageService; events: EventBus },
  id: string,
  executorId: string,
  r: RunResult & Partial<CasesReport>,
  trace: TraceContext,
): Promise<void> {
  const status = r.status === 'completed' ? 'completed' : 'failed';
  try {
    await storage.update(
      id,
      {
        status,
        output: r.output,
        error: r.error,
        exit_code: r.exit_code,
        runtime_ms: r.runtime_ms,
        output_truncated: r.output_truncated,
        error_truncated: r.error_truncated,
        termination_reason: r.termination_reason,
        resources: r.resources,
        ...(r.test_summary ? { test_results: r.test_results, test_summary: r.test_summary } : {}),
      },
      trace,
    );
  } catch (err) {
    if (err instanceof GatewayError && err.code === 'GW_ERR_EVALUATION_TERMINAL') return; // cancelled while running
    throw err;
  }
  const completed_at = new Date().toISOString();
  if (status === 'completed') {
    await events.publish('evaluation:completed', {
      eval_id: id,
      status: 'completed',
      output: r.output,
      error: r.error,
      exit_code: r.exit_code,
      executor_id: executorId,
      completed_at,
      termination_reason: r.termination_reason,
      traceparent: traceparent(trace),
      resources: r.resources,
    });
  } else {
    await events.publish('evaluation:failed', {
      eval_id: id,
      error: r.error,
      executor_id: executorId,
      failed_at: r.status === 'timeout' ? 'timeout' : 'execute',
      exit_code: r.exit_code,
      output: r.output,
      termination_reason: r.termination_reason,
      traceparent: traceparent(trace),
      resources: r.resources,
    });
  }
}
