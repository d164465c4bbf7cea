import Bull from 'bull';
import type { EventBus } from '../clients/event-bus.js';
import type { QueueService } from '../clients/queue-service.js';
import type { StorageService } from '../clients/storage-service.js';
import type { JobPayload } from '../clients/job-queue.js';
import { GatewayError, isGatewayError } from '../lib/errors.js';
import { isTerminal } from '../core/lifecycle.js';
import type { Logger } from '../lib/logger.js';
import type { QueueBackend } from '../core/evaluation.js';
import type { LocalExecutor } from './local-executor.js';
import { traceFrom, traceparent } from '../lib/trace.js';
import { followOutput } from './output-progress.js';
import { recordEnd } from './run-record.js';
import type { RunResult } from './run-ending.js';
import { runRequest } from './run-request.js';
import type { Work } from './run-request.js';
import { reportOf, runCases } from './test-cases.js';
import type { CasesReport } from './test-cases.js';

export interface WorkerOptions {
  executor: LocalExecutor;
  queue: QueueService;
  storage: StorageService;
  events: EventBus;
  /** The job queue to take work from too; absent: the legacy queue only. */
  jobQueue?: { redisUrl: string; name: string; prefix: string; lockMs: number };
  /** Evaluations run at once per backend. */
  concurrency: number;
  pollMs: number;
  limits: { memoryMb: number; outputBytes: number };
  logger: Logger;
}

/**
 * Takes evaluations from the job queue (Bull) and from the legacy queue service, runs them on
 * the local executor and records what happened in storage, announcing each step on the event
 * bus. A cancellation announced for an evaluation it runs kills the process.
 *
 * A worker that dies mid-evaluation loses nothing: Bull moves a job whose lock lapses back to
 * waiting (its stalled-job check), and the legacy queue hands a task out again when its lease
 * lapses. Work is therefore done at least once.
 */
export class Worker {
  private stopped = false;
  private jobs: Bull.Queue | undefined;
  private loops: Promise<void>[] = [];
  private wake: (() => void)[] = [];
  private unsubscribe: (() => void) | undefined;
  /** Evaluations this worker has taken and not finished, and whether a cancel was announced. */
  private readonly active = new Map<string, { cancelled: boolean }>();
  private stopping = false;

  constructor(private readonly opts: WorkerOptions) {}

  get id(): string {
    return this.opts.executor.id;
  }

  async start(): Promise<void> {
    const { events, executor, jobQueue, concurrency } = this.opts;
    this.unsubscribe = events.subscribe((channel, payload) => {
      const id = (payload as { eval_id?: string }).eval_id;
      if (channel === 'evaluation:cancelled' && id && executor.running().includes(id))
        executor.kill(id);
    });
    await events.subscribed();
    if (jobQueue) {
      this.jobs = new Bull(jobQueue.name, jobQueue.redisUrl, {
        prefix: jobQueue.prefix,
        settings: {
          lockDuration: jobQueue.lockMs,
          lockRenewTime: jobQueue.lockMs / 2,
          stalledInterval: jobQueue.lockMs,
        },
      });
      this.jobs.on('error', (err: Error) =>
        this.opts.logger.warn({ err: err.message }, 'job queue error'),
      );
      // A job out of attempts (failures, or workers that died holding it) ends failed for good.
      this.jobs.on('failed', (job: Bull.Job<JobPayload>, err: Error) => {
        if (job.attemptsMade >= (job.opts.attempts ?? 1)) void this.giveUp(job, err.message);
      });
      void this.jobs.process(concurrency, async (job: Bull.Job<JobPayload>) => {
        await this.execute(job.data, 'bull');
      });
    }
    for (let i = 0; i < concurrency; i++) this.loops.push(this.pollLegacy());
  }

