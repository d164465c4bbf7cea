import type { Config } from '../../lib/config.js';
import { GatewayError } from '../../lib/errors.js';
import type { RouteOperation } from '../../lib/http/router.js';

/**
 * Stage 5: each client's requests a minute on /api/* (RATE_LIMIT_PER_MINUTE; 0: no limit), 429
 * with Retry-After past it. The limiter is loaded only when a limit is set.
 */
export async function createRateLimit(
  config: Pick<Config['gateway'], 'rateLimitPerMinute'>,
): Promise<(op: RouteOperation, client: string) => Promise<void>> {
  if (config.rateLimitPerMinute <= 0) return () => Promise.resolve();
  const { RateLimiterMemory } = await import('rate-limiter-flexible');
  const limiter = new RateLimiterMemory({ points: config.rateLimitPerMinute, duration: 60 });
  return async (op, client) => {
    if (!op.path.startsWith('/api/')) return;
    try {
      await limiter.consume(client);
    } catch (err) {
      // rate-limiter-flexible rejects with its result (msBeforeNext) when the budget is spent.
      const msBeforeNext = (err as { msBeforeNext?: unknown }).msBeforeNext;
      if (typeof msBeforeNext !== 'number') throw err;
      const retry = Math.max(1, Math.ceil(msBeforeNext / 1000));
      throw new GatewayError(
        'GW_ERR_RATE_LIMITED',
        `Rate limit of ${config.rateLimitPerMinute} requests a minute reached; retry in ${retry} s`,
        { headers: { 'retry-after': String(retry) } },
      );
    }
  };
}
