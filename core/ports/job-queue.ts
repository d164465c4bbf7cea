import type { components } from '../../generated/types/events.js';

export type JobPayload = components['schemas']['JobPayload'];

/** What cancelling an evaluation's job achieved. */
export type JobCancelOutcome = 'removed' | 'active' | 'finished' | 'unknown';

export interface JobCounts {
  workers: number;
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  completed: number;
}

/** The job queue (Bull on Redis), which plays the part the brief gives Celery. */
export interface JobQueue {
  readonly name: string;
  /** True while the connection to Redis is up. */
  readonly connected: boolean;
  /**
   * Adds one job whose id is the eval_id, so a repeated add never makes a second job. Fails at
   * once (503) when Redis is not connected rather than queueing the command for later.
   */
  add(payload: JobPayload): Promise<void>;
  /** Whether a job of that id is waiting, delayed or active (not finished, not gone). */
  holds(evalId: string): Promise<boolean>;
  /** Removes a job still waiting; an active one is left for the caller to signal. */
  cancel(evalId: string): Promise<JobCancelOutcome>;
  counts(): Promise<JobCounts>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
