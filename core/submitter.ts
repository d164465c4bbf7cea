import type { Config } from '../lib/config.js';
import { GatewayError, isGatewayError } from '../lib/errors.js';
import type { ValidationIssue } from '../lib/errors.js';
import { newEvalId } from './ids.js';
import { traceparent } from '../lib/trace.js';
import type { TraceContext } from '../lib/trace.js';
import type { GatewayStats } from '../lib/stats.js';
import type { Logger } from '../lib/logger.js';
import type { TrafficSplit } from './traffic-split.js';
import { DEFAULT_LANGUAGE, DEFAULT_TIMEOUT, MAX_CODE_BYTES } from './evaluation.js';
import type { EvaluationRequest, QueueBackend, Submission } from './evaluation.js';
import type { EventBus } from './ports/event-bus.js';
import type { Ledger, SubmissionRecord } from './ports/ledger.js';
import { handOver } from './hand-over.js';
import type { Accepted } from './hand-over.js';
import type { JobQueue } from './ports/job-queue.js';
import type { QueueService } from './ports/queue-service.js';

export type { Accepted } from './hand-over.js';

export interface SubmitOptions {
  batch?: boolean;
  /** The batch it came in and its place there. */
  batchId?: string;
  batchIndex?: number;
  /** Made by the caller, so that a failure can be reported under the id its event carries. */
  evalId?: string;
  /** Who submitted it, for the record. */
  client?: string | null;
  /** Whose it is (the submitting key's owner). */
  owner?: string | null;
  /** Pins the traffic split's choice (TRAFFIC_SPLIT_STICKY_HEADER). */
  stickyKey?: string;
  /** The submitting request's trace context: in the events, the downstream call, the job. */
  trace?: TraceContext;
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
   * It runs beside the schema's checks, so that a request learns every problem at once: a field
   * of the wrong type is the schema's to report, and skipped here.
   */
  check(req: EvaluationRequest, pointer = ''): ValidationIssue[] {
    const issues: ValidationIssue[] = [];
    if (typeof req.code === 'string' && Buffer.byteLength(req.code, 'utf8') > MAX_CODE_BYTES) {
      issues.push({
        in: 'body',
        pointer: `${pointer}/code`,
        message: `must be at most ${MAX_CODE_BYTES} bytes of UTF-8`,
      });
    }
    const files = Array.isArray(req.files) ? req.files : [];
    const names = files.map((f) => f?.name);
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice)
      issues.push({ in: 'body', pointer: `${pointer}/files`, message: `names ${twice} twice` });
    const max = this.deps.config.limits;
    for (const [field, most] of [
      ['memory_mb', max.memoryMb],
      ['max_processes', max.maxProcesses],
      ['output_bytes', max.outputBytes],
    ] as const) {
      const asked = typeof req.limits === 'object' ? req.limits?.[field] : undefined;
      if (typeof asked === 'number' && asked > most)
        issues.push({
          in: 'body',
          pointer: `${pointer}/limits/${field}`,
          message: `must be at most ${most} (the deployment's maximum)`,
        });
    }
    if (Array.isArray(req.test_cases) && req.test_cases.length && req.stdin)
      issues.push({
        in: 'body',
        pointer: `${pointer}/stdin`,
        message: 'must not be given with test_cases: each case brings its own stdin',
      });
    const language = req.language ?? DEFAULT_LANGUAGE;
    if (
      typeof language === 'string' &&
      !this.deps.config.gateway.allowedLanguages.includes(language)
    ) {
      issues.push({
        in: 'body',
        pointer: `${pointer}/language`,
        message: `must be one of: ${this.deps.config.gateway.allowedLanguages.join(', ')}`,
      });
    }
    return issues;
  }

  /**
   * The record is the promise: it is written (with the code) before any backend sees the
   * evaluation, and a record that cannot be written refuses the submit (503) with nothing queued.
   * Only a fallback writes it again (the backend that took it); should that write fail, the
   * record still answers for the id and the reconciler, which asks both backends, settles it.
   */
  async submit(req: EvaluationRequest, opts: SubmitOptions = {}): Promise<Accepted> {
    const { events, stats, ledger, split, logger } = this.deps;
    const evalId = opts.evalId ?? newEvalId();
    const batch = opts.batch ?? false;
    const e: Submission = {
      code: req.code,
      language: req.language ?? DEFAULT_LANGUAGE,
      timeout: req.timeout ?? DEFAULT_TIMEOUT,
      priority: req.priority ?? false,
      stdin: req.stdin ?? '',
      args: req.args ?? [],
      test_cases: req.test_cases ?? [],
      callback_url: req.callback_url ?? '',
      files: req.files ?? [],
      limits: req.limits ?? {},
    };
    const submittedAt = new Date();
    const trace = opts.trace;
    const metadata = {
      submitted_at: submittedAt.toISOString(),
      timeout: e.timeout,
      priority: e.priority,
      ...(batch ? { batch: true } : {}),
      ...(trace ? { traceparent: traceparent(trace) } : {}),
    };
    const order = split.order(opts.stickyKey);
    const record: SubmissionRecord = {
      eval_id: evalId,
      backend: order[0]!,
      task_id: evalId,
      // Queued already: one write on the common path. Should the hand-over fail, the record
      // says failed; should the gateway die first, the reconciler finds no job and queues it.
      status: 'queued',
      language: e.language,
      timeout: e.timeout,
      priority: e.priority,
      client: opts.client ?? null,
      owner: opts.owner ?? null,
      fallback: false,
      batch,
      submitted_at: submittedAt,
      code: e.code,
      stdin: e.stdin,
      args: e.args,
      test_cases: e.test_cases,
      callback_url: e.callback_url || null,
      files: e.files,
      limits: e.limits,
      batch_id: opts.batchId ?? null,
      batch_index: opts.batchIndex ?? null,
      requeues: 0,
    };
    try {
      await ledger.record(record);
    } catch (err) {
      stats.submitFailures++;
      throw new GatewayError(
        'GW_ERR_DOWNSTREAM_UNAVAILABLE',
        'The gateway could not record the evaluation, so it queued nothing',
        { cause: err },
      );
    }
    await events.publish('evaluation:submitted', {
      eval_id: evalId,
      language: e.language,
      metadata,
    });

    let accepted: Accepted;
    try {
      accepted = await handOver(this.deps, order, evalId, e, {
        submittedAt: metadata.submitted_at,
        batch,
        owner: record.owner,
        trace,
      });
    } catch (err) {
      stats.submitFailures++;
      // The client hears of the failure; the record must not be queued again behind its back.
      await ledger.setStatus(evalId, 'failed').catch((cause: unknown) => {
        stats.recordUpdatesFailed++;
        logger.error({ eval_id: evalId, err: cause }, 'refused evaluation not marked failed');
      });
      await events.publish('evaluation:failed', {
        eval_id: evalId,
        error: (err as Error).message,
        failed_at: 'submit',
      });
      throw err;
    }

    stats.submissions[accepted.backend]++;
    if (accepted.fallback) {
      stats.fallbacks++;
      try {
        await ledger.record({ ...record, backend: accepted.backend, fallback: true });
      } catch (err) {
        // The reconciler asks both backends, so the record naming the other one loses nothing.
        stats.recordUpdatesFailed++;
        logger.error(
          { eval_id: evalId, err: isGatewayError(err) ? err.message : err },
          'record names the backend that refused the evaluation',
        );
      }
    }
    await events.publish('evaluation:queued', {
      eval_id: evalId,
      code: e.code,
      language: e.language,
      metadata: {
        ...metadata,
        backend: accepted.backend,
        fallback: accepted.fallback,
        ...(record.owner ? { owner: record.owner } : {}),
      },
    });
    return accepted;
  }

  /**
   * Queues a recorded evaluation again under its own id — its backend first, then the other —
   * and says so on `evaluation:queued` (subscribers may have missed the first). For the
   * reconciler, when no backend holds an evaluation that made no progress.
   */
  async requeue(rec: SubmissionRecord): Promise<Accepted> {
    const other: QueueBackend = rec.backend === 'bull' ? 'legacy' : 'bull';
    const order = this.deps.split.enabled ? [rec.backend, other] : ['legacy' as const];
    const e = {
      code: rec.code,
      language: rec.language,
      timeout: rec.timeout,
      priority: rec.priority,
      stdin: rec.stdin,
      args: rec.args,
      test_cases: rec.test_cases,
      callback_url: rec.callback_url ?? '',
      files: rec.files,
      limits: rec.limits,
    };
    const submittedAt = rec.submitted_at.toISOString();
    const accepted = await handOver(this.deps, order, rec.eval_id, e, {
      submittedAt,
      batch: rec.batch,
      owner: rec.owner,
      trace: undefined,
    });
    await this.deps.ledger.record({
      ...rec,
      backend: accepted.backend,
      status: 'queued',
      fallback: rec.fallback || accepted.fallback,
    });
    await this.deps.events.publish('evaluation:queued', {
      eval_id: rec.eval_id,
      code: rec.code,
      language: rec.language,
      metadata: {
        submitted_at: submittedAt,
        timeout: rec.timeout,
        priority: rec.priority,
        ...(rec.batch ? { batch: true } : {}),
        backend: accepted.backend,
        fallback: accepted.fallback,
        requeued: true,
        ...(rec.owner ? { owner: rec.owner } : {}),
      },
    });
    return accepted;
  }
}
