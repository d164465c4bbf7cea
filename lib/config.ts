import { hostname } from 'node:os';

/**
 * Configuration from the environment, parsed once, validated and frozen. Names follow the brief
 * (`QUEUE_SERVICE_URL`, `CELERY_PERCENTAGE`, …); a bad value stops start-up with a message naming
 * the variable.
 */

export interface ExecutorTarget {
  id: string;
  url: string;
}

export interface Config {
  port: number;
  host: string;
  queueServiceUrl: string;
  storageServiceUrl: string;
  redisUrl: string | undefined;
  databaseUrl: string | undefined;
  internalApiKey: string;
  /** True when INTERNAL_API_KEY was not set and the development default is in use. */
  internalApiKeyIsDefault: boolean;
  /**
   * The job queue (Bull on Redis), which plays the part the brief gives Celery: one internal name
   * for it; the environment keeps the brief's CELERY_* names (and BULL_* aliases).
   */
  jobQueueEnabled: boolean;
  jobQueueRedisUrl: string | undefined;
  /** Share (0–1) of submissions the traffic split sends to the job queue. */
  jobQueueShare: number;
  /** Bull queue name and Redis key prefix of the job queue. */
  jobQueueName: string;
  jobQueuePrefix: string;
  /** Attempts a job gets (a worker that dies mid-job counts as one) and the first retry delay. */
  jobQueueAttempts: number;
  jobQueueBackoffMs: number;
  /** Finished jobs kept in Redis (the results live in storage). */
  jobQueueKeepCompleted: number;
  jobQueueKeepFailed: number;
  /** Request header whose value pins a client to one backend; unset: random per request. */
  stickyHeader: string | undefined;
  /** PostgreSQL schema of the gateway's own tables. */
  databaseSchema: string;
  idempotencyTtlHours: number;
  /** Limits sent with each job: memory and captured output. */
  evalMemoryMb: number;
  evalOutputBytes: number;
  /** Sandbox limits of each run: processes, largest file, work directory size, open files. */
  evalMaxProcesses: number;
  evalFileSizeMb: number;
  evalDiskMb: number;
  evalOpenFiles: number;
  /** `auto`: bubblewrap when it works here; `bwrap`: demand it; `none`: plain child processes. */
  executorSandbox: 'auto' | 'bwrap' | 'none';
  /** The legacy queue hands a task out at most this often; then it is failed for good. */
  queueMaxAttempts: number;
  logLevel: string;
  enableCaching: boolean;
  /** Executors named in EXECUTOR_URLS, by id. */
  executors: readonly ExecutorTarget[];
  /** How an executor id becomes a URL when EXECUTOR_URLS does not name it. */
  executorUrlTemplate: string;
  allowedLanguages: readonly string[];
  /** When non-empty, every /api/* request needs one of these in X-API-Key. */
  apiKeys: readonly string[];
  adminApiKey: string | undefined;
  corsOrigins: readonly string[];
  rateLimitPerMinute: number;
  /** No QUEUE_SERVICE_URL and STORAGE_SERVICE_URL: start the reference platform in-process. */
  embedded: boolean;
  /** Loopback ports of the reference services (0: any free port). */
  platformQueuePort: number;
  platformStoragePort: number;
  platformExecutorPort: number;
  /** PostgreSQL schema of the reference storage service. */
  platformSchema: string;
  /** Id under which a worker's executor records the evaluations it runs. */
  executorId: string;
  /** Evaluations one worker runs at once, per queue backend. */
  workerConcurrency: number;
  /** How often an idle worker asks the legacy queue for work. */
  workerPollMs: number;
  /**
   * A worker holds each Bull job's lock this long (renewed while it runs); a job whose lock
   * lapses (its worker died) goes back to waiting at the next stalled-job check.
   */
  workerLockMs: number;
  /** The legacy queue hands a taken task out again this long after its timeout without a report. */
  leaseGraceMs: number;
  /** WebSocket: heartbeat and ping interval, subscriptions per connection, message size, send buffer. */
  wsHeartbeatMs: number;
  wsMaxSubscriptions: number;
  wsMaxMessageBytes: number;
  wsMaxBufferedBytes: number;
  downstreamTimeoutMs: number;
  downstreamRetries: number;
  healthIntervalMs: number;
  healthGraceMs: number;
  healthGraceIntervalMs: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS: Record<string, string> = {
  trace: 'trace',
  debug: 'debug',
  info: 'info',
  warn: 'warn',
  warning: 'warn',
  error: 'error',
  critical: 'fatal',
  fatal: 'fatal',
  silent: 'silent',
};

export const DEFAULT_INTERNAL_API_KEY = 'dev-internal-api-key';

class Reader {
  readonly problems: string[] = [];
  private readonly env: Env;
  constructor(env: Env) {
    this.env = { ...env };
  }

