import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { GatewayStats } from '../lib/stats.js';
import type { EventBus } from '../core/ports/event-bus.js';
import type { ReconcilerFigures } from '../core/reconciler.js';
import type { TrafficSplit } from '../core/traffic-split.js';
import type { CallOutcome } from '../clients/http.js';
import type { QueueDepths } from './depth-sampler.js';

/** What the metrics read at scrape time; given once the gateway is built. */
export interface MetricsSources {
  stats: GatewayStats;
  events: EventBus;
  split: TrafficSplit;
  reconciler: { readonly figures: ReconcilerFigures };
  /** Webhook attempts, by how they ended. */
  webhooks: { readonly figures: Record<string, number> };
  /** Each downstream service's circuit state. */
  circuits: () => Record<string, string>;
  /** The last sampled queue depths. */
  depths: () => QueueDepths;
  /** WebSocket figures, once the listener exists. */
  ws?: { readonly clients: number; readonly sent: number; readonly received: number };
}

export interface Metrics {
  /** One answered request: its operation (or `unmatched`), its status, its duration. */
  observe(operation: string, status: number, seconds: number): void;
  /** One call to a service behind the gateway. */
  downstream(service: string, seconds: number, outcome: CallOutcome): void;
  /** Where the scrape-time figures come from (merged with what was given before). */
  watch(from: Partial<MetricsSources>): void;
  watchWebSockets(ws: NonNullable<MetricsSources['ws']>): void;
  render(): Promise<string>;
  readonly contentType: string;
}

const CIRCUIT_STATES = ['closed', 'open', 'half_open'] as const;

/**
 * Prometheus metrics with prom-client, named as Prometheus asks (`_total`, `_seconds`, no ids in
 * labels). Per request a counter and a histogram are touched, per downstream call another pair;
 * everything the gateway counts already (submissions, fallbacks, events, the reconciler, the
 * split, circuits, WebSockets, sampled queue depths) is read at scrape time.
 */
export function createMetrics(): Metrics {
  const registry = new Registry();
  const from: Partial<MetricsSources> = {};
  collectDefaultMetrics({ register: registry, prefix: 'crucible_' });
  const r = [registry];
  const requests = new Counter({
    name: 'crucible_http_requests_total',
    help: 'Requests answered, by operation and status class',
    labelNames: ['operation', 'status_class'],
    registers: r,
  });
  const durations = new Histogram({
    name: 'crucible_http_request_duration_seconds',
    help: 'Time from request to answer, by operation',
    labelNames: ['operation'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: r,
  });
  const calls = new Histogram({
    name: 'crucible_downstream_request_duration_seconds',
    help: 'Calls to the services behind the gateway, by service and outcome',
    labelNames: ['service', 'outcome'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: r,
  });
  const callErrors = new Counter({
    name: 'crucible_downstream_errors_total',
    help: 'Failed calls to the services behind the gateway, by service and kind',
    labelNames: ['service', 'kind'],
    registers: r,
  });
  const read = (name: string, help: string, get: (s: MetricsSources) => number): void => {
    new Counter({
      name,
      help,
      registers: r,
      collect() {
        this.reset();
        if (from.stats) this.inc(get(from as MetricsSources));
      },
    });
  };
  new Counter({
    name: 'crucible_submissions_total',
    help: 'Evaluations a backend took, by backend',
    labelNames: ['backend'],
    registers: r,
    collect() {
      this.reset();
      for (const [backend, n] of Object.entries(from.stats?.submissions ?? {}))
        this.inc({ backend }, n);
    },
  });
  new Counter({
    name: 'crucible_webhook_attempts_total',
    help: 'Webhook attempts made by this gateway, by outcome (delivered, retried, failed, disabled)',
    labelNames: ['outcome'],
    registers: r,
    collect() {
      this.reset();
      for (const [outcome, n] of Object.entries(from.webhooks?.figures ?? {}))
        this.inc({ outcome }, n);
    },
  });
  read('crucible_fallbacks_total', 'Submissions the other backend took', (s) => s.stats.fallbacks);
  read(
    'crucible_submit_failures_total',
    'Submissions no backend took',
    (s) => s.stats.submitFailures,
  );
  read('crucible_events_dropped_total', 'Lifecycle events given up', (s) => s.events.dropped);
  read(
    'crucible_reconciler_requeued_total',
    'Evaluations queued again by the reconciler',
    (s) => s.reconciler.figures.requeued,
  );
  read('crucible_ws_messages_sent_total', 'WebSocket messages sent', (s) => s.ws?.sent ?? 0);
  read(
    'crucible_ws_messages_received_total',
    'WebSocket messages received',
    (s) => s.ws?.received ?? 0,
  );
  const gauge = (
    name: string,
    help: string,
    labelNames: string[],
    fill: (g: Gauge, s: MetricsSources) => void,
  ): void => {
    new Gauge({
      name,
      help,
      labelNames,
      registers: r,
      collect() {
        this.reset();
        if (from.stats) fill(this, from as MetricsSources);
      },
    });
  };
  gauge('crucible_events_pending', 'Lifecycle events held for Redis', [], (g, s) =>
    g.set(s.events.pending),
  );
  gauge('crucible_ws_connections', 'WebSocket connections open', [], (g, s) =>
    g.set(s.ws?.clients ?? 0),
  );
  gauge(
    'crucible_traffic_split_ratio',
    'Share of submissions for the job queue: configured, and observed since start',
    ['kind'],
    (g, s) => {
      g.set({ kind: 'configured' }, s.split.enabled ? s.split.percentage : 0);
      const observed = s.stats.bullShare();
      if (observed !== null) g.set({ kind: 'observed' }, observed);
    },
  );
  gauge(
    'crucible_circuit_state',
    'Circuit breaker state per downstream service (1 for the state it is in)',
    ['service', 'state'],
    (g, s) => {
      for (const [service, state] of Object.entries(s.circuits()))
        for (const name of CIRCUIT_STATES) g.set({ service, state: name }, state === name ? 1 : 0);
    },
  );
  gauge(
    'crucible_queue_depth',
    'Evaluations in each backend by state, sampled in the background (METRICS_SAMPLE_MS)',
    ['backend', 'state'],
    (g, s) => {
      for (const [backend, states] of Object.entries(s.depths()))
        for (const [state, n] of Object.entries(states)) g.set({ backend, state }, n);
    },
  );
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
    downstream(service, seconds, outcome) {
      calls.labels(service, outcome).observe(seconds);
      if (outcome !== 'ok') callErrors.labels(service, outcome).inc();
    },
    watch(given) {
      Object.assign(from, given);
    },
    watchWebSockets(ws) {
      from.ws = ws;
    },
    render: () => registry.metrics(),
    contentType: registry.contentType,
  };
}
