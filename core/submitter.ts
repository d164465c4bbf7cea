import type { Config } from '../lib/config.js';
import { GatewayError, isGatewayError } from '../lib/errors.js';
import type { ValidationIssue } from '../lib/errors.js';
import { newEvalId } from './ids.js';
import type { GatewayStats } from '../lib/stats.js';
import type { Logger } from '../lib/logger.js';
import type { TrafficSplit } from './traffic-split.js';
import { DEFAULT_LANGUAGE, DEFAULT_TIMEOUT, MAX_CODE_BYTES } from './evaluation.js';
import type { EvaluationRequest, QueueBackend } from './evaluation.js';
import type { EventBus } from './ports/event-bus.js';
import type { Ledger } from './ports/ledger.js';
import type { JobQueue } from './ports/job-queue.js';
import type { QueueService } from './ports/queue-service.js';

/** An evaluation a backend now holds. */
export interface Accepted {
  eval_id: string;
  backend: QueueBackend;
  queue_position: number | null;
  fallback: boolean;
}

export interface SubmitOptions {
  batch?: boolean;
  /** Made by the caller, so that a failure can be reported under the id its event carries. */
  evalId?: string;
  /** Who submitted it, for the record. */
  client?: string | null;
  /** Pins the traffic split's choice (TRAFFIC_SPLIT_STICKY_HEADER). */
  stickyKey?: string;
}

export interface SubmitterDeps {
  config: Readonly<Config>;
  queue: QueueService;
  jobQueue: JobQueue | undefined;
  events: EventBus;
  ledger: Ledger;
  split: TrafficSplit;
  stats: GatewayStats;
  logger: Logger;
}

/**
 * The submit path: the checks the spec cannot express, the id, the hand-over to a queue backend
 * (the other one when the chosen one refuses), the record and the lifecycle events. If `submit`
 * resolves, a backend holds the evaluation.
 */
export class Submitter {
  constructor(private readonly deps: SubmitterDeps) {}

  /**
   * Rules beyond the schema: code size in UTF-8 bytes (the schema counts characters) and the
   * deployment's language allow-list. `pointer` prefixes each issue (e.g. `/evaluations/3`).
   */
  check(req: EvaluationRequest, pointer = ''): ValidationIssue[] {
    const issues: ValidationIssue[] = [];
    if (Buffer.byteLength(req.code, 'utf8') > MAX_CODE_BYTES) {
      issues.push({
        in: 'body',
        pointer: `${pointer}/code`,
        message: `must be at most ${MAX_CODE_BYTES} bytes of UTF-8`,
      });
    }
    const language = req.language ?? DEFAULT_LANGUAGE;
    if (!this.deps.config.gateway.allowedLanguages.includes(language)) {
      issues.push({
        in: 'body',
        pointer: `${pointer}/language`,
        message: `must be one of: ${this.deps.config.gateway.allowedLanguages.join(', ')}`,
      });
    }
    return issues;
  }

  /** Hands one backend the evaluation; resolves with its queue position when it reports one. */
  private async enqueue(
    backend: QueueBackend,
    evalId: string,
    e: Required<EvaluationRequest>,
    submittedAt: string,
    batch: boolean,
  ): Promise<number | null> {
    if (backend === 'legacy') {
      const answer = await this.deps.queue.submit({
        eval_id: evalId,
        code: e.code,
        language: e.language,
        engine: 'docker',
        timeout: e.timeout,
        priority: e.priority ? 2 : 1,
      });
      return answer.position ?? null;
    }
    const { jobQueue, config } = this.deps;
    if (!jobQueue)
      throw new GatewayError('GW_ERR_DOWNSTREAM_UNAVAILABLE', 'Job queue not configured');
    await jobQueue.add({
      eval_id: evalId,
      code: e.code,
      language: e.language,
      timeout: e.timeout,
      priority: e.priority,
      limits: { memory_mb: config.limits.memoryMb, output_bytes: config.limits.outputBytes },
      submitted_at: submittedAt,
      ...(batch ? { batch: true } : {}),
    });
    return null;
  }

  async submit(req: EvaluationRequest, opts: SubmitOptions = {}): Promise<Accepted> {
    const { events, stats, ledger, split, logger } = this.deps;
    const evalId = opts.evalId ?? newEvalId();
    const batch = opts.batch ?? false;
    const e: Required<EvaluationRequest> = {
      code: req.code,
      language: req.language ?? DEFAULT_LANGUAGE,
      timeout: req.timeout ?? DEFAULT_TIMEOUT,
      priority: req.priority ?? false,
    };
    const submittedAt = new Date();
    const metadata = {
      submitted_at: submittedAt.toISOString(),
      timeout: e.timeout,
      priority: e.priority,
      ...(batch ? { batch: true } : {}),
    };
    await events.publish('evaluation:submitted', {
      eval_id: evalId,
      language: e.language,
      metadata,
    });

    const failures: [QueueBackend, unknown][] = [];
    let taken: { backend: QueueBackend; position: number | null } | undefined;
    for (const backend of split.order(opts.stickyKey)) {
      try {
        taken = {
          backend,
          position: await this.enqueue(backend, evalId, e, metadata.submitted_at, batch),
        };
        break;
      } catch (err) {
        failures.push([backend, err]);
        logger.warn(
          { eval_id: evalId, backend, err: isGatewayError(err) ? err.message : err },
          'backend refused the evaluation',
        );
      }
    }
    if (!taken) {
      stats.submitFailures++;
      const [only] = failures;
      const err =
        failures.length === 1 && only && isGatewayError(only[1])
          ? only[1]
          : new GatewayError(
              'GW_ERR_DOWNSTREAM_UNAVAILABLE',
              `No queue backend took the evaluation: ${failures
                .map(([b, f]) => `${b}: ${isGatewayError(f) ? f.message : 'failed'}`)
                .join('; ')}`,
            );
      await events.publish('evaluation:failed', {
        eval_id: evalId,
        error: err.message,
        failed_at: 'submit',
      });
      throw err;
    }

    const fallback = failures.length > 0;
    stats.submissions[taken.backend]++;
    if (fallback) stats.fallbacks++;
    try {
      await ledger.record({
        eval_id: evalId,
        backend: taken.backend,
        task_id: evalId,
        status: 'queued',
        language: e.language,
        timeout: e.timeout,
        priority: e.priority,
        client: opts.client ?? null,
        fallback,
        batch,
        submitted_at: submittedAt,
      });
    } catch (err) {
      // The backend holds the evaluation; losing the record only costs the status fallback
      // before the storage write, so the submit still succeeds.
      stats.recordFailures++;
      logger.error(
        { eval_id: evalId, err: isGatewayError(err) ? err.message : err },
        'evaluation not recorded',
      );
    }
    await events.publish('evaluation:queued', {
      eval_id: evalId,
      code: e.code,
      language: e.language,
      metadata: { ...metadata, backend: taken.backend, fallback },
    });
    return { eval_id: evalId, backend: taken.backend, queue_position: taken.position, fallback };
  }
}
