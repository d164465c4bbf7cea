/**
 * `npm run worker`: one more worker for a running platform. It takes evaluations from the job
 * queue (Redis, when CELERY_ENABLED) and the legacy queue service, runs them on its own local
 * executor (served on PLATFORM_EXECUTOR_PORT as executor EXECUTOR_ID, so the gateway can kill
 * what it runs) and records them in the storage service.
 */
import { createLogger } from '../lib/logger.js';
import { createInProcessEventBus, createRedisEventBus } from '../clients/event-bus.js';
import { configOrExit, onShutdown } from '../server/boot.js';
import { startPlatform } from './embedded.js';

const config = configOrExit(process.env, (c) =>
  c.embedded
    ? 'a worker needs QUEUE_SERVICE_URL and STORAGE_SERVICE_URL of a running platform'
    : undefined,
);
const logger = createLogger(config.logLevel);
if (!config.redisUrl)
  logger.warn(
    'REDIS_URL is not set: this worker will not hear cancellations made through the gateway',
  );
const events = config.redisUrl
  ? createRedisEventBus(config.redisUrl, logger)
  : createInProcessEventBus();
const platform = await startPlatform(
  config,
  events,
  logger,
  { queue: false, storage: false, worker: true },
  config.host,
);
logger.info(
  {
    executor_id: platform.executorId,
    executor: platform.executorUrl,
    queue: platform.queueUrl,
    storage: platform.storageUrl,
    job_queue: config.celeryEnabled,
  },
  'worker started',
);
onShutdown(() => platform.close().then(() => events.close()));
