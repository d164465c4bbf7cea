import type { components } from '../generated/types/gateway.js';
import type { Logger } from '../lib/logger.js';
import type { HealthView } from '../core/ports/health.js';

type ServiceHealth = components['schemas']['ServiceHealth'];
type PlatformStatus = components['schemas']['PlatformStatus'];

/** One thing the monitor checks: resolves when healthy, rejects with the reason otherwise. */
export interface HealthProbe {
  url?: string;
  /** A disabled probe is reported as `disabled` and never run (e.g. Redis when not configured). */
  disabled?: boolean;
  check(timeoutMs: number): Promise<void>;
  /** The gateway's circuit breaker for the service, when it has one. */
  circuit?: () => ServiceHealth['circuit'];
}

export interface HealthMonitorOptions {
  queue: HealthProbe;
  storage: HealthProbe;
  redis: HealthProbe;
  /** The job queue's Redis (Bull); disabled when CELERY_ENABLED is false. */
  jobQueue?: HealthProbe;
  /** The gateway's own record (PostgreSQL or memory). */
  gatewayStore?: HealthProbe;
  executors: Record<string, HealthProbe>;
  /** Said in every status: what an operator must know about how the platform runs. */
  warnings?: readonly string[];
  intervalMs: number;
  /** During this long after start, checks run every `graceIntervalMs` (services start in any order). */
  graceMs: number;
  graceIntervalMs: number;
  /** A service a real call found unreachable is probed this often until it answers. */
  recoveryMs?: number;
  logger: Logger;
  now?: () => number;
}

interface Entry {
  probe: HealthProbe;
  state: ServiceHealth;
}

const CHECK_TIMEOUT_MS = 1000;
const RECOVERY_MS = 1000;

/**
 * Checks every downstream service in the background and keeps what it measured. Nothing on a
 * request path waits for a check; /api/status and /readyz read the last results. Real calls
 * count too (passive checks): one that cannot reach a service marks it unhealthy at once, and the
 * service is then probed every `recoveryMs` until it answers; one that reaches it marks it healthy.
 */
export class HealthMonitor implements HealthView {
  private readonly entries = new Map<string, Entry>();
  private readonly startedAt: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private checkedOnce = false;
  private readonly recovering = new Map<string, NodeJS.Timeout>();

  constructor(private readonly opts: HealthMonitorOptions) {
    this.now = opts.now ?? Date.now;
    this.startedAt = this.now();
    const add = (key: string, probe: HealthProbe): void => {
      const state: ServiceHealth = {
        status: probe.disabled ? 'disabled' : 'unknown',
        latency_ms: null,
        last_checked: null,
        last_error: null,
        consecutive_failures: 0,
      };
      if (probe.url) state.url = probe.url;
      this.entries.set(key, { probe, state });
    };
    add('queue', opts.queue);
    add('storage', opts.storage);
    add('redis', opts.redis);
    add('job_queue', opts.jobQueue ?? { disabled: true, check: () => Promise.resolve() });
    add('gateway_store', opts.gatewayStore ?? { disabled: true, check: () => Promise.resolve() });
    for (const [id, probe] of Object.entries(opts.executors)) add(`executor:${id}`, probe);
  }

  inGracePeriod(): boolean {
    return this.now() - this.startedAt < this.opts.graceMs;
  }

  /** How long until the next round: short while services may still be starting, then normal. */
  nextDelay(): number {
    return this.inGracePeriod() ? this.opts.graceIntervalMs : this.opts.intervalMs;
  }

