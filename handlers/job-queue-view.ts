import type { components } from '../generated/types/gateway.js';
import { isGatewayError } from '../lib/errors.js';
import type { Deps } from './types.js';

type JobQueueStatus = components['schemas']['JobQueueStatus'];

/** The job queue's connection and counts, as /api/celery-status and /api/queue-status report them. */
export async function jobQueueStatus({ jobQueue, config }: Deps): Promise<JobQueueStatus> {
  if (!jobQueue) {
    return {
      enabled: false,
      connected: false,
      error: 'The job queue is disabled (CELERY_ENABLED=false)',
    };
  }
  try {
    return { enabled: true, connected: true, queue: jobQueue.name, ...(await jobQueue.counts()) };
  } catch (err) {
    return {
      enabled: config.jobQueue.enabled,
      connected: false,
      queue: jobQueue.name,
      error: isGatewayError(err) ? err.message : 'Job queue unavailable',
    };
  }
}
