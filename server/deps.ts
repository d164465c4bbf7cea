import type { Config } from '../lib/config.js';
import { createWebhooks } from './webhooks.js';
import type { Logger } from '../lib/logger.js';
import { GatewayStats } from '../lib/stats.js';
import { TrafficSplit } from '../core/traffic-split.js';
import { createQueueService } from '../clients/queue-service.js';
import { createStorageService } from '../clients/storage-service.js';
import { createExecutors } from '../clients/executors.js';
import { createEventBus } from '../clients/event-bus.js';
import type { EventBus } from '../clients/event-bus.js';
import { createMemoryLedger } from '../clients/ledger.js';
import { createMemoryKeyStore } from '../clients/key-store.js';
import { ApiKeys } from '../core/api-keys.js';
import type { Deps } from '../handlers/types.js';

/** The handlers' dependencies as the server holds them: the health monitor it runs, too. */
export interface ServerDeps extends Deps {
  health: HealthMonitor;
  reconciler: Reconciler;
  metrics: Metrics;
  depths: DepthSampler;
}
import { HealthMonitor } from './health.js';
import { Submitter } from '../core/submitter.js';
import { EndWaits } from '../core/end-waits.js';
import { Reconciler } from '../core/reconciler.js';
import { createMetrics } from './metrics.js';
import { DepthSampler } from './depth-sampler.js';
import type { CallOutcome } from '../clients/http.js';
import type { Metrics } from './metrics.js';
import { loadSpec } from '../lib/spec.js';

/** Terminal evaluations kept in memory when ENABLE_CACHING is on. */
const TERMINAL_CACHE_SIZE = 10_000;

/**
 * The real clients for a configuration: HTTP for the services, Redis for events and the job
 * queue when configured, PostgreSQL for the gateway's record when DATABASE_URL is set (its
 * migrations run here, before the gateway listens).
 */
