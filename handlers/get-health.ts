import type { Deps, Handler } from './types.js';

const health = ({ spec, stats }: Deps) => ({
  status: 200 as const,
  body: {
    status: 'healthy' as const,
    service: 'api-gateway',
    version: spec.version,
    uptime_seconds: stats.uptimeSeconds(),
    timestamp: new Date().toISOString(),
  },
});

export function getHealth(deps: Deps): Handler<'getHealth'> {
  return () => health(deps);
}

/** `GET /api/health`: the same, where the original gateway had it. */
export function getApiHealth(deps: Deps): Handler<'getApiHealth'> {
  return () => health(deps);
}
