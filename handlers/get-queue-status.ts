import { isGatewayError } from '../lib/errors.js';
import type { components } from '../generated/types/gateway.js';
import { jobQueueStatus } from './job-queue-view.js';
import type { Deps, Handler } from './types.js';

export function getQueueStatus(deps: Deps): Handler<'getQueueStatus'> {
  const { queue, split, stats } = deps;
  return async ({ trace }) => {
    const bull = jobQueueStatus(deps);
    let legacy: components['schemas']['LegacyQueueStatus'];
    try {
      legacy = { healthy: true, ...(await queue.status(trace)) };
    } catch (err) {
      legacy = {
        healthy: false,
        error: isGatewayError(err) ? err.message : 'Queue service failed',
      };
    }
    return {
      status: 200,
      body: {
        legacy,
        bull: await bull,
        traffic_split: {
          celery_enabled: split.enabled,
          configured_percentage: split.percentage,
          observed: { ...stats.submissions, bull_share: stats.bullShare() },
        },
      },
    };
  };
}
