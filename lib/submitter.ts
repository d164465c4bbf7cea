import type { components } from '../generated/types/gateway.js';
import type { Config } from './config.js';
import { GatewayError, isGatewayError } from './errors.js';
import type { ValidationIssue } from './errors.js';
import { newEvalId } from './ids.js';
import type { GatewayStats } from './stats.js';
import type { QueueService } from '../clients/queue-service.js';
import type { EventBus } from '../clients/event-bus.js';

export type EvaluationRequest = components['schemas']['EvaluationRequest'];
export type QueueBackend = components['schemas']['QueueBackend'];

export const MAX_CODE_BYTES = 1024 * 1024;
export const DEFAULT_TIMEOUT = 30;
export const DEFAULT_LANGUAGE = 'python';

/** An evaluation a backend now holds. */
export interface Accepted {
  eval_id: string;
  backend: QueueBackend;
  queue_position: number | null;
}

export interface SubmitterDeps {
  config: Readonly<Config>;
  queue: QueueService;
  events: EventBus;
  stats: GatewayStats;
}

/**
 * The submit path: the checks the spec cannot express, the id, the hand-over to a queue backend
 * and the lifecycle event. If it resolves, a backend holds the evaluation.
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
    if (!this.deps.config.allowedLanguages.includes(language)) {
      issues.push({
        in: 'body',
        pointer: `${pointer}/language`,
        message: `must be one of: ${this.deps.config.allowedLanguages.join(', ')}`,
      });
    }
    return issues;
  }

  /**
   * Hands the evaluation to a backend. `evalId` may be made by the caller, so that a failure can
   * still be reported under the id the `evaluation:failed` event carries.
   */
  async submit(
    req: EvaluationRequest,
    opts: { batch?: boolean; evalId?: string } = {},
  ): Promise<Accepted> {
    const { queue, events, stats } = this.deps;
    const evalId = opts.evalId ?? newEvalId();
    const batch = opts.batch ?? false;
    const language = req.language ?? DEFAULT_LANGUAGE;
    const timeout = req.timeout ?? DEFAULT_TIMEOUT;
    const priority = req.priority ?? false;
    const backend: QueueBackend = 'legacy';
    let position: number | null;
    try {
      const answer = await queue.submit({
        eval_id: evalId,
        code: req.code,
        language,
        engine: 'docker',
        timeout,
        priority: priority ? 2 : 1,
      });
      position = answer.position ?? null;
    } catch (err) {
      stats.submitFailures++;
      const detail = isGatewayError(err) ? err.message : 'submission failed';
      await events.publish('evaluation:failed', {
        eval_id: evalId,
        error: detail,
        failed_at: 'submit',
      });
      throw err instanceof GatewayError
        ? err
        : new GatewayError('GW_ERR_INTERNAL', detail, { cause: err });
    }
    stats.submissions[backend]++;
    await events.publish('evaluation:queued', {
      eval_id: evalId,
      code: req.code,
      language,
      metadata: {
        submitted_at: new Date().toISOString(),
        timeout,
        priority,
        backend,
        ...(batch ? { batch: true } : {}),
      },
    });
    return { eval_id: evalId, backend, queue_position: position };
  }
}