  private raw(name: string): string | undefined {
    const v = this.env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  optional(name: string): string | undefined {
    return this.raw(name);
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!/^-?\d+$/.test(v) || n < min || n > max) {
      this.problems.push(`${name}=${v}: expected a whole number from ${min} to ${max}`);
      return fallback;
    }
    return n;
  }

  number(name: string, fallback: number, min: number, max: number): number {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) {
      this.problems.push(`${name}=${v}: expected a number from ${min} to ${max}`);
      return fallback;
    }
    return n;
  }

  bool(name: string, fallback: boolean): boolean {
    const v = this.raw(name)?.toLowerCase();
    if (v === undefined) return fallback;
    if (['true', '1', 'yes', 'on'].includes(v)) return true;
    if (['false', '0', 'no', 'off'].includes(v)) return false;
    this.problems.push(`${name}=${v}: expected true or false`);
    return fallback;
  }

  url(name: string, fallback: string | undefined, protocols: string[]): string | undefined {
    const v = this.raw(name) ?? fallback;
    if (v === undefined) return undefined;
    try {
      const u = new URL(v);
      if (!protocols.includes(u.protocol)) throw new Error('protocol');
      return v.replace(/\/+$/, '');
    } catch {
      this.problems.push(`${name}=${redact(v)}: expected a ${protocols.join(' or ')} URL`);
      return fallback;
    }
  }

  oneOf<T extends string>(name: string, fallback: T, values: readonly T[]): T {
    const v = this.raw(name)?.toLowerCase();
    if (v === undefined) return fallback;
    if ((values as readonly string[]).includes(v)) return v as T;
    this.problems.push(`${name}=${v}: expected one of ${values.join(', ')}`);
    return fallback;
  }

  /** A name used in Redis keys or SQL identifiers: letters, digits, `_` and `-`. */
  name(name: string, fallback: string): string {
    const v = this.raw(name) ?? fallback;
    if (!/^[A-Za-z_][A-Za-z0-9_-]{0,62}$/.test(v)) {
      this.problems.push(`${name}=${v}: expected letters, digits, _ or - (at most 63)`);
      return fallback;
    }
    return v;
  }

  list(name: string, fallback: string[]): string[] {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    return v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  }

  /**
   * The value of `name` or of its alias (the brief's CELERY_* names have BULL_* equivalents);
   * both set to different values is an error naming both.
   */
  either(name: string, alias: string): string | undefined {
    const a = this.raw(name);
    const b = this.raw(alias);
    if (a !== undefined && b !== undefined && a !== b) {
      this.problems.push(`${name} and ${alias} are both set, to different values`);
    }
    return a ?? b;
  }

  /** Copies `alias` into `name` when only the alias is set, so the typed readers see it. */
  merge(name: string, alias: string): void {
    const v = this.either(name, alias);
    if (v !== undefined) this.env[name] = v;
  }

  fail(message: string): void {
    this.problems.push(message);
  }
}

