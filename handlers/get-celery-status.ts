import { jobQueueStatus } from './job-queue-view.js';
import type { Deps, Handler } from './types.js';

export function getCeleryStatus(deps: Deps): Handler<'getCeleryStatus'> {
  return async () => ({ status: 200, body: await jobQueueStatus(deps) });
}
