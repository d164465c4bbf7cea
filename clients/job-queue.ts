import Bull from 'bull';
import { Redis } from 'ioredis';
import { GatewayError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { describeErrors, schemaValidator } from '../lib/validators.js';
import { FIRST_CONNECT_WAIT_MS, firstConnect } from '../lib/redis.js';
import type { JobCancelOutcome, JobQueue } from '../core/ports/job-queue.js';
export type { JobCancelOutcome, JobCounts, JobPayload, JobQueue } from '../core/ports/job-queue.js';

export interface JobQueueOptions {
  redisUrl: string;
  name: string;
  prefix: string;
  attempts: number;
  backoffMs: number;
  keepCompleted: number;
  keepFailed: number;
  /** How long one Redis round may take before the call is answered 504. */
  timeoutMs: number;
}

const HIGH_PRIORITY = 1;
const NORMAL_PRIORITY = 5;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new GatewayError(
            'GW_ERR_DOWNSTREAM_TIMEOUT',
            `Job queue did not answer in time (${what})`,
          ),
        ),
      ms,
    );
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export function createJobQueue(opts: JobQueueOptions, logger: Logger): JobQueue {
  // The command connection fails a command after one reconnect attempt instead of holding it.
  const client = new Redis(opts.redisUrl, { maxRetriesPerRequest: 1 });
  const extra: Redis[] = [];
  client.on('error', (err: Error) => logger.debug({ err }, 'job queue redis error'));
  const queue = new Bull(opts.name, {
    prefix: opts.prefix,
    createClient: (type) => {
      if (type === 'client') return client;
      // Bull asks for these only for events and processing; it requires these options on them.
      const c = new Redis(opts.redisUrl, { maxRetriesPerRequest: null, enableReadyCheck: false });
      c.on('error', (err: Error) => logger.debug({ err }, `job queue ${type} error`));
      extra.push(c);
      return c;
    },
  });
  queue.on('error', (err: Error) => logger.debug({ err }, 'job queue error'));
  const validate = schemaValidator('events_JobPayload');
  const unavailable = (): GatewayError =>
    new GatewayError(
      'GW_ERR_DOWNSTREAM_UNAVAILABLE',
      'Job queue unavailable (Redis is not connected)',
    );
  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    await firstConnect(client, FIRST_CONNECT_WAIT_MS);
    if (client.status !== 'ready') throw unavailable();
    try {
      return await withTimeout(fn(), opts.timeoutMs, what);
    } catch (err) {
      if (err instanceof GatewayError) throw err;
      throw new GatewayError(
        'GW_ERR_DOWNSTREAM_UNAVAILABLE',
        `Job queue unavailable: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  };

  return {
    name: opts.name,
    get connected() {
      return client.status === 'ready';
    },
    async add(payload) {
      if (!validate(payload)) {
        throw new Error(`job payload breaks spec/events.yaml: ${describeErrors(validate.errors)}`);
      }
      await call('add', () =>
        queue.add(payload, {
          jobId: payload.eval_id,
          priority: payload.priority ? HIGH_PRIORITY : NORMAL_PRIORITY,
          attempts: opts.attempts,
          backoff: { type: 'exponential', delay: opts.backoffMs },
          removeOnComplete: opts.keepCompleted,
          removeOnFail: opts.keepFailed,
        }),
      );
    },
    holds(evalId) {
      return call('holds', async () => {
        const job = await queue.getJob(evalId);
        if (!job) return false;
        const state = await job.getState();
        return state !== 'completed' && state !== 'failed';
      });
    },
    cancel(evalId) {
      return call('cancel', async (): Promise<JobCancelOutcome> => {
        const job = await queue.getJob(evalId);
        if (!job) return 'unknown';
        const state = await job.getState();
        if (state === 'completed' || state === 'failed') return 'finished';
        if (state === 'active') return 'active';
        try {
          await job.remove();
          return 'removed';
        } catch {
          // A worker took it between the two calls: it holds the job's lock now.
          return 'active';
        }
      });
    },
    counts() {
      return call('counts', async () => {
        const [c, workers] = await Promise.all([queue.getJobCounts(), queue.getWorkers()]);
        return {
          workers: workers.length,
          waiting: c.waiting,
          active: c.active,
          delayed: c.delayed,
          failed: c.failed,
          completed: c.completed,
        };
      });
    },
    async ping() {
      await firstConnect(client, FIRST_CONNECT_WAIT_MS);
      if (client.status !== 'ready') throw unavailable();
      await withTimeout(client.ping(), opts.timeoutMs, 'ping');
    },
    async close() {
      // Disconnect first: Bull's close() waits for a ready connection, forever if Redis is down.
      client.disconnect();
      for (const c of extra) c.disconnect();
      await queue.close().catch(() => undefined);
    },
  };
}
