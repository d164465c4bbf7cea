import type { components } from '../generated/types/queue.js';
import { DownstreamHttp } from './http.js';
import type { DownstreamOptions } from './http.js';

export type TaskRequest = components['schemas']['TaskRequest'];
export type TaskAccepted = components['schemas']['TaskAccepted'];
export type QueueCounts = components['schemas']['QueueCounts'];
export type NextTask = NonNullable<components['schemas']['NextTask']>;

/** What removing a task from the legacy queue achieved. */
export type RemoveOutcome = 'removed' | 'unknown' | 'taken';

/** The legacy queue service (`spec/downstream/queue.yaml`). */
export interface QueueService {
  readonly displayUrl: string;
  /** Queue an evaluation; resolves with its position when the queue reports one. */
  submit(task: TaskRequest): Promise<TaskAccepted>;
  /** Take a task out of the queue before a worker does. */
  remove(evalId: string): Promise<RemoveOutcome>;
  /** Queue counts. */
  status(): Promise<QueueCounts>;
  /** Resolves when the service answers its health check. */
  health(timeoutMs: number): Promise<void>;
  /** For workers: takes the next task, or null when the queue is empty. */
  next(): Promise<NextTask | null>;
  /** For workers: reports a task done (`ok`) or failed; it leaves the queue. */
  report(evalId: string, ok: boolean): Promise<void>;
}

export function createQueueService(opts: Omit<DownstreamOptions, 'displayName'>): QueueService {
  const http = new DownstreamHttp({ ...opts, displayName: 'Queue service' });
  return {
    displayUrl: http.displayUrl,
    async submit(task) {
      const r = await http.call<TaskAccepted>('POST', 'tasks', {
        json: task,
        expect: 'queue_TaskAccepted',
      });
      return r.body;
    },
    async remove(evalId) {
      const r = await http.call('DELETE', `tasks/${encodeURIComponent(evalId)}`, {
        accept: [404, 409],
      });
      return r.status === 404 ? 'unknown' : r.status === 409 ? 'taken' : 'removed';
    },
    async status() {
      return (await http.call<QueueCounts>('GET', 'status', { expect: 'queue_QueueCounts' })).body;
    },
    async health(timeoutMs) {
      await http.call('GET', 'health', { anonymous: true, timeoutMs, retries: 0 });
    },
    async next() {
      // Not retried: a lost answer must not hand out a second task.
      return (
        await http.call<NextTask | null>('GET', 'tasks/next', {
          expect: 'queue_NextTask',
          retries: 0,
        })
      ).body;
    },
    async report(evalId, ok) {
      await http.call('POST', `tasks/${encodeURIComponent(evalId)}/${ok ? 'complete' : 'fail'}`, {
        accept: [404],
      });
    },
  };
}
