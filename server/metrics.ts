import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { GatewayStats } from '../lib/stats.js';
import type { EventBus } from '../core/ports/event-bus.js';
import type { ReconcilerFigures } from '../core/reconciler.js';
import type { TrafficSplit } from '../core/traffic-split.js';

export interface MetricsSources {
  stats: GatewayStats;
  events: EventBus;
  split: TrafficSplit;
  reconciler: { readonly figures: ReconcilerFigures };
}

export interface Metrics {
  /** One answered request: its operation (or `unmatched`), its status, its duration. */
  observe(operation: string, status: number, seconds: number): void;
  render(): Promise<string>;
  readonly contentType: string;
}

/**
 * Prometheus metrics with prom-client, named as Prometheus asks (`_total`, `_seconds`, no ids in
 * labels). Per request only a counter and a histogram are touched; everything the gateway counts
 * already (submissions, fallbacks, events, the reconciler, the split) is read at scrape time.
 */
export function createMetrics(from: MetricsSources): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'crucible_' });
  const requests = new Counter({
    name: 'crucible_http_requests_total',
    help: 'Requests answered, by operation and status class',
    labelNames: ['operation', 'status_class'],
    registers: [registry],
  });
  const durations = new Histogram({
    name: 'crucible_http_request_duration_seconds',
    help: 'Time from request to answer, by operation',
    labelNames: ['operation'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const counted = (name: string, help: string, read: () => number): void => {
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  };
  new Counter({
    name: 'crucible_submissions_total',
    help: 'Evaluations a backend took, by backend',
    labelNames: ['backend'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [backend, n] of Object.entries(from.stats.submissions)) this.inc({ backend }, n);
    },
  });
  counted(
    'crucible_fallbacks_total',
    'Submissions the other backend took',
    () => from.stats.fallbacks,
  );
  counted(
    'crucible_submit_failures_total',
    'Submissions no backend took',
    () => from.stats.submitFailures,
  );
  counted('crucible_events_dropped_total', 'Lifecycle events given up', () => from.events.dropped);
  counted(
    'crucible_reconciler_requeued_total',
    'Evaluations queued again by the reconciler',
    () => from.reconciler.figures.requeued,
  );
  new Gauge({
    name: 'crucible_events_pending',
    help: 'Lifecycle events held for Redis',
    registers: [registry],
    collect() {
      this.set(from.events.pending);
    },
  });
  new Gauge({
    name: 'crucible_traffic_split_ratio',
    help: 'Share of submissions for the job queue: configured, and observed since start',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      this.set({ kind: 'configured' }, from.split.enabled ? from.split.percentage : 0);
      const observed = from.stats.bullShare();
      if (observed !== null) this.set({ kind: 'observed' }, observed);
    },
  });
  const children = new Map<
    string,
    { duration: ReturnType<typeof durations.labels>; byClass: ReturnType<typeof requests.labels>[] }
  >();
  return {
    observe(operation, status, seconds) {
      // Children looked up once per operation and class: label hashing on every request costs.
      let per = children.get(operation);
      if (!per)
        children.set(operation, (per = { duration: durations.labels(operation), byClass: [] }));
      const cls = Math.floor(status / 100);
      (per.byClass[cls] ??= requests.labels(operation, `${cls}xx`)).inc();
      per.duration.observe(seconds);
    },
    render: () => registry.metrics(),
    contentType: registry.contentType,
  };
}
