import { isGatewayError } from '../lib/errors.js';
import type { components } from '../generated/types/gateway.js';
import type { Deps, Handler } from './types.js';

type JobQueueStatus = components['schemas']['JobQueueStatus'];

/** The job queue's state; no job-queue backend is attached to this gateway build yet. */
function jobQueueStatus({ config }: Deps): JobQueueStatus {
  return {
    enabled: config.celeryEnabled,
    connected: false,
    error: 'No job-queue backend is connected; every submission goes to the legacy queue',
  };
}

export function getHealth({ spec, stats }: Deps): Handler<'getHealth'> {
  return () => ({
    status: 200,
    body: {
      status: 'healthy',
      service: 'api-gateway',
      version: spec.version,
      uptime_seconds: stats.uptimeSeconds(),
      timestamp: new Date().toISOString(),
    },
  });
}

export function getLiveness(): Handler<'getLiveness'> {
  return () => ({ status: 200, body: { status: 'ok' } });
}

export function getReadiness({ health }: Deps): Handler<'getReadiness'> {
  return () => {
    const { ready, checks } = health.readiness();
    return ready
      ? { status: 200, body: { status: 'ready', checks } }
      : { status: 503, body: { status: 'not_ready', checks } };
  };
}

export function getPlatformStatus({ health }: Deps): Handler<'getPlatformStatus'> {
  return () => ({ status: 200, body: health.snapshot() });
}

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

export function getCeleryStatus(deps: Deps): Handler<'getCeleryStatus'> {
  return () => ({ status: 200, body: jobQueueStatus(deps) });
}

export function getStatistics({ storage, stats }: Deps): Handler<'getStatistics'> {
  return async () => {
    const s = await storage.statistics();
    return {
      status: 200,
      body: {
        storage: s,
        gateway: {
          started_at: stats.startedAt.toISOString(),
          uptime_seconds: stats.uptimeSeconds(),
          submissions: { ...stats.submissions },
          submit_failures: stats.submitFailures,
          requests: stats.requests,
        },
      },
    };
  };
}
