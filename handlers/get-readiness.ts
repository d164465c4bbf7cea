import { DEFAULT_RETRY_AFTER_SECONDS } from '../lib/errors.js';
import type { Deps, Handler } from './types.js';

export function getReadiness({ health }: Deps): Handler<'getReadiness'> {
  return () => {
    const { ready, checks } = health.readiness();
    return ready
      ? { status: 200, body: { status: 'ready', checks } }
      : {
          status: 503,
          body: { status: 'not_ready', checks },
          headers: { 'retry-after': String(DEFAULT_RETRY_AFTER_SECONDS) },
        };
  };
}
