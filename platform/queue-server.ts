import { DEFAULT_LANGUAGE, runBudgetMs } from '../core/evaluation.js';
import type { components, operations } from '../generated/types/queue.js';
import type { Logger } from '../lib/logger.js';
import { ServiceError, downstreamDocument, serveContract } from './contract-server.js';
import type { ContractServer } from './contract-server.js';

type TaskRequest = components['schemas']['TaskRequest'];

interface Task {
  eval_id: string;
  code: string;
  language: string;
  engine: string;
  timeout: number;
  priority: number;
  owner?: string;
  traceparent?: string;
  stdin?: string;
  args?: string[];
  test_cases?: { stdin?: string; expected_output?: string }[];
  files?: { name: string; content: string }[];
  limits?: { memory_mb?: number; max_processes?: number; output_bytes?: number };
  seq: number;
  queued_at: string;
  /** Set while a worker holds it: when the hold lapses it goes back to the queue. */
  lease_until?: number;
  /** How often a worker has taken it. */
  attempts: number;
}

export interface QueueOptions {
  /** A taken task returns to the queue this long after its own timeout if no worker reports. */
  leaseGraceMs?: number;
  /** A task whose lease lapsed this many times is dropped and handed to `onGiveUp`. */
  maxAttempts?: number;
  onGiveUp?: (task: { eval_id: string; attempts: number }) => void;
  now?: () => number;
}

/**
 * The legacy queue: tasks by priority (higher first), first in first out within one. A worker
 * that takes a task holds a lease on it; when the lease lapses without a report (the worker
 * died), the task is queued again, so no task is lost with its worker.
 */
export class TaskQueue {
  private readonly waiting = new Map<number, Task[]>();
  private readonly tasks = new Map<string, Task>();
  private readonly leased = new Map<string, Task>();
  private seq = 0;
  private readonly now: () => number;
  private readonly graceMs: number;

  constructor(private readonly opts: QueueOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.graceMs = opts.leaseGraceMs ?? 30_000;
  }

  private priorities(): number[] {
    return [...this.waiting.keys()].sort((a, b) => b - a);
  }

  private enqueue(task: Task, front = false): void {
    let bucket = this.waiting.get(task.priority);
    if (!bucket) this.waiting.set(task.priority, (bucket = []));
    if (front) bucket.unshift(task);
    else bucket.push(task);
  }

  position(id: string): number | null {
    let ahead = 0;
    for (const p of this.priorities()) {
      const bucket = this.waiting.get(p) ?? [];
      const i = bucket.findIndex((t) => t.eval_id === id);
      if (i >= 0) return ahead + i;
      ahead += bucket.length;
    }
    return null;
  }

  /** Queues a task; the same eval_id again is the same task (a retried submit). */
  add(req: TaskRequest): { task: Task; position: number | null } {
    const existing = this.tasks.get(req.eval_id);
    if (existing) return { task: existing, position: this.position(req.eval_id) };
    const task: Task = {
      eval_id: req.eval_id,
      code: req.code,
      language: req.language ?? DEFAULT_LANGUAGE,
      engine: req.engine ?? 'docker',
      timeout: req.timeout ?? 30,
      priority: req.priority ?? 1,
      ...(req.owner ? { owner: req.owner } : {}),
      ...(req.traceparent ? { traceparent: req.traceparent } : {}),
      ...(req.stdin ? { stdin: req.stdin } : {}),
      ...(req.args?.length ? { args: req.args } : {}),
      ...(req.test_cases?.length ? { test_cases: req.test_cases } : {}),
      ...(req.files?.length ? { files: req.files } : {}),
      ...(req.limits ? { limits: req.limits } : {}),
      seq: this.seq++,
      attempts: 0,
      queued_at: new Date(this.now()).toISOString(),
    };
    this.tasks.set(task.eval_id, task);
    this.enqueue(task);
    return { task, position: this.position(task.eval_id) };
  }

  /** Puts back every task whose lease lapsed, ahead of the others of its priority. */
  private reclaim(): void {
    const now = this.now();
    for (const [id, task] of this.leased) {
      if ((task.lease_until ?? 0) <= now) {
        this.leased.delete(id);
        delete task.lease_until;
        if (task.attempts >= (this.opts.maxAttempts ?? Infinity)) {
          this.tasks.delete(id);
          this.opts.onGiveUp?.({ eval_id: id, attempts: task.attempts });
        } else this.enqueue(task, true);
      }
    }
  }

