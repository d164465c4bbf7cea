import { DownstreamHttp } from './http.js';
import type { DownstreamOptions } from './http.js';
import type {
  NextTask,
  QueueCounts,
  QueueService,
  TaskAccepted,
} from '../core/ports/queue-service.js';
export type {
  NextTask,
  QueueCounts,
  QueueService,
  RemoveOutcome,
  TaskAccepted,
  TaskRequest,
} from '../core/ports/queue-service.js';

export function createQueueService(
  opts: Omit<DownstreamOptions, 'displayName' | 'service'>,
): QueueService {
  const http = new DownstreamHttp({ ...opts, displayName: 'Queue service', service: 'queue' });
  return {
    displayUrl: http.displayUrl,
    get circuit() {
      return http.circuitState;
    },
    async submit(task, trace) {
      const r = await http.call<TaskAccepted>('POST', 'tasks', {
        json: task,
        trace,
        expect: 'queue_TaskAccepted',
      });
      return r.body;
    },
    async holds(evalId, trace) {
      const r = await http.call('GET', `tasks/${encodeURIComponent(evalId)}`, {
        accept: [404],
        trace,
      });
      return r.status !== 404;
    },
    async remove(evalId, trace) {
      const r = await http.call('DELETE', `tasks/${encodeURIComponent(evalId)}`, {
        accept: [404, 409],
        trace,
      });
      return r.status === 404 ? 'unknown' : r.status === 409 ? 'taken' : 'removed';
    },
    async status(trace) {
      return (await http.call<QueueCounts>('GET', 'status', { expect: 'queue_QueueCounts', trace }))
        .body;
    },
    async sampleDepth() {
      return (
        await http.call<QueueCounts>('GET', 'status', {
          expect: 'queue_QueueCounts',
          background: true,
          retries: 0,
        })
      ).body;
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
