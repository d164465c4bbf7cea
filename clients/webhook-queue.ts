import Bull from 'bull';
import type { Logger } from '../lib/logger.js';
import type { DeliveryQueue } from '../core/ports/webhooks.js';

/** Attempts made at once per gateway. */
const CONCURRENCY = 16;
/** Bull's own bound; the webhook's settings stop it sooner. */
const MAX_JOB_ATTEMPTS = 1000;

type Retry = Error & { retryInMs: number };

/**
 * One Bull job per webhook (`{name}-webhooks`, its id the webhook's key): kept in Redis, taken by
 * any gateway. A failed attempt fails the job with the delay the webhook chose, and Bull moves it
 * to the delayed set in the same step; a gateway that dies mid-attempt leaves a stalled job,
 * which Bull hands out again.
 */
export function createBullDeliveryQueue(
  redisUrl: string,
  name: string,
  prefix: string,
  logger: Logger,
): DeliveryQueue {
  const queue = new Bull(`${name}-webhooks`, redisUrl, {
    prefix,
    settings: {
      backoffStrategies: { webhook: (_made: number, err: Error) => (err as Retry).retryInMs },
    },
  });
  queue.on('error', (err: Error) => logger.debug({ err: err.message }, 'webhook queue error'));
  return {
    async start(key) {
      await queue.add(
        { key },
        {
          jobId: key,
          attempts: MAX_JOB_ATTEMPTS,
          backoff: { type: 'webhook' },
          removeOnComplete: 1000,
          removeOnFail: 1000,
        },
      );
    },
    process(run) {
      void queue.process(CONCURRENCY, async (job: Bull.Job<{ key: string }>) => {
        const retryInMs = await run(job.data.key, job.attemptsMade + 1);
        if (retryInMs !== undefined)
          throw Object.assign(new Error('webhook attempt failed'), { retryInMs });
      });
    },
    async close() {
      await queue.close();
    },
  };
}