  take(): Task | null {
    this.reclaim();
    for (const p of this.priorities()) {
      const task = this.waiting.get(p)?.shift();
      if (!task) continue;
      task.lease_until = this.now() + runBudgetMs(task) + this.graceMs;
      task.attempts++;
      this.leased.set(task.eval_id, task);
      return task;
    }
    return null;
  }

  /** A worker's report: the task leaves the queue for good. */
  finish(id: string): boolean {
    if (!this.leased.delete(id)) return false;
    this.tasks.delete(id);
    return true;
  }

  remove(id: string): 'removed' | 'taken' | 'unknown' {
    if (this.leased.has(id)) return 'taken';
    const task = this.tasks.get(id);
    if (!task) return 'unknown';
    const bucket = this.waiting.get(task.priority) ?? [];
    bucket.splice(bucket.indexOf(task), 1);
    this.tasks.delete(id);
    return 'removed';
  }

  clear(): number {
    let n = 0;
    for (const bucket of this.waiting.values()) {
      for (const t of bucket) this.tasks.delete(t.eval_id);
      n += bucket.length;
    }
    this.waiting.clear();
    return n;
  }

  state(id: string): { status: 'queued' | 'processing'; task: Task } | null {
    this.reclaim();
    const task = this.tasks.get(id);
    if (!task) return null;
    return { status: this.leased.has(id) ? 'processing' : 'queued', task };
  }

  counts(): { queued: number; processing: number; total: number } {
    this.reclaim();
    return {
      queued: this.tasks.size - this.leased.size,
      processing: this.leased.size,
      total: this.tasks.size,
    };
  }
}

/** The reference queue service of spec/downstream/queue.yaml over a TaskQueue. */
export function startQueueServer(opts: {
  apiKey: string;
  logger: Logger;
  queue?: TaskQueue;
}): Promise<ContractServer> {
  const q = opts.queue ?? new TaskQueue();
  const report = (id: string): { status: 200; body: { status: string } } => {
    if (!q.finish(id)) throw new ServiceError(404, `No task ${id} is being processed`);
    return { status: 200, body: { status: 'recorded' } };
  };
  return serveContract<operations>({
    name: 'queue',
    document: downstreamDocument('queue'),
    apiKey: opts.apiKey,
    logger: opts.logger,
    handlers: {
      createTask: ({ body }) => {
        const { task, position } = q.add(body);
        return { status: 200, body: { eval_id: task.eval_id, status: 'queued', position } };
      },
      clearTasks: () => ({ status: 200, body: { status: 'cleared', tasks_removed: q.clear() } }),
      nextTask: () => {
        const t = q.take();
        return {
          status: 200,
          body: t && {
            eval_id: t.eval_id,
            code: t.code,
            language: t.language,
            engine: t.engine,
            timeout: t.timeout,
            priority: t.priority,
            ...(t.owner ? { owner: t.owner } : {}),
            ...(t.traceparent ? { traceparent: t.traceparent } : {}),
            ...(t.stdin ? { stdin: t.stdin } : {}),
            ...(t.args ? { args: t.args } : {}),
            ...(t.test_cases ? { test_cases: t.test_cases } : {}),
            ...(t.files ? { files: t.files } : {}),
            ...(t.limits ? { limits: t.limits } : {}),
          },
        };
      },
      getTask: ({ params }) => {
        const s = q.state(params.eval_id);
        if (!s) throw new ServiceError(404, `No task ${params.eval_id}`);
        return {
          status: 200,
          body: {
            eval_id: params.eval_id,
            status: s.status,
            position: q.position(params.eval_id),
            queued_at: s.task.queued_at,
          },
        };
      },
      removeTask: ({ params }) => {
        const outcome = q.remove(params.eval_id);
        if (outcome === 'unknown') throw new ServiceError(404, `No task ${params.eval_id}`);
        if (outcome === 'taken')
          throw new ServiceError(409, `Task ${params.eval_id} is being processed`);
        return { status: 200, body: { eval_id: params.eval_id, status: 'removed' } };
      },
      completeTask: ({ params }) => report(params.eval_id),
      failTask: ({ params }) => report(params.eval_id),
      getQueueStatus: () => {
        const c = q.counts();
        return {
          status: 200,
          body: {
            queued: c.queued,
            processing: c.processing,
            queue_length: c.queued,
            total_tasks: c.total,
          },
        };
      },
      getHealth: () => {
        const c = q.counts();
        return {
          status: 200,
          body: {
            status: 'healthy',
            service: 'queue',
            queue_size: c.queued,
            total_tasks: c.total,
            redis: 'not used',
          },
        };
      },
    },
  });
}
