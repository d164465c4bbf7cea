/**
 * The composition root: the only place that reads the environment. With no QUEUE_SERVICE_URL
 * and STORAGE_SERVICE_URL it runs the reference platform in this process (embedded mode).
 */
import { createLogger } from '../lib/logger.js';
import { configOrExit, onShutdown } from '../lib/boot.js';
import { composeGateway } from './compose.js';

const config = configOrExit(process.env);
const logger = createLogger(config.gateway.logLevel);
if (config.gateway.internalApiKeyIsDefault && !config.gateway.embedded)
  logger.warn('INTERNAL_API_KEY is not set; using the development key');
const gateway = await composeGateway(config, configOrExit, process.env, logger).catch(
  (err: unknown) => {
    // A refusal to start (no sandbox beyond loopback, say) is said plainly, without a stack.
    logger.fatal(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
const { deps, app } = gateway;
const address = await app.listen(gateway.config.gateway.port, gateway.config.gateway.host);
deps.health.start();
deps.depths.start();
deps.reconciler.start();
// Idempotency keys past their TTL are forgotten hourly (a claim also replaces an expired key).
const prune = setInterval(() => {
  deps.ledger
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
    ledger: deps.ledger.kind,
    job_queue: deps.jobQueue
      ? `${deps.jobQueue.name} (${Math.round(deps.split.percentage * 100)}% of traffic)`
      : 'disabled',
  },
  `gateway listening on ${base} — docs at ${base}/docs, live updates at ${base.replace('http', 'ws')}/ws`,
);
onShutdown(
  async (signal) => {
    const started = Date.now();
    logger.info({ signal }, 'shutting down');
    await gateway.close();
    logger.info({ ms: Date.now() - started }, 'shut down');
  },
  // In-flight requests get their bound; closing the connections behind them a little more.
  gateway.config.gateway.shutdownTimeoutMs + 5_000,
);