/** Whether `host` is reachable from this machine only. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** The URL with any password replaced, for logs and error messages. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}

const HTTP = ['http:', 'https:'];
const REDIS = ['redis:', 'rediss:'];

function parseExecutors(r: Reader, entries: string[]): ExecutorTarget[] {
  return entries.flatMap((entry, i) => {
    const eq = entry.indexOf('=');
    const id = eq > 0 ? entry.slice(0, eq) : undefined;
    const url = eq > 0 ? entry.slice(eq + 1) : entry;
    try {
      const u = new URL(url);
      if (!HTTP.includes(u.protocol)) throw new Error('protocol');
      return [{ id: id ?? u.hostname ?? `executor-${i + 1}`, url: url.replace(/\/+$/, '') }];
    } catch {
      r.fail(`EXECUTOR_URLS entry "${entry}": expected id=http://host:port or http://host:port`);
      return [];
    }
  });
}

export function loadConfig(env: Env = process.env): Readonly<Config> {
  const r = new Reader(env);
  r.merge('CELERY_ENABLED', 'BULL_ENABLED');
  r.merge('CELERY_PERCENTAGE', 'BULL_PERCENTAGE');
  r.merge('CELERY_BROKER_URL', 'BULL_REDIS_URL');
  const levelName = r.string('LOG_LEVEL', 'info').toLowerCase();
  const logLevel = LOG_LEVELS[levelName];
  if (!logLevel)
    r.fail(`LOG_LEVEL=${levelName}: expected one of ${Object.keys(LOG_LEVELS).join(', ')}`);
  const redisUrl = r.url('REDIS_URL', undefined, REDIS);
  const template = r.string('EXECUTOR_URL_TEMPLATE', 'http://{executor_id}:8083');
  if (!template.includes('{executor_id}')) {
    r.fail(`EXECUTOR_URL_TEMPLATE=${template}: must contain {executor_id}`);
  }
  const internalKey = r.optional('INTERNAL_API_KEY');
  const queueSet = r.optional('QUEUE_SERVICE_URL') !== undefined;
  const storageSet = r.optional('STORAGE_SERVICE_URL') !== undefined;
  if (queueSet !== storageSet) {
    r.fail(
      'QUEUE_SERVICE_URL and STORAGE_SERVICE_URL: set both (external services) or neither (embedded platform)',
    );
  }
  const embedded = !queueSet && !storageSet;
  const languages = r.list('ALLOWED_LANGUAGES', ['python']);
  for (const l of languages) {
    if (!/^[a-z][a-z0-9_+-]{0,31}$/.test(l))
      r.fail(`ALLOWED_LANGUAGES entry "${l}": not a language name`);
  }
  const config: Config = {
    port: r.int('PORT', 8080, 0, 65535),
    // Embedded mode runs submitted code on this machine: it listens on loopback unless told.
    host: r.string('HOST', embedded ? '127.0.0.1' : '0.0.0.0'),
    queueServiceUrl: r.url('QUEUE_SERVICE_URL', 'http://queue:8081', HTTP) ?? '',
    storageServiceUrl: r.url('STORAGE_SERVICE_URL', 'http://storage-service:8082', HTTP) ?? '',
    redisUrl,
    databaseUrl: r.url('DATABASE_URL', undefined, ['postgres:', 'postgresql:']),
    internalApiKey: internalKey ?? DEFAULT_INTERNAL_API_KEY,
    internalApiKeyIsDefault: internalKey === undefined,
    jobQueueEnabled: r.bool('CELERY_ENABLED', false),
    jobQueueRedisUrl: r.url('CELERY_BROKER_URL', redisUrl, REDIS),
    jobQueueShare: r.number('CELERY_PERCENTAGE', 0.5, 0, 1),
    jobQueueName: r.name('BULL_QUEUE', 'evaluations'),
    jobQueuePrefix: r.name('BULL_PREFIX', 'bull'),
    jobQueueAttempts: r.int('BULL_ATTEMPTS', 3, 1, 100),
    jobQueueBackoffMs: r.int('BULL_BACKOFF_MS', 1000, 0, 3_600_000),
    jobQueueKeepCompleted: r.int('BULL_KEEP_COMPLETED', 1000, 0, 10_000_000),
    jobQueueKeepFailed: r.int('BULL_KEEP_FAILED', 5000, 0, 10_000_000),
    stickyHeader: r.optional('TRAFFIC_SPLIT_STICKY_HEADER')?.toLowerCase(),
    databaseSchema: r.name('DATABASE_SCHEMA', 'crucible_gateway'),
    idempotencyTtlHours: r.int('IDEMPOTENCY_TTL_HOURS', 24, 1, 24 * 365),
    evalMemoryMb: r.int('EVAL_MEMORY_MB', 512, 16, 1_048_576),
    evalOutputBytes: r.int('EVAL_OUTPUT_BYTES', 1024 * 1024, 1, 64 * 1024 * 1024),
    evalMaxProcesses: r.int('EVAL_MAX_PROCESSES', 64, 1, 65_536),
    evalFileSizeMb: r.int('EVAL_FILE_SIZE_MB', 16, 1, 65_536),
    evalDiskMb: r.int('EVAL_DISK_MB', 64, 1, 65_536),
    evalOpenFiles: r.int('EVAL_OPEN_FILES', 256, 16, 65_536),
    executorSandbox: r.oneOf('EXECUTOR_SANDBOX', 'auto', ['auto', 'bwrap', 'none'] as const),
    queueMaxAttempts: r.int('QUEUE_MAX_ATTEMPTS', 3, 1, 100),
    logLevel: logLevel ?? 'info',
    enableCaching: r.bool('ENABLE_CACHING', false),
    executors: parseExecutors(r, r.list('EXECUTOR_URLS', [])),
    executorUrlTemplate: template,
    allowedLanguages: languages,
    apiKeys: r.list('API_KEYS', []),
    adminApiKey: r.optional('ADMIN_API_KEY'),
    corsOrigins: r.list('CORS_ORIGINS', ['*']),
    rateLimitPerMinute: r.int('RATE_LIMIT_PER_MINUTE', 0, 0, 1_000_000),
    embedded,
    platformQueuePort: r.int('PLATFORM_QUEUE_PORT', 8081, 0, 65535),
    platformStoragePort: r.int('PLATFORM_STORAGE_PORT', 8082, 0, 65535),
    platformExecutorPort: r.int('PLATFORM_EXECUTOR_PORT', 8083, 0, 65535),
    platformSchema: r.name('PLATFORM_SCHEMA', 'crucible_platform'),
    executorId: r.name(
      'EXECUTOR_ID',
      hostname()
        .replace(/[^A-Za-z0-9_-]/g, '-')
        .slice(0, 63) || 'executor',
    ),
    workerConcurrency: r.int('WORKER_CONCURRENCY', 2, 1, 256),
    workerPollMs: r.int('WORKER_POLL_MS', 250, 10, 60_000),
    workerLockMs: r.int('WORKER_LOCK_MS', 30_000, 500, 3_600_000),
    leaseGraceMs: r.int('QUEUE_LEASE_GRACE_MS', 30_000, 0, 3_600_000),
    wsHeartbeatMs: r.int('WS_HEARTBEAT_MS', 10_000, 50, 3_600_000),
    wsMaxSubscriptions: r.int('WS_MAX_SUBSCRIPTIONS', 100, 1, 100_000),
    wsMaxMessageBytes: r.int('WS_MAX_MESSAGE_BYTES', 64 * 1024, 256, 16 * 1024 * 1024),
    wsMaxBufferedBytes: r.int('WS_MAX_BUFFERED_BYTES', 4 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    downstreamTimeoutMs: r.int('DOWNSTREAM_TIMEOUT_MS', 5000, 50, 300_000),
    downstreamRetries: r.int('DOWNSTREAM_RETRIES', 2, 0, 10),
    healthIntervalMs: r.int('HEALTH_INTERVAL_MS', 15_000, 100, 3_600_000),
    healthGraceMs: r.int('HEALTH_GRACE_MS', 120_000, 0, 3_600_000),
    healthGraceIntervalMs: r.int('HEALTH_GRACE_INTERVAL_MS', 2_000, 100, 3_600_000),
  };
  if (config.jobQueueEnabled && !config.jobQueueRedisUrl) {
    r.fail('CELERY_ENABLED=true needs CELERY_BROKER_URL (or BULL_REDIS_URL) or REDIS_URL');
  }
  if (r.problems.length) throw new ConfigError(r.problems);
  return Object.freeze({
    ...config,
    executors: Object.freeze(config.executors.map((e) => Object.freeze(e))),
    allowedLanguages: Object.freeze(config.allowedLanguages),
    apiKeys: Object.freeze(config.apiKeys),
    corsOrigins: Object.freeze(config.corsOrigins),
  });
}
