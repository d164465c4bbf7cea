import { expect } from 'chai';
import nock from 'nock';
import { createInProcessEventBus } from '../../clients/event-bus.js';
import { createJobQueue } from '../../clients/job-queue.js';
import { createQueueService } from '../../clients/queue-service.js';
import { createStorageService } from '../../clients/storage-service.js';
import { newEvalId } from '../../core/ids.js';
import { silentLogger } from '../../lib/logger.js';
import type { ContractServer } from '../../platform/contract-server.js';
import { LocalExecutor } from '../../platform/local-executor.js';
import { createMemoryData } from '../../platform/storage-data.js';
import { Storage, startStorageServer } from '../../platform/storage-server.js';
import { Worker } from '../../platform/worker.js';
import { REDIS_URL, dropRedisPrefix, uniqueName, until } from '../helpers/services.js';

const KEY = 'give-up-test-key';

/**
 * A job that no attempt can finish (storage refuses to record it running) must end `failed`
 * with a reason once its attempts are spent, never stay `queued`.
 */
describe('a job out of attempts ends failed (real Redis, Bull, reference storage)', function () {
  this.timeout(30_000);
  const prefix = uniqueName('bull');
  const logger = silentLogger();
  let server: ContractServer;
  let storageUrl: string;
  let worker: Worker;

  before(async () => {
    nock.enableNetConnect();
    server = await startStorageServer({
      storage: new Storage(createMemoryData()),
      apiKey: KEY,
      logger,
    });
    storageUrl = `http://127.0.0.1:${(await server.listen(0, '127.0.0.1')).port}`;
    const http = { apiKey: KEY, timeoutMs: 2000, retries: 0 };
    worker = new Worker({
      executor: new LocalExecutor('give-up-1', 2),
      // No legacy queue here: its polls fail and back off.
      queue: createQueueService({ ...http, baseUrl: 'http://127.0.0.1:1' }),
      storage: createStorageService({ ...http, baseUrl: storageUrl }),
      events: createInProcessEventBus(),
      jobQueue: { redisUrl: REDIS_URL, name: 'evaluations', prefix, lockMs: 5000 },
      concurrency: 1,
      pollMs: 1000,
      limits: { memoryMb: 128, outputBytes: 10_000 },
      logger,
    });
    await worker.start();
  });
  after(async () => {
    nock.cleanAll();
    await worker.stop();
    await server.close();
    await dropRedisPrefix(prefix);
  });

  it('records the evaluation failed, saying it gave up after 2 attempts', async () => {
    const jq = createJobQueue(
      {
        redisUrl: REDIS_URL,
        name: 'evaluations',
        prefix,
        attempts: 2,
        backoffMs: 0,
        keepCompleted: 10,
        keepFailed: 10,
        timeoutMs: 2000,
      },
      logger,
    );
    const id = newEvalId();
    // Every attempt to record it provisioning fails, as a storage outage would make it.
    const refusals = nock(storageUrl, { allowUnmocked: true })
      .put(`/evaluations/${id}`, (b: { status?: string }) => b.status === 'provisioning')
      .times(2)
      .reply(500, { detail: 'disk full' });
    try {
      await jq.add({
        eval_id: id,
        code: 'print(1)',
        language: 'python',
        timeout: 5,
        priority: false,
        limits: { memory_mb: 128, output_bytes: 10_000 },
        submitted_at: new Date().toISOString(),
      });
      const storage = createStorageService({
        apiKey: KEY,
        timeoutMs: 2000,
        retries: 0,
        baseUrl: storageUrl,
      });
      let last: Awaited<ReturnType<typeof storage.find>>;
      await until(async () => (last = await storage.find(id))?.status === 'failed', 20_000);
      expect(refusals.isDone()).to.equal(true);
      expect(last!.error).to.match(/^Gave up after 2 attempts: /);
    } finally {
      await jq.close();
    }
  });
});