export async function createDeps(
  config: Readonly<Config>,
  logger: Logger,
  /** An event bus made by the caller (shared with an embedded platform). */
  given: { events?: EventBus; warnings?: readonly string[] } = {},
): Promise<ServerDeps> {
  const metrics = createMetrics();
  const http = {
    apiKey: config.gateway.internalApiKey,
    timeoutMs: config.gateway.downstreamTimeoutMs,
    retries: config.gateway.downstreamRetries,
    circuit: config.circuit,
    onCircuit: (service: string, state: string) => {
      if (state === 'open') logger.warn({ service }, 'circuit opened: calls refused at once');
      else logger.info({ service, state }, `circuit ${state.replace('_', '-')}`);
    },
    record: config.gateway.metricsEnabled
      ? (service: string, seconds: number, outcome: CallOutcome) =>
          metrics.downstream(service, seconds, outcome)
      : undefined,
  };
  // Every real call tells the health monitor (made below, from these clients) what it found.
  const watching: { monitor?: HealthMonitor } = {};
  const observe =
    (key: string) =>
    (reachable: boolean, err?: Error): void =>
      watching.monitor?.observe(key, reachable, err);
  const queue = createQueueService({
    ...http,
    baseUrl: config.gateway.queueServiceUrl,
    observe: observe('queue'),
  });
  const storage = createStorageService({
    ...http,
    baseUrl: config.gateway.storageServiceUrl,
    observe: observe('storage'),
    cacheTerminal: config.gateway.enableCaching ? TERMINAL_CACHE_SIZE : 0,
  });
  const executors = createExecutors({
    ...http,
    known: config.gateway.executors,
    urlTemplate: config.gateway.executorUrlTemplate,
  });
  // Bull and postgres are loaded only when configured (they cost ~60 ms of start-up together).
  const pg = config.gateway.databaseUrl
    ? await (
        await import('../clients/ledger-postgres.js')
      ).createPostgresLedger(
        config.gateway.databaseUrl,
        config.gateway.databaseSchema,
        config.gateway.idempotencyTtlHours,
      )
    : undefined;
  const ledger = pg ?? createMemoryLedger(config.gateway.idempotencyTtlHours);
  // Keys beside the record: PostgreSQL (seen by every gateway) or this process's memory.
  const keys = new ApiKeys(pg?.keys ?? createMemoryKeyStore());
  const events =
    given.events ??
    createEventBus(config.gateway.redisUrl, logger, config.durability.eventBufferSize);
  const jobQueue =
    config.jobQueue.enabled && config.jobQueue.redisUrl
      ? (await import('../clients/job-queue.js')).createJobQueue(
          {
            redisUrl: config.jobQueue.redisUrl,
            name: config.jobQueue.name,
            prefix: config.jobQueue.prefix,
            attempts: config.jobQueue.attempts,
            backoffMs: config.jobQueue.backoffMs,
            keepCompleted: config.jobQueue.keepCompleted,
            keepFailed: config.jobQueue.keepFailed,
            timeoutMs: config.gateway.downstreamTimeoutMs,
          },
          logger,
        )
      : undefined;
  const health = (watching.monitor = new HealthMonitor({
    warnings: given.warnings ?? [],
    queue: { url: queue.displayUrl, check: (t) => queue.health(t), circuit: () => queue.circuit },
    storage: {
      url: storage.displayUrl,
      check: (t) => storage.health(t),
      circuit: () => storage.circuit,
    },
    // States and latencies only: Redis and PostgreSQL addresses stay out of /api/status.
    redis: config.gateway.redisUrl
      ? { check: () => events.ping() }
      : { disabled: true, check: () => Promise.resolve() },
    jobQueue: jobQueue
      ? { check: () => jobQueue.ping() }
      : { disabled: true, check: () => Promise.resolve() },
    gatewayStore: { check: () => ledger.ping() },
    executors: Object.fromEntries(
      config.gateway.executors.map((e) => [
        e.id,
        {
          url: e.url,
          check: (t: number) => executors.health(e.id, t),
          circuit: () => executors.circuits()[`executor:${e.id}`] ?? 'closed',
        },
      ]),
    ),
    intervalMs: config.health.intervalMs,
    graceMs: config.health.graceMs,
    graceIntervalMs: config.health.graceIntervalMs,
    logger,
  }));
  const split = new TrafficSplit({
    enabled: jobQueue !== undefined,
    percentage: config.jobQueue.share,
  });
  const stats = new GatewayStats();
  const submitter = new Submitter({
    config,
    queue,
    jobQueue,
    events,
    ledger,
    split,
    stats,
    logger,
  });
  const webhooks = await createWebhooks(config, storage, events, logger);
  const reconciler = new Reconciler(
    { ledger, storage, queue, jobQueue, submitter, events, logger, webhooks },
    {
      graceMs: config.durability.reconcileGraceMs,
      intervalMs: config.durability.reconcileIntervalMs,
      batch: config.durability.reconcileBatch,
      maxRequeues: config.durability.reconcileMaxRequeues,
    },
  );
  const depths = new DepthSampler(queue, jobQueue, config.metricsSampleMs, logger);
  metrics.watch({
    stats,
    events,
    split,
    reconciler,
    webhooks,
    circuits: () => ({
      queue: queue.circuit,
      storage: storage.circuit,
      ...executors.circuits(),
    }),
    depths: () => depths.depths,
  });
  return {
    config,
    metrics,
    depths,
    queue,
    storage,
    executors,
    jobQueue,
    events,
    ledger,
    split,
    submitter,
    waits: new EndWaits(events),
    webhooks,
    keys,
    reconciler,
    health,
    stats,
    logger,
    spec: loadSpec(),
  };
}

/** Closes every connection the dependencies hold. */
export async function closeDeps(deps: ServerDeps): Promise<void> {
  deps.health.stop();
  deps.depths.stop();
  await deps.reconciler.stop();
  await Promise.allSettled([
    deps.webhooks.close(),
    deps.events.close(),
    deps.jobQueue?.close(),
    deps.ledger.close(),
  ]);
}
