import { createHash } from 'node:crypto';
import type { QueueBackend } from './evaluation.js';

export interface TrafficSplitOptions {
  /** CELERY_ENABLED: whether the job queue takes any share at all. */
  enabled: boolean;
  /** CELERY_PERCENTAGE: the share (0.0–1.0) of submissions for the job queue. */
  percentage: number;
  random?: () => number;
}

/**
 * The key's place in [0, 1): the first 32 bits of its SHA-256, the same in every process and
 * across restarts. (FNV-1a was tried: sequential ids like client-1…client-9999 landed 26% below a
 * 30% share.)
 */
export function stickyPoint(key: string): number {
  return createHash('sha256').update(key).digest().readUInt32BE(0) / 0x1_0000_0000;
}

/**
 * Chooses the backend of one submission: the job queue ("bull", the brief's Celery) for a share
 * `percentage` when enabled, the legacy queue otherwise. Random per submission, or the same for
 * every submission carrying the same sticky key.
 */
export class TrafficSplit {
  private readonly random: () => number;
  constructor(private readonly opts: TrafficSplitOptions) {
    this.random = opts.random ?? Math.random;
  }

  get enabled(): boolean {
    return this.opts.enabled;
  }

  get percentage(): number {
    return this.opts.percentage;
  }

  choose(stickyKey?: string): QueueBackend {
    if (!this.opts.enabled) return 'legacy';
    const point = stickyKey === undefined ? this.random() : stickyPoint(stickyKey);
    return point < this.opts.percentage ? 'bull' : 'legacy';
  }

  /** Backends to try, chosen first: the other one takes over when the first refuses. */
  order(stickyKey?: string): QueueBackend[] {
    if (!this.opts.enabled) return ['legacy'];
    return this.choose(stickyKey) === 'bull' ? ['bull', 'legacy'] : ['legacy', 'bull'];
  }
}
