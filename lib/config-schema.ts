/**
 * The configuration as a JSON Schema, in sections. Each setting names the environment variable it
 * comes from (`x-env`, unchanged from the brief), its default and its limits; `npm run generate`
 * precompiles the schema, and a value outside it stops start-up with the variable named. Values
 * without `x-env` are derived in lib/config.ts.
 */

type Leaf = Record<string, unknown>;

const int = (env: string, fallback: number, minimum: number, maximum: number): Leaf => ({
  type: 'integer',
  'x-env': env,
  default: fallback,
  minimum,
  maximum,
});
const number = (env: string, fallback: number, minimum: number, maximum: number): Leaf => ({
  type: 'number',
  'x-env': env,
  default: fallback,
  minimum,
  maximum,
});
const bool = (env: string, fallback: boolean): Leaf => ({
  type: 'boolean',
  'x-env': env,
  default: fallback,
});
const text = (env: string, fallback?: string): Leaf => ({
  type: 'string',
  'x-env': env,
  ...(fallback === undefined ? {} : { default: fallback }),
});
const list = (env: string, fallback: string[], items: Leaf = { type: 'string' }): Leaf => ({
  type: 'array',
  'x-env': env,
  default: fallback,
  items,
});
/** A name used in Redis keys or SQL identifiers. */
const name = (env: string, fallback?: string): Leaf => ({
  ...text(env, fallback),
  pattern: '^[A-Za-z_][A-Za-z0-9_-]{0,62}$',
  'x-expect': 'letters, digits, _ or - (at most 63)',
});
const url = (env: string, protocols: string[], fallback?: string): Leaf => ({
  ...text(env, fallback),
  pattern: `^(${protocols.join('|')})://[^\\s/?#]+`,
  'x-url': true,
  'x-expect': `a ${protocols.map((p) => `${p}:`).join(' or ')} URL`,
});
const section = (properties: Record<string, Leaf>): Leaf => ({
  type: 'object',
  additionalProperties: false,
  required: Object.keys(properties).filter((k) => !properties[k]?.['x-optional']),
  properties,
});
/** A setting that may be left unset (absent from its section then). */
const optional = (leaf: Leaf): Leaf => ({ ...leaf, 'x-optional': true });
const derived = (type: string | string[]): Leaf => ({ type });

const HTTP = ['http', 'https'];
const REDIS = ['redis', 'rediss'];
const HOUR_MS = 3_600_000;

