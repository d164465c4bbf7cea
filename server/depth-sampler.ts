import type { Logger } from '../lib/logger.js';
import type { JobQueue } from '../core/ports/job-queue.js';
import type { QueueService } from '../core/ports/queue-service.js';

/** Evaluations in each backend, by state: `{ legacy: { waiting: 3, … }, bull: { … } }`. */
export type QueueDepths = Record<string, Record<string, number>>;

/**
 * Samples the queue depths of the legacy queue and Bull every `intervalMs`, in the background,
 * for metrics: a scrape reads the last sample and never waits for a service. A backend that
 * does not answer keeps no figures (they would be stale), and is sampled again next round.
 */
export class DepthSampler {
  private last: QueueDepths = {};
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly queue: QueueService,
    private readonly jobQueue: JobQueue | undefined,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  get depths(): QueueDepths {
    return this.last;
  }

  async sample(): Promise<void> {
    const [legacy, bull] = await Promise.allSettled([
      this.queue.sampleDepth(),
      this.jobQueue ? this.jobQueue.counts() : Promise.resolve(undefined),
    ]);
    const next: QueueDepths = {};
    if (legacy.status === 'fulfilled') {
      const { queued, processing } = legacy.value;
      next.legacy = { waiting: queued, active: processing };
    } else this.logger.debug({ err: String(legacy.reason) }, 'queue depth not sampled');
    if (bull.status === 'fulfilled' && bull.value) {
      const { waiting, active, delayed, failed } = bull.value;
      next.bull = { waiting, active, delayed, failed };
    }
    this.last = next;
  }

  start(): void {
    if (this.timer) return;
    const loop = (): void => {
      void this.sample().finally(() => {
        if (this.timer) this.timer = setTimeout(loop, this.intervalMs).unref();
      });
    };
    this.timer = setTimeout(loop, 0).unref();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
