/**
 * `npm run worker`: one more worker for a running platform. It takes evaluations from the job
 * queue (Redis, when CELERY_ENABLED) and the legacy queue service, runs them on its own local
 * executor (served on PLATFORM_EXECUTOR_PORT as executor EXECUTOR_ID, so the gateway can kill
 * what it runs) and records them in the storage service.
 */
import { servePlatform } from './serve.js';

await servePlatform(process.env, { queue: false, storage: false, worker: true }, 'worker', (c) =>
  c.gateway.embedded
    ? 'a worker needs QUEUE_SERVICE_URL and STORAGE_SERVICE_URL of a running platform'
    : undefined,
);
