import type { Logger } from '../lib/logger.js';
import type { DeliveryQueue } from '../core/ports/webhooks.js';

/** Attempts on timers in this process (no Redis): lost when it stops. */
export function createMemoryDeliveryQueue(logger: Logger): DeliveryQueue {
  const timers = new Set<NodeJS.Timeout>();
  let runner: ((key: string, attempt: number) => Promise<number | undefined>) | undefined;
  const later = (key: string, attempt: number, ms: number): void => {
    const t = setTimeout(() => {
      timers.delete(t);
      void runner?.(key, attempt).then(
        (retryInMs) => retryInMs !== undefined && later(key, attempt + 1, retryInMs),
        (err: unknown) => logger.warn({ err, webhook: key }, 'webhook attempt failed to run'),
      );
    }, ms);
    timers.add(t);
  };
  const started = new Set<string>();
  return {
    start(key) {
      if (!started.has(key)) later(key, 1, 0);
      started.add(key);
      return Promise.resolve();
    },
    process(run) {
      runner = run;
    },
    close() {
      for (const t of timers) clearTimeout(t);
      return Promise.resolve();
    },
  };
}
