import type { Deps, Handler } from './types.js';

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
