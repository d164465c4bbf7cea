/**
 * `npm run platform`: the reference queue, storage and executor services on their ports
 * (8081, 8082, 8083 unless PLATFORM_*_PORT say otherwise) with a worker, for a gateway started
 * with QUEUE_SERVICE_URL and STORAGE_SERVICE_URL pointing here.
 */
import { ConfigError, loadConfig } from '../lib/config.js';
import { createLogger } from '../lib/logger.js';
import { createInProcessEventBus, createRedisEventBus } from '../clients/event-bus.js';
import { startPlatform } from './embedded.js';

let config;
try {
  config = loadConfig({
    ...process.env,
    QUEUE_SERVICE_URL: undefined,
    STORAGE_SERVICE_URL: undefined,
  });
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(2);
}
const logger = createLogger(config.logLevel);
const events = config.redisUrl
  ? createRedisEventBus(config.redisUrl, logger)
  : createInProcessEventBus();
const platform = await startPlatform(
  config,
  events,
  logger,
  { queue: true, storage: true, worker: true },
  config.host,
);
logger.info(
  {
    queue: platform.queueUrl,
    storage: platform.storageUrl,
    executor: platform.executorUrl,
    events: events.kind,
  },
  'reference platform started',
);
const stop = (): void => {
  void platform
    .close()
    .then(() => events.close())
    .then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
