import { jobQueueStatus } from './job-queue-view.js';
import type { Deps, Handler } from './types.js';

export function getCeleryStatus(deps: Deps): Handler<'getCeleryStatus'> {
  return () => ({ status: 200, body: jobQueueStatus(deps) });
}
