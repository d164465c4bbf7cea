import { createLogger } from '../lib/logger.js';
import type { Config } from '../lib/config.js';
import { createEventBus } from '../clients/event-bus.js';
import { configOrExit, onShutdown } from '../lib/boot.js';
import { startPlatform } from './embedded.js';
import type { PlatformParts } from './embedded.js';

/**
 * Runs parts of the reference platform as a process of its own (`npm run platform`,
 * `npm run worker`), listening on HOST, until SIGTERM or SIGINT.
 */
export async function servePlatform(
  env: Record<string, string | undefined>,
  parts: PlatformParts,
  what: string,
  check?: (c: Readonly<Config>) => string | undefined,
): Promise<void> {
  const config = configOrExit(env, check);
  const logger = createLogger(config.gateway.logLevel, parts.queue ? 'platform' : 'worker');
  if (parts.worker && !config.gateway.redisUrl) {
    logger.warn(
      'REDIS_URL is not set: this worker will not hear cancellations made through other processes',
    );
  }
  const events = createEventBus(config.gateway.redisUrl, logger, config.durability.eventBufferSize);
  const platform = await startPlatform(config, events, logger, parts, config.gateway.host).catch(
    (err: unknown) => {
      logger.fatal(err instanceof Error ? err.message : String(err));
      process.exit(1);
    },
  );
  logger.info(
    {
      queue: platform.queueUrl,
      storage: platform.storageUrl,
      executor: platform.executorUrl,
      executor_id: platform.executorId,
      events: events.kind,
      job_queue: config.jobQueue.enabled,
    },
    `${what} started`,
  );
  onShutdown(() => platform.close().then(() => events.close()));
}
