import { DEFAULT_LANGUAGE } from '../core/evaluation.js';
import type { components } from '../generated/types/storage.js';
import type { EventBus } from '../clients/event-bus.js';
import { canMove, isTerminal } from '../core/lifecycle.js';
import type { Logger } from '../lib/logger.js';
import { ServiceError } from './contract-server.js';
import type { Doc, Evaluation, StorageData } from './storage-data.js';

type Update = components['schemas']['EvaluationUpdate'];
type Create = components['schemas']['EvaluationCreate'];

/** Output and error kept per evaluation, in UTF-8 bytes. */
export const MAX_OUTPUT_BYTES = 1024 * 1024;

/**
 * `text` cut to at most `max` UTF-8 bytes on a character boundary, and whether it was cut. NUL
 * characters become U+FFFD: PostgreSQL cannot hold them, and a program's output may have them.
 */
export function capBytes(text: string, max = MAX_OUTPUT_BYTES): [string, boolean] {
  text = text.replaceAll('\u0000', '\uFFFD');
  const buf = Buffer.from(text, 'utf8');
  if (buf.length <= max) return [text, false];
  let cut = max;
  while (cut > 0 && ((buf[cut] ?? 0) & 0xc0) === 0x80) cut--; // back to the start of a character
  return [buf.subarray(0, cut).toString('utf8'), true];
}

/** The record as the contract shows it: without where it runs (that has its own calls). */
export const publicView = (d: Doc): Evaluation => {
  const e: Doc = { ...d };
  delete e.running;
  return e;
};