  /**
   * Stops taking work and ends what runs: the processes are killed and their evaluations left
   * unreported, so the job queue (stalled job) or the legacy queue (lapsed lease) hands them out
   * again. Waiting for them instead could take their whole timeout.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const w of this.wake.splice(0)) w();
    this.unsubscribe?.();
    this.stopping = true;
    this.opts.executor.killAll();
    await Promise.all([this.jobs?.close(), ...this.loops]);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      this.wake.push(done);
    });
  }

  private async pollLegacy(): Promise<void> {
    const { queue, pollMs, logger } = this.opts;
    while (!this.stopped) {
      let task;
      try {
        task = await queue.next();
      } catch (err) {
        logger.debug({ err: isGatewayError(err) ? err.message : err }, 'legacy queue unreachable');
        await this.sleep(pollMs * 4);
        continue;
      }
      if (!task) {
        await this.sleep(pollMs);
        continue;
      }
      try {
        await this.execute(task, 'legacy');
        await queue.report(task.eval_id, true);
      } catch (err) {
        // Not reported: the task's lease lapses and the queue hands it out again.
        logger.warn(
          { eval_id: task.eval_id, err: isGatewayError(err) ? err.message : err },
          'evaluation not finished; it will be retried',
        );
      }
    }
  }

  private async giveUp(job: Bull.Job<JobPayload>, reason: string): Promise<void> {
    const { storage, events, logger } = this.opts;
    const id = job.data.eval_id;
    const error = `Gave up after ${job.attemptsMade} attempts: ${reason}`;
    try {
      const current = await storage.find(id);
      if (current && isTerminal(current.status)) return;
      if (!current)
        await storage.create({
          id,
          code: job.data.code,
          language: job.data.language,
          status: 'queued',
        });
      await storage.update(id, { status: 'failed', error });
      await events.publish('evaluation:failed', { eval_id: id, error, failed_at: 'attempts' });
    } catch (err) {
      logger.warn(
        { eval_id: id, err: isGatewayError(err) ? err.message : err },
        'could not record a give-up',
      );
    }
  }

  /** Runs one evaluation from pick-up to its final record and event. */
  async execute(work: Work, backend: QueueBackend): Promise<void> {
    const id = work.eval_id;
    const state = { cancelled: false };
    this.active.set(id, state);
    try {
      await this.run(work, backend, state);
    } finally {
      this.active.delete(id);
    }
  }

  private async run(
    work: Work,
    backend: QueueBackend,
    state: { cancelled: boolean },
  ): Promise<void> {
    const { storage, events, executor, limits } = this.opts;
    const id = work.eval_id;
    // The submission's trace, continued under a span of this worker's (none: a trace of its own).
    const trace = traceFrom(work.traceparent);
    const logger = this.opts.logger.child({ eval_id: id, trace_id: trace.traceId });
    await storage.create(
      {
        id,
        code: work.code,
        language: work.language,
        status: 'queued',
        metadata: { backend, ...(work.owner ? { owner: work.owner } : {}) },
      },
      trace,
    );
    const current = await storage.find(id, trace);
    if (current && isTerminal(current.status)) {
      logger.info({ status: current.status }, 'skipping an evaluation that already ended');
      return;
    }
    try {
      // provisioning until its process exists; running only from then on, so that whoever sees
      // `running` can also kill it.
      await storage.update(id, { status: 'provisioning', executor_id: executor.id }, trace);
      await storage.markRunning(id, { executor_id: executor.id, job_name: backend }, trace);
    } catch (err) {
      if (err instanceof GatewayError && err.code === 'GW_ERR_EVALUATION_TERMINAL') return; // cancelled just now
      throw err;
    }
    let started!: () => void;
    const processStarted = new Promise<void>((resolve) => (started = resolve));
    const onStart = (): void => {
      if (state.cancelled) executor.kill(id);
      started();
    };
    const request = (stdin: string | undefined) => runRequest(work, limits, stdin);
    const cases = work.test_cases?.length ? work.test_cases : undefined;
    // With test cases: once per case, each in a sandbox of its own (the first start counts).
    const result: Promise<RunResult & Partial<CasesReport>> = cases
      ? runCases(cases, (stdin) => executor.run(request(stdin), onStart)).then(reportOf)
      : executor.run(request(work.stdin), onStart);
    await Promise.race([processStarted, result]);
    if (!state.cancelled) {
      try {
        await storage.update(id, { status: 'running' }, trace);
        await events.publish('evaluation:running', {
          eval_id: id,
          executor_id: executor.id,
          timeout: work.timeout,
          traceparent: traceparent(trace),
        });
      } catch (err) {
        // Cancelled between the two steps: the process is being killed by the cancel already.
        if (!(err instanceof GatewayError && err.code === 'GW_ERR_EVALUATION_TERMINAL')) {
          // Storage failed: stop the process rather than run it unrecorded; the job is retried.
          executor.kill(id);
          await result;
          throw err;
        }
      }
    }
    // Live output for a single run (test cases' outputs are in their results).
    const stopFollowing = cases
      ? () => Promise.resolve()
      : followOutput(storage, events, executor, id, trace);
    let r;
    try {
      r = await result;
    } finally {
      // The last chunks go out before the end is announced (or the record says it).
      await stopFollowing(r ? { output: r.output, error: r.error } : { output: '', error: '' });
    }
    // Killed because this worker stops: not this evaluation's end; it is retried elsewhere.
    if (r.status === 'cancelled' && this.stopping) throw new Error(`worker ${executor.id} stopped`);
    if (r.status === 'cancelled') {
      // Killed on request: the canceller recorded and announced it; what it printed is kept.
      const printed = {
        output: r.output,
        error: r.error,
        runtime_ms: r.runtime_ms,
        resources: r.resources,
      };
      await storage.update(id, printed, trace).catch(() => undefined);
      return;
    }
    await recordEnd({ storage, events }, id, executor.id, r, trace);
  }
}
