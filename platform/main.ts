/**
 * `npm run platform`: the reference queue, storage and executor services on their ports
 * (8081, 8082, 8083 unless PLATFORM_*_PORT say otherwise) with a worker, for a gateway started
 * with QUEUE_SERVICE_URL and STORAGE_SERVICE_URL pointing here.
 */
import { createLogger } from '../lib/logger.js';
import { createInProcessEventBus, createRedisEventBus } from '../clients/event-bus.js';
import { configOrExit, onShutdown } from '../server/boot.js';
import { startPlatform } from './embedded.js';

const config = configOrExit({
  ...process.env,
  QUEUE_SERVICE_URL: undefined,
  STORAGE_SERVICE_URL: undefined,
});
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
onShutdown(() => platform.close().then(() => events.close()));
