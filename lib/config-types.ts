/** The configuration's shape, in sections; lib/config-schema.ts is its JSON Schema. */

export interface ExecutorTarget {
  id: string;
  url: string;
}

export interface Config {
  gateway: {
    port: number;
    host: string;
    /** No QUEUE_SERVICE_URL and STORAGE_SERVICE_URL: start the reference platform in-process. */
    embedded: boolean;
    queueServiceUrl: string;
    storageServiceUrl: string;
    redisUrl?: string;
    databaseUrl?: string;
    /** PostgreSQL schema of the gateway's own tables. */
    databaseSchema: string;
    internalApiKey: string;
    /** True when INTERNAL_API_KEY was not set and the development default is in use. */
    internalApiKeyIsDefault: boolean;
    idempotencyTtlHours: number;
    logLevel: string;
    enableCaching: boolean;
    /** Executors named in EXECUTOR_URLS, by id. */
    executors: readonly ExecutorTarget[];
    /** How an executor id becomes a URL when EXECUTOR_URLS does not name it. */
    executorUrlTemplate: string;
    allowedLanguages: readonly string[];
    /** When non-empty, every /api/* request needs one of these in X-API-Key. */
    apiKeys: readonly string[];
    adminApiKey?: string;
    corsOrigins: readonly string[];
    rateLimitPerMinute: number;
    /** When set, `/metrics` needs `Authorization: Bearer <it>`. */
    metricsToken?: string;
    /** Per-request metrics and `/metrics` (off: 404). */
    metricsEnabled: boolean;
    /** W3C trace context: accepted or made per request, passed downstream, in jobs and events. */
    tracing: boolean;
    /** The share (0–1) of access-log lines kept; server errors are always logged. */
    accessLogSample: number;
    /** JWT bearer tokens: verified against a JWKS URL or a public key (PEM). */
    jwtJwksUrl?: string;
    jwtPublicKey?: string;
    jwtIssuer?: string;
    jwtAudience?: string;
    jwtClockSkewS: number;
    /** The claim naming the owner, and the claim with the scopes (space-separated or a list). */
    jwtOwnerClaim: string;
    jwtScopesClaim: string;
    /** Failed credentials a minute per client address before it gets 429. */
    authFailuresPerMinute: number;
    /** Redis key prefix of the shared limits. */
    rateLimitPrefix: string;
    /** Proxies (addresses or CIDRs) whose X-Forwarded-For names the client. */
    trustProxy: readonly string[];
    /** Request header whose value pins a client to one backend; unset: random per request. */
    stickyHeader?: string;
    downstreamTimeoutMs: number;
    downstreamRetries: number;
    /** On SIGTERM: how long in-flight requests may take before what is left is cut. */
    shutdownTimeoutMs: number;
    /** A client must send the whole request head within this (node's `headersTimeout`). */
    headersTimeoutMs: number;
    /** ...and the whole request, body included, within this (node's `requestTimeout`). */
    requestTimeoutMs: number;
  };
  /**
   * The job queue (Bull on Redis), which plays the part the brief gives Celery; the environment
   * keeps the brief's CELERY_* names (and BULL_* aliases).
   */
  jobQueue: {
    enabled: boolean;
    redisUrl?: string;
    /** Share (0–1) of submissions the traffic split sends to the job queue. */
    share: number;
    /** Bull queue name and Redis key prefix. */
    name: string;
    prefix: string;
    /** Attempts a job gets (a worker that dies mid-job counts as one) and the first retry delay. */
    attempts: number;
    backoffMs: number;
    /** Finished jobs kept in Redis (the results live in storage). */
    keepCompleted: number;
    keepFailed: number;
  };
  /** What each evaluation may use: memory, captured output, and the sandbox's other limits. */
  limits: {
    memoryMb: number;
    outputBytes: number;
    maxProcesses: number;
    fileSizeMb: number;
    diskMb: number;
    openFiles: number;
  };
  /** The reference services: loopback ports (0: any free one), storage schema, legacy queue. */
  platform: {
    queuePort: number;
    storagePort: number;
    executorPort: number;
    schema: string;
    /** The legacy queue hands a taken task out again this long after its timeout. */
    leaseGraceMs: number;
    /** After this many lapsed leases a task is given up. */
    queueMaxAttempts: number;
  };
  worker: {
    /** Id under which a worker's executor records the evaluations it runs. */
    executorId: string;
    /** Evaluations one worker runs at once, per queue backend. */
    concurrency: number;
    /** How often an idle worker asks the legacy queue for work. */
    pollMs: number;
    /** A worker holds each Bull job's lock this long (renewed while it runs). */
    lockMs: number;
    /** `auto`: bubblewrap when it works here; `bwrap`: demand it; `none`: plain processes. */
    sandbox: 'auto' | 'bwrap' | 'none';
  };
  ws: {
    heartbeatMs: number;
    maxSubscriptions: number;
    maxMessageBytes: number;
    maxBufferedBytes: number;
  };
  health: { intervalMs: number; graceMs: number; graceIntervalMs: number };
  /** Circuit breakers, one per downstream service: when one opens and how long it stays open. */
  circuit: {
    /** Share (0–1) of failed calls in the window that opens it; 0 turns breakers off. */
    failureRatio: number;
    windowMs: number;
    minimumRps: number;
    openMs: number;
  };
  /** Queue depths for metrics are sampled this often. */
  metricsSampleMs: number;
  webhooks: {
    /** The master secret owners' `whsec_` secrets derive from (default: from INTERNAL_API_KEY). */
    secret: string;
    /** Whether callbacks may reach loopback, private and link-local addresses. */
    allowPrivate: boolean;
    maxAttempts: number;
    /** The first retry's delay; it doubles each time, with jitter. */
    retryMs: number;
    timeoutMs: number;
  };
  /** What keeps an accepted evaluation from being lost: the reconciler and the event buffer. */
  durability: {
    /** An accepted evaluation showing no progress this long is looked at. */
    reconcileGraceMs: number;
    reconcileIntervalMs: number;
    /** Records looked at per pass. */
    reconcileBatch: number;
    /** Re-queues without progress before an evaluation is marked failed. */
    reconcileMaxRequeues: number;
    /** Lifecycle events held while Redis refuses them. */
    eventBufferSize: number;
  };
}