export const CONFIG_SCHEMA = section({
  gateway: section({
    port: int('PORT', 8080, 0, 65535),
    host: text('HOST'),
    embedded: derived('boolean'),
    queueServiceUrl: url('QUEUE_SERVICE_URL', HTTP, 'http://queue:8081'),
    storageServiceUrl: url('STORAGE_SERVICE_URL', HTTP, 'http://storage-service:8082'),
    redisUrl: optional(url('REDIS_URL', REDIS)),
    databaseUrl: optional(url('DATABASE_URL', ['postgres', 'postgresql'])),
    databaseSchema: name('DATABASE_SCHEMA', 'crucible_gateway'),
    internalApiKey: text('INTERNAL_API_KEY'),
    internalApiKeyIsDefault: derived('boolean'),
    idempotencyTtlHours: int('IDEMPOTENCY_TTL_HOURS', 24, 1, 24 * 365),
    logLevel: {
      ...text('LOG_LEVEL', 'info'),
      enum: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'],
    },
    enableCaching: bool('ENABLE_CACHING', false),
    executors: derived('array'),
    executorUrlTemplate: {
      ...text('EXECUTOR_URL_TEMPLATE', 'http://{executor_id}:8083'),
      pattern: '\\{executor_id\\}',
      'x-expect': 'must contain {executor_id}',
    },
    allowedLanguages: list('ALLOWED_LANGUAGES', ['python'], {
      type: 'string',
      pattern: '^[a-z][a-z0-9_+-]{0,31}$',
      'x-expect': 'not a language name',
    }),
    apiKeys: list('API_KEYS', []),
    adminApiKey: optional(text('ADMIN_API_KEY')),
    corsOrigins: list('CORS_ORIGINS', ['*']),
    rateLimitPerMinute: int('RATE_LIMIT_PER_MINUTE', 0, 0, 1_000_000),
    authFailuresPerMinute: int('AUTH_FAILURES_PER_MINUTE', 30, 0, 1_000_000),
    accessLogSample: number('ACCESS_LOG_SAMPLE', 1, 0, 1),
    metricsToken: optional(text('METRICS_TOKEN')),
    metricsEnabled: bool('METRICS_ENABLED', true),
    tracing: bool('TRACING', true),
    jwtJwksUrl: optional(url('JWT_JWKS_URL', HTTP)),
    jwtPublicKey: optional(text('JWT_PUBLIC_KEY')),
    jwtIssuer: optional(text('JWT_ISSUER')),
    jwtAudience: optional(text('JWT_AUDIENCE')),
    jwtClockSkewS: int('JWT_CLOCK_SKEW_S', 30, 0, 600),
    jwtOwnerClaim: text('JWT_OWNER_CLAIM', 'sub'),
    jwtScopesClaim: text('JWT_SCOPES_CLAIM', 'scope'),
    rateLimitPrefix: name('RATE_LIMIT_PREFIX', 'crucible-rl'),
    trustProxy: list('TRUST_PROXY', [], {
      type: 'string',
      pattern: '^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$',
    }),
    stickyHeader: optional({ ...text('TRAFFIC_SPLIT_STICKY_HEADER'), 'x-lowercase': true }),
    downstreamTimeoutMs: int('DOWNSTREAM_TIMEOUT_MS', 5000, 50, 300_000),
    downstreamRetries: int('DOWNSTREAM_RETRIES', 2, 0, 10),
    shutdownTimeoutMs: int('SHUTDOWN_TIMEOUT_MS', 10_000, 100, 600_000),
    headersTimeoutMs: int('HEADERS_TIMEOUT_MS', 10_000, 100, 600_000),
    requestTimeoutMs: int('REQUEST_TIMEOUT_MS', 30_000, 100, 3_600_000),
  }),
  jobQueue: section({
    enabled: bool('CELERY_ENABLED', false),
    redisUrl: optional(url('CELERY_BROKER_URL', REDIS)),
    share: number('CELERY_PERCENTAGE', 0.5, 0, 1),
    name: name('BULL_QUEUE', 'evaluations'),
    prefix: name('BULL_PREFIX', 'bull'),
    attempts: int('BULL_ATTEMPTS', 3, 1, 100),
    backoffMs: int('BULL_BACKOFF_MS', 1000, 0, HOUR_MS),
    keepCompleted: int('BULL_KEEP_COMPLETED', 1000, 0, 10_000_000),
    keepFailed: int('BULL_KEEP_FAILED', 5000, 0, 10_000_000),
  }),
  limits: section({
    memoryMb: int('EVAL_MEMORY_MB', 512, 16, 1_048_576),
    outputBytes: int('EVAL_OUTPUT_BYTES', 1024 * 1024, 1, 64 * 1024 * 1024),
    maxProcesses: int('EVAL_MAX_PROCESSES', 64, 1, 65_536),
    fileSizeMb: int('EVAL_FILE_SIZE_MB', 16, 1, 65_536),
    diskMb: int('EVAL_DISK_MB', 64, 1, 65_536),
    openFiles: int('EVAL_OPEN_FILES', 256, 16, 65_536),
  }),
  platform: section({
    queuePort: int('PLATFORM_QUEUE_PORT', 8081, 0, 65535),
    storagePort: int('PLATFORM_STORAGE_PORT', 8082, 0, 65535),
    executorPort: int('PLATFORM_EXECUTOR_PORT', 8083, 0, 65535),
    schema: name('PLATFORM_SCHEMA', 'crucible_platform'),
    leaseGraceMs: int('QUEUE_LEASE_GRACE_MS', 30_000, 0, HOUR_MS),
    queueMaxAttempts: int('QUEUE_MAX_ATTEMPTS', 3, 1, 100),
  }),
  worker: section({
    executorId: name('EXECUTOR_ID'),
    concurrency: int('WORKER_CONCURRENCY', 2, 1, 256),
    pollMs: int('WORKER_POLL_MS', 250, 10, 60_000),
    lockMs: int('WORKER_LOCK_MS', 30_000, 500, HOUR_MS),
    sandbox: { ...text('EXECUTOR_SANDBOX', 'auto'), enum: ['auto', 'bwrap', 'none'] },
  }),
  ws: section({
    heartbeatMs: int('WS_HEARTBEAT_MS', 10_000, 50, HOUR_MS),
    maxSubscriptions: int('WS_MAX_SUBSCRIPTIONS', 100, 1, 100_000),
    maxMessageBytes: int('WS_MAX_MESSAGE_BYTES', 64 * 1024, 256, 16 * 1024 * 1024),
    maxBufferedBytes: int('WS_MAX_BUFFERED_BYTES', 4 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
  }),
  health: section({
    intervalMs: int('HEALTH_INTERVAL_MS', 1_000, 100, HOUR_MS),
    graceMs: int('HEALTH_GRACE_MS', 120_000, 0, HOUR_MS),
    graceIntervalMs: int('HEALTH_GRACE_INTERVAL_MS', 500, 100, HOUR_MS),
  }),
  circuit: section({
    failureRatio: number('CIRCUIT_FAILURE_RATIO', 0.5, 0, 0.99),
    windowMs: int('CIRCUIT_WINDOW_MS', 10_000, 100, HOUR_MS),
    minimumRps: number('CIRCUIT_MIN_RPS', 1, 0.01, 1_000_000),
    openMs: int('CIRCUIT_OPEN_MS', 5_000, 10, HOUR_MS),
  }),
  metricsSampleMs: int('METRICS_SAMPLE_MS', 5_000, 100, HOUR_MS),
  webhooks: section({
    secret: { ...text('WEBHOOK_SECRET'), minLength: 16 },
    allowPrivate: bool('WEBHOOK_ALLOW_PRIVATE', false),
    maxAttempts: int('WEBHOOK_MAX_ATTEMPTS', 8, 1, 30),
    retryMs: int('WEBHOOK_RETRY_MS', 5_000, 10, HOUR_MS),
    timeoutMs: int('WEBHOOK_TIMEOUT_MS', 10_000, 100, 120_000),
  }),
  durability: section({
    reconcileGraceMs: int('RECONCILE_GRACE_MS', 60_000, 1_000, HOUR_MS),
    reconcileIntervalMs: int('RECONCILE_INTERVAL_MS', 10_000, 100, HOUR_MS),
    reconcileBatch: int('RECONCILE_BATCH', 200, 1, 10_000),
    reconcileMaxRequeues: int('RECONCILE_MAX_REQUEUES', 3, 0, 100),
    eventBufferSize: int('EVENT_BUFFER_SIZE', 10_000, 0, 1_000_000),
  }),
});
