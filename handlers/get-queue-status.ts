import { isGatewayError } from '../lib/errors.js';
import type { components } from '../generated/types/gateway.js';
import { jobQueueStatus } from './job-queue-view.js';
import type { Deps, Handler } from './types.js';

export function getQueueStatus(deps: Deps): Handler<'getQueueStatus'> {
  const { queue, config, stats } = deps;
  return async () => {
    let legacy: components['schemas']['LegacyQueueStatus'];
    try {
      legacy = { healthy: true, ...(await queue.status()) };
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
        bull: jobQueueStatus(deps),
        traffic_split: {
          celery_enabled: config.celeryEnabled,
          configured_percentage: config.celeryPercentage,
          observed: { ...stats.submissions, bull_share: stats.bullShare() },
        },
      },
    };
  };
}
