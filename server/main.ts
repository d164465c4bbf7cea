/**
 * The composition root: the only place that reads the environment and builds real clients.
 * With no QUEUE_SERVICE_URL and STORAGE_SERVICE_URL it first starts the reference platform in
 * this process (embedded mode) and points the gateway's ordinary clients at it.
 */
import { createLogger } from '../lib/logger.js';
import { createInProcessEventBus, createRedisEventBus } from '../clients/event-bus.js';
import { startPlatform } from '../platform/embedded.js';
import type { Platform } from '../platform/embedded.js';
import { buildApp } from './app.js';
import { closeDeps, createDeps } from './deps.js';
import { configOrExit, onShutdown } from './boot.js';

async function main(): Promise<void> {
  let config = configOrExit(process.env);
  const logger = createLogger(config.logLevel);
  if (config.internalApiKeyIsDefault) {
    logger.warn('INTERNAL_API_KEY is not set; using the development key');
  }
  const events = config.redisUrl
    ? createRedisEventBus(config.redisUrl, logger)
    : createInProcessEventBus();
  let platform: Platform | undefined;
  if (config.embedded) {
    platform = await startPlatform(config, events, logger);
    const known = process.env.EXECUTOR_URLS ? `${process.env.EXECUTOR_URLS},` : '';
    config = configOrExit({
      ...process.env,
      QUEUE_SERVICE_URL: platform.queueUrl,
      STORAGE_SERVICE_URL: platform.storageUrl,
      EXECUTOR_URLS: `${known}${platform.executorId}=${platform.executorUrl}`,
      HOST: config.host,
    });
    logger.info(
      {
        queue: platform.queueUrl,
        storage: `${platform.storageUrl} (${platform.storageKind})`,
        executor: platform.executorUrl,
      },
      'embedded platform started (no QUEUE_SERVICE_URL / STORAGE_SERVICE_URL set)',
    );
  }
  const deps = await createDeps(config, logger, { events });
  const app = await buildApp(deps);
  const address = await app.listen(config.port, config.host);
  deps.health.start();
  // Idempotency keys past their TTL are forgotten hourly (a claim also replaces an expired key).
  const prune = setInterval(() => {
    deps.store
      .prune()
      .catch((err: unknown) => logger.warn({ err }, 'could not prune idempotency keys'));
  }, 3_600_000);
  prune.unref();
  const base = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  logger.info(
    {
      queue: deps.queue.displayUrl,
      storage: deps.storage.displayUrl,
      events: deps.events.kind,
      store: deps.store.kind,
      job_queue: deps.jobQueue
        ? `${deps.jobQueue.name} (${Math.round(deps.split.percentage * 100)}% of traffic)`
        : 'disabled',
    },
    `gateway listening on ${base} — docs at ${base}/docs`,
  );

  onShutdown(async (signal) => {
    logger.info({ signal }, 'shutting down');
    await app.close();
    await platform?.close();
    await closeDeps(deps);
  });
}

await main();
