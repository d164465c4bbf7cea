import { isLoopbackHost } from '../lib/config.js';
import type { Config } from '../lib/config.js';
import type { Logger } from '../lib/logger.js';
import type { EventBus } from '../clients/event-bus.js';
import { createQueueService } from '../clients/queue-service.js';
import { createStorageService } from '../clients/storage-service.js';
import { LocalExecutor } from './local-executor.js';
import { startExecutorServer } from './executor-server.js';
import { TaskQueue, startQueueServer } from './queue-server.js';
import { Storage, startStorageServer } from './storage-server.js';
import { createMemoryData, createPostgresData } from './storage-data.js';
import type { StorageData } from './storage-data.js';
import { Worker } from './worker.js';

export interface Platform {
  queueUrl: string;
  storageUrl: string;
  executorUrl: string;
  executorId: string;
  storageKind: 'postgres' | 'memory';
  /** What an operator must know: no sandbox, say. */
  warnings: string[];
  close(): Promise<void>;
}

/** What to start: any of the three services, and a worker. */
export interface PlatformParts {
  queue: boolean;
  storage: boolean;
  worker: boolean;
}

const loopback = (port: number): string => `http://127.0.0.1:${port}`;

export async function storageData(config: Readonly<Config>): Promise<StorageData> {
  return config.gateway.databaseUrl
    ? createPostgresData(config.gateway.databaseUrl, config.platform.schema)
    : createMemoryData();
}

/**
 * The reference platform (spec/downstream/*.yaml) on loopback: a queue service, a storage
 * service (PostgreSQL when DATABASE_URL is set, else memory) following the lifecycle events, and
 * a worker whose local executor is served as an executor service. Each piece reaches the others
 * over HTTP, as separate services would.
 */
export async function startPlatform(
  config: Readonly<Config>,
  events: EventBus,
  logger: Logger,
  parts: PlatformParts = { queue: true, storage: true, worker: true },
  /** Where the services listen: loopback for the embedded platform. */
  bind = '127.0.0.1',
): Promise<Platform> {
  const closers: (() => Promise<void>)[] = [];
  const close = async (): Promise<void> => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  };
  try {
    const apiKey = config.gateway.internalApiKey;
    if (config.gateway.internalApiKeyIsDefault && !isLoopbackHost(bind))
      throw new Error(
        `refusing to serve the reference services on ${bind} with the development INTERNAL_API_KEY: set a key of your own`,
      );
    let queueUrl = config.gateway.queueServiceUrl;
    let storageUrl = config.gateway.storageServiceUrl;
    let storageKind: Platform['storageKind'] = 'memory';
    if (parts.queue) {
      const q = await startQueueServer({
        apiKey,
        logger,
        queue: new TaskQueue({
          leaseGraceMs: config.platform.leaseGraceMs,
          maxAttempts: config.platform.queueMaxAttempts,
          onGiveUp: ({ eval_id, attempts }) =>
            void events
              .publish('evaluation:failed', {
                eval_id,
                error: `No worker finished it in ${attempts} attempts; the queue gave up`,
                failed_at: 'attempts',
              })
              .catch((err: unknown) =>
                logger.warn({ err, eval_id }, 'could not announce a give-up'),
              ),
        }),
      });
      closers.push(() => q.close());
      queueUrl = loopback((await q.listen(config.platform.queuePort, bind)).port);
    }
    if (parts.storage) {
      const data = await storageData(config);
      storageKind = config.gateway.databaseUrl ? 'postgres' : 'memory';
      closers.push(() => data.close());
      const storage = new Storage(data);
      const unfollow = storage.follow(events, logger);
      closers.push(() => Promise.resolve(unfollow()));
      const s = await startStorageServer({ storage, apiKey, logger });
      closers.push(() => s.close());
      storageUrl = loopback((await s.listen(config.platform.storagePort, bind)).port);
    }
    const executor = new LocalExecutor(config.worker.executorId, config.worker.concurrency * 2, {
      sandbox: config.worker.sandbox,
      limits: config.limits,
    });
    const warnings: string[] = [];
    if (executor.sandbox.kind === 'none') {
      // Whoever reaches the gateway or these services could run code as this machine's user.
      if (!isLoopbackHost(config.gateway.host) || !isLoopbackHost(bind))
        throw new Error(
          `refusing to run submitted code without a sandbox on a non-loopback address (HOST=${config.gateway.host}): ${executor.sandbox.reason}`,
        );
      warnings.push(
        `Executor ${executor.id} runs submitted code WITHOUT A SANDBOX, as this machine's user (${executor.sandbox.reason}); it is served on loopback only.`,
      );
    }
    const { limits } = config;
    const ex = await startExecutorServer({
      executor,
      apiKey,
      logger,
      memoryMb: limits.memoryMb,
      outputBytes: limits.outputBytes,
    });
    closers.push(() => ex.close());
    closers.push(() => Promise.resolve(executor.killAll()));
    const executorPort = (await ex.listen(config.platform.executorPort, bind)).port;
    const http = {
      apiKey,
      timeoutMs: config.gateway.downstreamTimeoutMs,
      retries: config.gateway.downstreamRetries,
    };
    if (parts.worker) {
      const worker = new Worker({
        executor,
        queue: createQueueService({ ...http, baseUrl: queueUrl }),
        storage: createStorageService({ ...http, baseUrl: storageUrl }),
        events,
        jobQueue:
          config.jobQueue.enabled && config.jobQueue.redisUrl
            ? {
                redisUrl: config.jobQueue.redisUrl,
                name: config.jobQueue.name,
                prefix: config.jobQueue.prefix,
                lockMs: config.worker.lockMs,
              }
            : undefined,
        concurrency: config.worker.concurrency,
        pollMs: config.worker.pollMs,
        limits,
        logger,
      });
      await worker.start();
      closers.push(() => worker.stop());
    }
    for (const w of warnings) logger.warn(w);
    logger.info(
      {
        sandbox: executor.sandbox.kind,
        limits: executor.sandbox.kind === 'bwrap' ? executor.sandbox.cgroups : 'rlimits',
        languages: executor.languages,
      },
      `executor ${executor.id} ready`,
    );
    return {
      queueUrl,
      storageUrl,
      executorUrl: loopback(executorPort),
      executorId: executor.id,
      storageKind,
      warnings,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
