import type { operations } from '../generated/types/gateway.js';
import type { AnyReply, BodyOf, PathOf, QueryOf, ReplyOf } from '../lib/operation-types.js';
import type { Config } from '../lib/config.js';
import type { Logger } from '../lib/logger.js';
import type { GatewayStats } from '../lib/stats.js';
import type { SpecInfo } from '../lib/spec.js';
import type { EventBus } from '../core/ports/event-bus.js';
import type { Executors } from '../core/ports/executors.js';
import type { Ledger } from '../core/ports/ledger.js';
import type { HealthView } from '../core/ports/health.js';
import type { JobQueue } from '../core/ports/job-queue.js';
import type { QueueService } from '../core/ports/queue-service.js';
import type { StorageService } from '../core/ports/storage-service.js';
import type { ReconcilerFigures } from '../core/reconciler.js';
import type { Identity } from '../core/identity.js';
import type { ApiKeys } from '../core/api-keys.js';
import type { MetricsView } from '../core/ports/metrics.js';
import type { Submitter } from '../core/submitter.js';
import type { EndWaits } from '../core/end-waits.js';
import type { Webhooks } from '../core/webhooks.js';
import type { TrafficSplit } from '../core/traffic-split.js';
import type { TraceContext } from '../lib/trace.js';

export type OperationId = keyof operations;

/** What every handler may use; built once by the composition root (or by a test). */
export interface Deps {
  config: Readonly<Config>;
  queue: QueueService;
  storage: StorageService;
  executors: Executors;
  /** The job queue (Bull); absent when CELERY_ENABLED is false. */
  jobQueue: JobQueue | undefined;
  events: EventBus;
  ledger: Ledger;
  split: TrafficSplit;
  /** The submit path, built by the composition root. */
  submitter: Submitter;
  /** Webhooks: registered on submit, delivered when evaluations end. */
  webhooks: Webhooks;
  /** Requests waiting for evaluations to end (`Prefer: wait=N`). */
  waits: EndWaits;
  /** Managed API keys. */
  keys: ApiKeys;
  /** Prometheus metrics, for `/metrics`. */
  metrics: MetricsView;
  /** What the reconciler did (it runs on its own, started by the composition root). */
  reconciler: { readonly figures: ReconcilerFigures };
  health: HealthView;
  stats: GatewayStats;
  logger: Logger;
  spec: SpecInfo;
}

export type RequestBody<O extends OperationId> = BodyOf<operations[O]>;
export type PathParams<O extends OperationId> = PathOf<operations[O]>;
export type QueryParams<O extends OperationId> = QueryOf<operations[O]>;
/** One answer the spec allows for the operation: a status it lists and that status's body. */
export type Reply<O extends OperationId> = ReplyOf<operations[O]>;
export type { AnyReply };

/** The validated request as a handler sees it. */
export interface Request<O extends OperationId> {
  body: RequestBody<O>;
  params: PathParams<O>;
  query: QueryParams<O>;
  headers: Record<string, string | string[] | undefined>;
  requestId: string;
  /** Who is calling: `key:<fingerprint>` of its API key, else `ip:<address>`. */
  client: string;
  /** The value of TRAFFIC_SPLIT_STICKY_HEADER, when configured and sent. */
  stickyKey: string | undefined;
  /** Whose request it is and what it may do. */
  identity: Identity;
  /** The request's W3C trace context (absent with TRACING=false): pass it to every call made. */
  trace: TraceContext | undefined;
}

export type Handler<O extends OperationId> = (req: Request<O>) => Promise<Reply<O>> | Reply<O>;

export type Handlers = { [O in OperationId]: Handler<O> };
