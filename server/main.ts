/**
 * The composition root: the only place that reads the environment and builds real clients.
 */
import { ConfigError, loadConfig } from '../lib/config.js';
import { createLogger } from '../lib/logger.js';
import { buildApp } from './app.js';
import { closeDeps, createDeps } from './deps.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  if (config.internalApiKeyIsDefault) {
    logger.warn('INTERNAL_API_KEY is not set; using the development key');
  }
  const deps = await createDeps(config, logger);
  // Idempotency keys past their TTL are forgotten hourly (a claim also replaces an expired key).
  const prune = setInterval(() => {
    deps.store
      .prune()
      .catch((err: unknown) => logger.warn({ err }, 'could not prune idempotency keys'));
  }, 3_600_000);
  prune.unref();
  const app = await buildApp(deps);
  const address = await app.listen(config.port, config.host);
  deps.health.start();
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

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    void app
      .close()
      .then(() => closeDeps(deps))
      .then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

await main();
