import type { components } from '../generated/types/gateway.js';
import type { Deps } from './types.js';

type JobQueueStatus = components['schemas']['JobQueueStatus'];

/** The job queue's state; no job-queue backend is attached to this gateway build yet. */
export function jobQueueStatus({ config }: Deps): JobQueueStatus {
  return {
    enabled: config.celeryEnabled,
    connected: false,
    error: 'No job-queue backend is connected; every submission goes to the legacy queue',
  };
}
