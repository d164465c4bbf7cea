import type { TraceContext } from '../../lib/trace.js';
import type { components } from '../../generated/types/queue.js';

export type TaskRequest = components['schemas']['TaskRequest'];
export type TaskAccepted = components['schemas']['TaskAccepted'];
export type QueueCounts = components['schemas']['QueueCounts'];
export type NextTask = NonNullable<components['schemas']['NextTask']>;

/** What removing a task from the legacy queue achieved. */
export type RemoveOutcome = 'removed' | 'unknown' | 'taken';

/** The legacy queue service (`spec/downstream/queue.yaml`). */
/** Calls made for a request take its trace context (`trace`), passed on as `traceparent`. */
export interface QueueService {
  readonly displayUrl: string;
  /** The state of the service's circuit breaker (`disabled` when it has none). */
  readonly circuit: 'closed' | 'open' | 'half_open' | 'disabled';
  /** Queue an evaluation; resolves with its position when the queue reports one. */
  submit(task: TaskRequest, trace?: TraceContext): Promise<TaskAccepted>;
  /** Whether the queue holds the task (waiting or taken by a worker). */
  holds(evalId: string, trace?: TraceContext): Promise<boolean>;
  /** Take a task out of the queue before a worker does. */
  remove(evalId: string, trace?: TraceContext): Promise<RemoveOutcome>;
  /** Queue counts. */
  status(trace?: TraceContext): Promise<QueueCounts>;
  /** Queue counts for metrics, sampled in the background (around the circuit breaker). */
  sampleDepth(): Promise<QueueCounts>;
  /** Resolves when the service answers its health check. */
  health(timeoutMs: number): Promise<void>;
  /** For workers: takes the next task, or null when the queue is empty. */
  next(): Promise<NextTask | null>;
  /** For workers: reports a task done (`ok`) or failed; it leaves the queue. */
  report(evalId: string, ok: boolean): Promise<void>;
}
