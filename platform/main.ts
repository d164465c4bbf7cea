/**
 * `npm run platform`: the reference queue, storage and executor services on their ports
 * (8081, 8082, 8083 unless PLATFORM_*_PORT say otherwise) with a worker, for a gateway started
 * with QUEUE_SERVICE_URL and STORAGE_SERVICE_URL pointing here.
 */
import { servePlatform } from './serve.js';

await servePlatform(
  { ...process.env, QUEUE_SERVICE_URL: undefined, STORAGE_SERVICE_URL: undefined },
  { queue: true, storage: true, worker: true },
  'reference platform',
);
