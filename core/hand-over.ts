import { GatewayError, isGatewayError } from '../lib/errors.js';
import { traceparent } from '../lib/trace.js';
import type { TraceContext } from '../lib/trace.js';
import type { Config } from '../lib/config.js';
import type { Logger } from '../lib/logger.js';
import type { QueueBackend, Submission } from './evaluation.js';
import type { JobQueue } from './ports/job-queue.js';
import type { QueueService } from './ports/queue-service.js';

/** An evaluation a backend now holds. */
export interface Accepted {
  eval_id: string;
  backend: QueueBackend;
  queue_position: number | null;
  fallback: boolean;
}

/** What is handed over besides the evaluation itself. */
export interface HandOverContext {
  submittedAt: string;
  batch: boolean;
  owner: string | null;
  /** The submitting request's trace context: sent to the queue service, kept in the Bull job. */
  trace: TraceContext | undefined;
}

export interface HandOverDeps {
  config: Readonly<Config>;
  queue: QueueService;
  jobQueue: JobQueue | undefined;
  logger: Logger;
}

/** What the program runs with besides its code, as both backends carry it (only what is set). */
function runInputs(e: Submission) {
  return {
    ...(e.stdin ? { stdin: e.stdin } : {}),
    ...(e.args.length ? { args: e.args } : {}),
    ...(e.test_cases.length ? { test_cases: e.test_cases } : {}),
    ...(e.files.length ? { files: e.files } : {}),
  };
}

/** Hands one backend the evaluation; resolves with its queue position when it reports one. */
async function enqueue(
  deps: HandOverDeps,
  backend: QueueBackend,
  evalId: string,
  e: Submission,
  { submittedAt, batch, owner, trace }: HandOverContext,
): Promise<number | null> {
  if (backend === 'legacy') {
    const answer = await deps.queue.submit(
      {
        eval_id: evalId,
        code: e.code,
        language: e.language,
        engine: 'docker',
        timeout: e.timeout,
        priority: e.priority ? 2 : 1,
        ...(owner ? { owner } : {}),
        ...runInputs(e),
        ...(Object.keys(e.limits).length ? { limits: e.limits } : {}),
        ...(trace ? { traceparent: traceparent(trace) } : {}),
      },
      trace,
    );
    return answer.position ?? null;
  }
  const { jobQueue, config } = deps;
  if (!jobQueue)
    throw new GatewayError('GW_ERR_DOWNSTREAM_UNAVAILABLE', 'Job queue not configured');
  await jobQueue.add({
    eval_id: evalId,
    code: e.code,
    language: e.language,
    timeout: e.timeout,
    priority: e.priority,
    limits: {
      memory_mb: e.limits.memory_mb ?? config.limits.memoryMb,
      output_bytes: e.limits.output_bytes ?? config.limits.outputBytes,
      ...(e.limits.max_processes ? { max_processes: e.limits.max_processes } : {}),
    },
    submitted_at: submittedAt,
    ...(batch ? { batch: true } : {}),
    ...(owner ? { owner } : {}),
    ...runInputs(e),
    ...(trace ? { traceparent: traceparent(trace) } : {}),
  });
  return null;
}

/**
 * Offers the evaluation to each backend in `order` until one takes it; throws the failure (one
 * backend's own, or a 503 naming each) when none does.
 */
export async function handOver(
  deps: HandOverDeps,
  order: QueueBackend[],
  evalId: string,
  e: Submission,
  how: HandOverContext,
): Promise<Accepted> {
  const failures: [QueueBackend, unknown][] = [];
  for (const backend of order) {
    try {
      const position = await enqueue(deps, backend, evalId, e, how);
      return {
        eval_id: evalId,
        backend,
        queue_position: position,
        fallback: failures.length > 0,
      };
    } catch (err) {
      failures.push([backend, err]);
      deps.logger.warn(
        { eval_id: evalId, backend, err: isGatewayError(err) ? err.message : err },
        'backend refused the evaluation',
      );
    }
  }
  const [only] = failures;
  throw failures.length === 1 && only && isGatewayError(only[1])
    ? only[1]
    : new GatewayError(
        'GW_ERR_DOWNSTREAM_UNAVAILABLE',
        `No queue backend took the evaluation: ${failures
          .map(([b, f]) => `${b}: ${isGatewayError(f) ? f.message : 'failed'}`)
          .join('; ')}`,
      );
}
