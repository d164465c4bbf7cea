import type { ServerResponse } from 'node:http';
import type { RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import type { Redis } from 'ioredis';
import type { Config } from '../../lib/config.js';
import { GatewayError } from '../../lib/errors.js';
import type { RouteOperation } from '../../lib/http/router.js';

const WINDOW_S = 60;

export interface RateLimits {
  /** Stage 5: one request of `identity` on a limited operation; 429 past the budget. */
  /** `perMinute`: the key's own figure, instead of RATE_LIMIT_PER_MINUTE. */
  limit(op: RouteOperation, client: string, res: ServerResponse, perMinute?: number): Promise<void>;
  /** Before authentication: 429 while an address keeps sending credentials that fail. */
  checkFailures(address: string): Promise<void>;
  /** After a 401: counts a failed credential against its address. */
  failed(address: string): Promise<void>;
  close(): Promise<void>;
}

const seconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));

function tooMany(detail: string, msBeforeNext: number): GatewayError {
  return new GatewayError('GW_ERR_RATE_LIMITED', detail, {
    headers: { 'retry-after': String(seconds(msBeforeNext)) },
  });
}

/** What rate-limiter-flexible rejects with when a budget is spent (not an Error). */
const spent = (err: unknown): RateLimiterRes | undefined =>
  typeof (err as { msBeforeNext?: unknown }).msBeforeNext === 'number'
    ? (err as RateLimiterRes)
    : undefined;

/**
 * Request budgets shared by every gateway on one Redis (rate-limiter-flexible's Redis limiter;
 * per process when there is no Redis, and while Redis is down): RATE_LIMIT_PER_MINUTE per API
 * key on `/api/*` (per client address for calls without one), announced on every limited answer with the
 * IETF draft's `RateLimit-Policy` and `RateLimit` fields; AUTH_FAILURES_PER_MINUTE failed
 * credentials per client address, after which the address gets 429 until the window passes.
 */
export async function createRateLimits(
  config: Pick<
    Config['gateway'],
    'rateLimitPerMinute' | 'authFailuresPerMinute' | 'redisUrl' | 'rateLimitPrefix'
  >,
): Promise<RateLimits> {
  const { RateLimiterMemory, RateLimiterRedis } = await import('rate-limiter-flexible');
  let redis: Redis | undefined;
  if (config.redisUrl) {
    const { Redis: Client } = await import('ioredis');
    redis = new Client(config.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    redis.on('error', () => undefined); // the insurance limiter takes over; health reports Redis
  }
  const limiter = (points: number, name: string): RateLimiterAbstract => {
    const memory = new RateLimiterMemory({ points, duration: WINDOW_S });
    return redis
      ? new RateLimiterRedis({
          storeClient: redis,
          points,
          duration: WINDOW_S,
          keyPrefix: `${config.rateLimitPrefix}:${name}`,
          insuranceLimiter: memory,
        })
      : memory;
  };
  const requests =
    config.rateLimitPerMinute > 0 ? limiter(config.rateLimitPerMinute, 'req') : undefined;
  const failures =
    config.authFailuresPerMinute > 0
      ? limiter(config.authFailuresPerMinute, 'authfail')
      : undefined;
  // One limiter per distinct figure keys give themselves (a limiter has one figure).
  const figures = new Map<number, RateLimiterAbstract>();
  const own = (points: number): RateLimiterAbstract => {
    let l = figures.get(points);
    if (!l) figures.set(points, (l = limiter(points, `key${points}`)));
    return l;
  };

  return {
    async limit(op, client, res, perMinute) {
      const budget = perMinute ? own(perMinute) : requests;
      if (!budget || !op.path.startsWith('/api/')) return;
      const points = perMinute ?? config.rateLimitPerMinute;
      const policy = `"per-key";q=${points};w=${WINDOW_S}`;
      res.setHeader('ratelimit-policy', policy);
      try {
        const r = await budget.consume(client);
        res.setHeader('ratelimit', `"per-key";r=${r.remainingPoints};t=${seconds(r.msBeforeNext)}`);
      } catch (err) {
        const r = spent(err);
        if (!r) throw err;
        res.setHeader('ratelimit', `"per-key";r=0;t=${seconds(r.msBeforeNext)}`);
        throw tooMany(
          `Rate limit of ${points} requests a minute reached; retry in ${seconds(r.msBeforeNext)} s`,
          r.msBeforeNext,
        );
      }
    },
    async checkFailures(address) {
      if (!failures) return;
      const r = await failures.get(address);
      if (r && r.consumedPoints >= config.authFailuresPerMinute) {
        throw tooMany(
          `Too many failed credentials from this address; retry in ${seconds(r.msBeforeNext)} s`,
          r.msBeforeNext,
        );
      }
    },
    async failed(address) {
      await failures?.penalty(address, 1).catch(() => undefined);
    },
    async close() {
      redis?.disconnect();
      return Promise.resolve();
    },
  };
}