/** The storage service's rules, over a StorageData. */
export class Storage {
  constructor(
    readonly data: StorageData,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Creates an evaluation; null when one has the id. `createdAt`: when it was submitted. */
  async create(c: Create, createdAt?: string): Promise<Evaluation | null> {
    const doc: Doc = {
      id: c.id,
      status: c.status ?? 'submitted',
      code: c.code,
      language: c.language ?? DEFAULT_LANGUAGE,
      created_at: createdAt ?? this.now().toISOString(),
      started_at: null,
      completed_at: null,
      output: null,
      error: null,
      output_truncated: false,
      error_truncated: false,
      runtime_ms: null,
      exit_code: null,
      executor_id: null,
      container_id: null,
      metadata: c.metadata ?? {},
      running: null,
    };
    if (isTerminal(doc.status)) doc.completed_at = doc.created_at;
    if (!(await this.data.insert(doc))) return null;
    await this.data.addEvent(c.id, this.event('created', `Evaluation created (${doc.status})`));
    return publicView(doc);
  }

  private event(event_type: string, message: string, metadata: Record<string, unknown> = {}) {
    return { timestamp: this.now().toISOString(), event_type, message, metadata };
  }

  /** A partial update; status changes follow the state machine (409 otherwise). */
  async update(id: string, patch: Update): Promise<Evaluation> {
    let moved: string | undefined;
    const doc = await this.data.modify(id, (d) => {
      const to = patch.status;
      const changesResult =
        patch.output !== undefined || patch.error !== undefined || patch.exit_code !== undefined;
      // What a cancelled evaluation printed before it was stopped comes after the cancel.
      const printedBeforeCancel =
        d.status === 'cancelled' &&
        (to === undefined || to === d.status) &&
        patch.exit_code === undefined;
      if (
        isTerminal(d.status) &&
        ((to !== undefined && to !== d.status) || (changesResult && !printedBeforeCancel))
      ) {
        throw new ServiceError(409, `Evaluation ${id} is already ${d.status}`);
      }
      if (to !== undefined && to !== d.status) {
        if (!canMove(d.status, to))
          throw new ServiceError(409, `Evaluation ${id} cannot move from ${d.status} to ${to}`);
        moved = `${d.status} → ${to}`;
        d.status = to;
        const now = this.now().toISOString();
        if (to === 'running' && !d.started_at) d.started_at = now;
        if (isTerminal(to)) {
          d.completed_at = now;
          d.running = null;
        }
      }
      // Cut here past storage's own cap, or already cut by the writer (the executor's cap).
      if (patch.output !== undefined) [d.output, d.output_truncated] = capBytes(patch.output);
      if (patch.error !== undefined) [d.error, d.error_truncated] = capBytes(patch.error);
      if (patch.output_truncated) d.output_truncated = true;
      if (patch.error_truncated) d.error_truncated = true;
      if (patch.termination_reason !== undefined) d.termination_reason = patch.termination_reason;
      if (patch.exit_code !== undefined) d.exit_code = patch.exit_code;
      if (patch.resources !== undefined) d.resources = patch.resources;
      if (patch.test_results !== undefined) d.test_results = patch.test_results;
      if (patch.test_summary !== undefined) d.test_summary = patch.test_summary;
      if (patch.runtime_ms !== undefined) d.runtime_ms = patch.runtime_ms;
      if (patch.executor_id !== undefined) d.executor_id = patch.executor_id;
      if (patch.container_id !== undefined) d.container_id = patch.container_id;
      if (patch.metadata !== undefined) d.metadata = { ...(d.metadata ?? {}), ...patch.metadata };
      if (patch.retries !== undefined)
        d.metadata = { ...(d.metadata ?? {}), retries: patch.retries };
      if (patch.final_failure !== undefined)
        d.metadata = { ...(d.metadata ?? {}), final_failure: patch.final_failure };
      return d;
    });
    if (!doc) throw new ServiceError(404, `No evaluation ${id}`);
    if (moved)
      await this.data.addEvent(id, this.event('status_changed', moved, { status: doc.status }));
    return publicView(doc);
  }

  async get(id: string): Promise<Doc> {
    const d = await this.data.get(id);
    if (!d) throw new ServiceError(404, `No evaluation ${id}`);
    return d;
  }

  async markRunning(
    id: string,
    q: { executor_id?: string; container_id?: string; job_name?: string },
  ) {
    const doc = await this.data.modify(id, (d) => {
      if (isTerminal(d.status))
        throw new ServiceError(409, `Evaluation ${id} is already ${d.status}`);
      d.running = {
        eval_id: id,
        started_at: this.now().toISOString(),
        executor_id: q.executor_id ?? null,
        container_id: q.container_id ?? null,
        job_name: q.job_name ?? null,
      };
      if (q.executor_id) d.executor_id = q.executor_id;
      return d;
    });
    if (!doc?.running) throw new ServiceError(404, `No evaluation ${id}`);
    return doc.running;
  }

  async unmarkRunning(id: string): Promise<void> {
    await this.data.modify(id, (d) => ({ ...d, running: null }));
  }

  /**
   * Keeps storage in step with the lifecycle events: a queued evaluation is created as soon as it
   * is announced (so history shows it before a worker takes it), and a cancellation announced
   * before the record exists leaves a cancelled record that the late `queued` cannot undo.
   */
  /** A queue gave up on an evaluation: it ends failed, whatever state it was left in. */
  private async giveUp(id: string, error: string): Promise<unknown> {
    const d = await this.data.get(id);
    if (!d) return this.create({ id, code: '', status: 'failed', metadata: { error } });
    return isTerminal(d.status) ? undefined : this.update(id, { status: 'failed', error });
  }

  follow(bus: EventBus, logger: Logger): () => void {
    return bus.subscribe((channel, payload) => {
      const p = payload as {
        eval_id: string;
        code?: string;
        language?: string;
        metadata?: Record<string, unknown>;
        reason?: string;
        error?: string;
        failed_at?: string;
      };
      const work =
        channel === 'evaluation:failed' && p.failed_at === 'attempts'
          ? this.giveUp(p.eval_id, p.error ?? 'failed')
          : channel === 'evaluation:queued'
            ? this.create(
                {
                  id: p.eval_id,
                  code: p.code ?? '',
                  language: p.language,
                  status: 'queued',
                  metadata: p.metadata ?? {},
                },
                typeof p.metadata?.submitted_at === 'string' ? p.metadata.submitted_at : undefined,
              )
            : channel === 'evaluation:cancelled'
              ? this.data.get(p.eval_id).then((d) =>
                  d
                    ? isTerminal(d.status)
                      ? undefined
                      : this.update(p.eval_id, {
                          status: 'cancelled',
                          error: p.reason ?? 'cancelled',
                        })
                    : this.create({
                        id: p.eval_id,
                        code: '',
                        status: 'cancelled',
                        metadata: { reason: p.reason },
                      }),
                )
              : undefined;
      void Promise.resolve(work).catch((err: unknown) => {
        // A race with the worker or the gateway settles on the state machine; nothing to repair.
        if (!(err instanceof ServiceError))
          logger.warn({ err, channel }, 'storage could not follow an event');
      });
    });
  }
}
