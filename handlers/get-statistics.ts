import type { Deps, Handler } from './types.js';

export function getStatistics({
  storage,
  stats,
  events,
  reconciler,
}: Deps): Handler<'getStatistics'> {
  return async ({ trace }) => {
    const s = await storage.statistics(trace);
    return {
      status: 200,
      body: {
        storage: s,
        gateway: {
          started_at: stats.startedAt.toISOString(),
          uptime_seconds: stats.uptimeSeconds(),
          submissions: { ...stats.submissions },
          fallbacks: stats.fallbacks,
          submit_failures: stats.submitFailures,
          events_dropped: events.dropped,
          events_pending: events.pending,
          record_updates_failed: stats.recordUpdatesFailed,
          reconciler: { ...reconciler.figures },
          requests: stats.requests,
        },
      },
    };
  };
}
