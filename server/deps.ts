import type { Config } from '../lib/config.js';
import type { Logger } from '../lib/logger.js';
import { GatewayStats } from '../lib/stats.js';
import { createQueueService } from '../clients/queue-service.js';
import { createStorageService } from '../clients/storage-service.js';
import { createExecutors } from '../clients/executors.js';
import { createInProcessEventBus, createRedisEventBus } from '../clients/event-bus.js';
import type { Deps } from '../handlers/types.js';
import { HealthMonitor } from './health.js';
import { loadSpec } from './spec.js';
import { redact } from '../lib/config.js';

/** Terminal evaluations kept in memory when ENABLE_CACHING is on. */
const TERMINAL_CACHE_SIZE = 10_000;

/** The real clients for a configuration: HTTP for the services, Redis when REDIS_URL is set. */
export function createDeps(config: Readonly<Config>, logger: Logger): Deps {
  const http = {
    apiKey: config.internalApiKey,
    timeoutMs: config.downstreamTimeoutMs,
    retries: config.downstreamRetries,
  };
  const queue = createQueueService({ ...http, baseUrl: config.queueServiceUrl });
  const storage = createStorageService({
    ...http,
    baseUrl: config.storageServiceUrl,
    cacheTerminal: config.enableCaching ? TERMINAL_CACHE_SIZE : 0,
  });
  const executors = createExecutors({
    ...http,
    known: config.executors,
    urlTemplate: config.executorUrlTemplate,
  });
  const events = config.redisUrl
    ? createRedisEventBus(config.redisUrl, logger)
    : createInProcessEventBus();
  const health = new HealthMonitor({
    queue: { url: queue.displayUrl, check: (t) => queue.health(t) },
    storage: { url: storage.displayUrl, check: (t) => storage.health(t) },
    redis: config.redisUrl
      ? { url: redact(config.redisUrl), check: () => events.ping() }
      : { disabled: true, check: () => Promise.resolve() },
    executors: Object.fromEntries(
      config.executors.map((e) => [
        e.id,
        { url: e.url, check: (t: number) => executors.health(e.id, t) },
      ]),
    ),
    intervalMs: config.healthIntervalMs,
    graceMs: config.healthGraceMs,
    graceIntervalMs: config.healthGraceIntervalMs,
    logger,
  });
  return {
    config,
    queue,
    storage,
    executors,
    events,
    health,
    stats: new GatewayStats(),
    logger,
    spec: loadSpec(),
  };
}