  /** Starts the background checks; the first runs at once. */
  start(): void {
    if (this.timer) return;
    const loop = (): void => {
      void this.checkNow().finally(() => {
        if (!this.timer) return;
        this.timer = setTimeout(loop, this.nextDelay());
        this.timer.unref();
      });
    };
    this.timer = setTimeout(loop, 0);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const t of this.recovering.values()) clearTimeout(t);
    this.recovering.clear();
  }

  /**
   * What a real call to a service showed (`key` as in /api/status: `queue`, `storage`,
   * `executor:<id>`). Cheap when nothing changes: it runs on every downstream call.
   */
  observe(key: string, reachable: boolean, err?: Error): void {
    const entry = this.entries.get(key);
    if (!entry || entry.probe.disabled) return;
    const s = entry.state;
    if (reachable) {
      if (s.status !== 'healthy') {
        if (s.status === 'unhealthy') this.opts.logger.info({ url: s.url }, `${key} answers again`);
        this.mark(entry, null);
      }
      return;
    }
    this.mark(entry, err ?? new Error('unreachable'));
    this.recover(key, entry);
  }

  private recover(key: string, entry: Entry): void {
    if (this.recovering.has(key)) return;
    const t = setTimeout(() => {
      void this.run(entry).finally(() => {
        this.recovering.delete(key);
        if (entry.state.status === 'unhealthy') this.recover(key, entry);
      });
    }, this.opts.recoveryMs ?? RECOVERY_MS);
    t.unref();
    this.recovering.set(key, t);
  }

  /** Records one outcome: healthy when `err` is null, else unhealthy (logged when it changes). */
  private mark(entry: Entry, err: Error | null): void {
    const s = entry.state;
    if (err === null) {
      s.status = 'healthy';
      s.last_error = null;
      s.consecutive_failures = 0;
    } else {
      if (s.status !== 'unhealthy') {
        const cause = err.cause instanceof Error ? err.cause.message : undefined;
        this.opts.logger.warn({ url: s.url, cause }, `downstream check failed: ${String(err)}`);
      }
      s.status = 'unhealthy';
      s.last_error = err.message;
      s.consecutive_failures++;
    }
    s.last_checked = new Date(this.now()).toISOString();
  }

  /** Runs every probe once, concurrently; concurrent callers share the same round. */
  checkNow(): Promise<void> {
    this.running ??= Promise.all([...this.entries.values()].map((e) => this.run(e)))
      .then(() => {
        this.checkedOnce = true;
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  private async run(entry: Entry): Promise<void> {
    if (entry.probe.disabled) return;
    const started = performance.now();
    const s = entry.state;
    let failure: Error | null = null;
    try {
      await entry.probe.check(Math.min(CHECK_TIMEOUT_MS, this.opts.intervalMs));
    } catch (err) {
      failure = err instanceof Error ? err : new Error(`check failed: ${JSON.stringify(err)}`);
    }
    this.mark(entry, failure);
    s.latency_ms = Math.round((performance.now() - started) * 100) / 100;
  }

  private state(key: string): ServiceHealth {
    const e = this.entries.get(key);
    if (!e) throw new Error(`no probe ${key}`);
    return e.probe.circuit ? { ...e.state, circuit: e.probe.circuit() } : { ...e.state };
  }

  /** Ready when the last checks of the queue and storage services passed. */
  readiness(): { ready: boolean; checks: Record<string, ServiceHealth['status']> } {
    const checks: Record<string, ServiceHealth['status']> = {};
    for (const [key, e] of this.entries) checks[key] = e.state.status;
    return { ready: checks.queue === 'healthy' && checks.storage === 'healthy', checks };
  }

  snapshot(): PlatformStatus {
    const queue = this.state('queue');
    const storage = this.state('storage');
    const redis = this.state('redis');
    const jobQueue = this.state('job_queue');
    const gatewayStore = this.state('gateway_store');
    const executors: Record<string, ServiceHealth> = {};
    for (const key of this.entries.keys()) {
      if (key.startsWith('executor:')) executors[key.slice('executor:'.length)] = this.state(key);
    }
    const optional = [redis, jobQueue, gatewayStore, ...Object.values(executors)];
    let status: PlatformStatus['status'];
    if (!this.checkedOnce) status = 'starting';
    else if (queue.status !== 'healthy' || storage.status !== 'healthy') status = 'unhealthy';
    else if (optional.some((s) => s.status === 'unhealthy')) status = 'degraded';
    else status = 'healthy';
    const now = this.now();
    return {
      status,
      timestamp: new Date(now).toISOString(),
      uptime_seconds: Math.round((now - this.startedAt) / 10) / 100,
      in_grace_period: this.inGracePeriod(),
      services: { queue, storage, redis, job_queue: jobQueue, gateway_store: gatewayStore },
      executors,
      warnings: [...(this.opts.warnings ?? [])],
    };
  }
}
