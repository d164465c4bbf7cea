import type { Deps, Handler } from './types.js';

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
