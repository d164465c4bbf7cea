import type { Logger } from '../lib/logger.js';
import type { components } from '../generated/types/gateway.js';
import { isTerminal } from './lifecycle.js';
import { runBudgetMs } from './evaluation.js';
import type { EventBus } from './ports/event-bus.js';
import type { JobQueue } from './ports/job-queue.js';
import type { Ledger, SubmissionRecord } from './ports/ledger.js';
import type { QueueService } from './ports/queue-service.js';
import type { StorageService } from './ports/storage-service.js';
import type { Submitter } from './submitter.js';
import type { Webhooks } from './webhooks.js';

export interface ReconcilerOptions {
  /** How long an accepted evaluation may show no progress before it is looked at. */
  graceMs: number;
  intervalMs: number;
  /** Records looked at per run. */
  batch: number;
  /** Re-queues without progress before the evaluation is marked failed. */
  maxRequeues: number;
  now?: () => number;
}

export interface ReconcilerDeps {
  ledger: Ledger;
  storage: StorageService;
  queue: QueueService;
  jobQueue: JobQueue | undefined;
  submitter: Submitter;
  events: EventBus;
  logger: Logger;
  /** Webhooks to start for evaluations found ended. */
  webhooks?: Pick<Webhooks, 'ended'>;
}

/** What the reconciler did, as `/api/statistics` shows it (the spec's ReconcilerStats). */
export type ReconcilerFigures = components['schemas']['ReconcilerStats'];

/**
 * Keeps the promise of a 202 when a backend loses what it held (Redis restarted without
 * persistence, the queue service crashed): every `intervalMs`, the leading gateway looks at the
 * unfinished records nobody looked at for `graceMs`. Storage has them finished → the record
 * follows. A backend still holds them → they are waiting or running. Neither → queued again under
 * the same id (Bull's job id and the queue service both refuse a second copy) — also when storage
 * says running long past the evaluation's timeout (its worker died with it; storage goes back to
 * queued first) — and after `maxRequeues` such rounds marked failed and announced on
 * `evaluation:failed`.
 */
export class Reconciler {
  readonly figures: ReconcilerFigures = {
    leader: false,
    runs: 0,
    checked: 0,
    requeued: 0,
    gave_up: 0,
    last_run_at: null,
  };
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly deps: ReconcilerDeps,
    private readonly opts: ReconcilerOptions,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.run(), this.opts.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One pass; concurrent calls share the pass in progress. */
  run(): Promise<void> {
    this.running ??= this.pass()
      .catch((err: unknown) => this.deps.logger.warn({ err }, 'reconciler pass failed'))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(): Promise<void> {
    const { ledger } = this.deps;
    this.figures.leader = await ledger.lead();
    if (!this.figures.leader) return;
    this.figures.runs++;
    this.figures.last_run_at = new Date().toISOString();
    for (const rec of await ledger.stale(this.opts.graceMs, this.opts.batch)) {
      this.figures.checked++;
      // A service that cannot answer ends the pass: the rest waits for the next one.
      await this.settle(rec);
    }
  }

  private async holds(rec: SubmissionRecord): Promise<boolean> {
    const { queue, jobQueue } = this.deps;
    // Either backend may hold it: a fallback moves it, and the record may predate the move.
    if (await queue.holds(rec.eval_id)) return true;
    return jobQueue ? jobQueue.holds(rec.eval_id) : false;
  }

  private async settle(rec: SubmissionRecord): Promise<void> {
    const { ledger, storage } = this.deps;
    const stored = await storage.find(rec.eval_id);
    const follow = async (): Promise<void> => {
      if (stored && stored.status !== rec.status)
        await ledger.setStatus(rec.eval_id, stored.status);
      else await ledger.touch(rec.eval_id, false);
    };
    if (stored && isTerminal(stored.status)) {
      // Its webhook, if the end went unheard (or Redis lost the registration).
      if (rec.callback_url && this.deps.webhooks)
        await this.deps.webhooks.ended(rec.eval_id, {
          url: rec.callback_url,
          owner: rec.owner ?? '',
        });
      return follow();
    }
    if (await this.holds(rec)) return follow();
    if (stored && (stored.status === 'running' || stored.status === 'provisioning')) {
      // Running, and no backend holds its job: fine while its time may not be up; long after,
      // its worker died with it (and with the legacy queue's lease, or Bull's job) unrecorded.
      const since = Date.parse(stored.started_at ?? stored.created_at ?? '') || 0;
      const now = (this.opts.now ?? Date.now)();
      if (now - since <= runBudgetMs(rec) + this.opts.graceMs) return follow();
      await storage.update(rec.eval_id, { status: 'queued' });
    }
    return this.requeueOrGiveUp(rec, stored !== null);
  }

  private async requeueOrGiveUp(rec: SubmissionRecord, inStorage: boolean): Promise<void> {
    const { ledger, storage, submitter, events, logger } = this.deps;
    if (rec.requeues >= this.opts.maxRequeues || rec.code === '') {
      this.figures.gave_up++;
      await ledger.setStatus(rec.eval_id, 'failed');
      const why =
        rec.code === ''
          ? 'No backend holds the evaluation and its code was not kept'
          : `No backend held the evaluation after ${rec.requeues} re-queues`;
      logger.error({ eval_id: rec.eval_id }, why);
      // Storage may hold it as queued (a worker took it, then its backend lost it): reads
      // prefer storage, so storage must say it too.
      if (inStorage) await storage.update(rec.eval_id, { status: 'failed', error: why });
      await events.publish('evaluation:failed', {
        eval_id: rec.eval_id,
        error: why,
        failed_at: 'reconcile',
      });
      return;
    }
    const accepted = await submitter.requeue(rec);
    await ledger.touch(rec.eval_id, true);
    this.figures.requeued++;
    logger.warn(
      { eval_id: rec.eval_id, backend: accepted.backend, lost_from: rec.backend },
      'queued again: no backend held the evaluation',
    );
  }
}
