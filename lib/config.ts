import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type { ErrorObject } from 'ajv';
import { CONFIG_SCHEMA } from './config-schema.js';
import { configValidator } from './validators.js';

/**
 * Configuration from the environment, in sections, parsed once, validated by the JSON Schema of
 * lib/config-schema.ts (precompiled) and frozen. Names follow the brief (`QUEUE_SERVICE_URL`,
 * `CELERY_PERCENTAGE`, …); a bad value stops start-up with a message naming the variable.
 */

export type { Config, ExecutorTarget } from './config-types.js';
import type { Config, ExecutorTarget } from './config-types.js';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;
type Schema = {
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  enum?: string[];
  'x-env'?: string;
  'x-expect'?: string;
  'x-url'?: boolean;
  'x-lowercase'?: boolean;
};

/** The brief's level names (FastAPI's) as pino's. */
const LOG_LEVELS: Record<string, string> = { warning: 'warn', critical: 'fatal' };
/** The brief's CELERY_* names and their BULL_* aliases. */
const ALIASES: [string, string][] = [
  ['CELERY_ENABLED', 'BULL_ENABLED'],
  ['CELERY_PERCENTAGE', 'BULL_PERCENTAGE'],
  ['CELERY_BROKER_URL', 'BULL_REDIS_URL'],
];

export const DEFAULT_INTERNAL_API_KEY = 'dev-internal-api-key';
/** The brief's Redis, where the gateway runs beside its services (not in embedded mode). */
export const DEFAULT_REDIS_URL = 'redis://redis:6379';

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

/** An environment value as its schema types it; left a string when it is not one (ajv says so). */
function typed(s: Schema, raw: string): unknown {
  if (s.type === 'integer') return /^-?\d+$/.test(raw) ? Number(raw) : raw;
  if (s.type === 'number') return raw !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  if (s.type === 'boolean') {
    const v = raw.toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(v)) return true;
    if (['false', '0', 'no', 'off'].includes(v)) return false;
    return raw;
  }
  if (s.type === 'array') return raw.split(',').flatMap((x) => (x.trim() ? [x.trim()] : []));
  if (s['x-url']) {
    if (!URL.canParse(raw)) return { unparseable: raw }; // not a string: ajv refuses it
    return raw.replace(/\/+$/, '');
  }
  if (s['x-env'] === 'LOG_LEVEL') return LOG_LEVELS[raw.toLowerCase()] ?? raw.toLowerCase();
  if (s.enum) return raw.toLowerCase();
  return s['x-lowercase'] ? raw.toLowerCase() : raw;
}

/** Each section read from `env` by the schema: typed values, or the defaults. */
function read(schema: Schema, env: Env): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(schema.properties ?? {})) {
    if (s.properties) out[key] = read(s, env);
    else if (s['x-env']) {
      const raw = env[s['x-env']]?.trim();
      const value = raw ? typed(s, raw) : s.default;
      if (value !== undefined) out[key] = value;
    }
  }
  return out;
}

/** `PORT=eighty: expected a whole number from 0 to 65535`, from one ajv error over `config`. */
function explain(e: ErrorObject, env: Env, config: unknown): string {
  const path = e.instancePath.split('/').slice(1);
  let s = CONFIG_SCHEMA as Schema;
  let value: unknown = config;
  for (const p of path) {
    s = s.properties?.[p] ?? s;
    value = (value as Record<string, unknown> | undefined)?.[p];
  }
  const name = s['x-env'] ?? path.join('.');
  if (s.type === 'array' || s.items) {
    // An entry of a list: the path ends at its index, and `s` is still the list.
    return `${name} entry "${String(value)}": ${s.items?.['x-expect'] ?? e.message ?? 'is invalid'}`;
  }
  const raw = env[name]?.trim() ?? '';
  const shown = s['x-url'] ? redact(raw) : raw;
  const expect =
    s.type === 'integer'
      ? `expected a whole number from ${s.minimum} to ${s.maximum}`
      : s.type === 'number'
        ? `expected a number from ${s.minimum} to ${s.maximum}`
        : s.type === 'boolean'
          ? 'expected true or false'
          : s.enum
            ? `expected one of ${s.enum.join(', ')}`
            : s['x-expect']?.startsWith('must')
              ? s['x-expect']
              : `expected ${s['x-expect'] ?? e.message ?? 'a valid value'}`;
  return `${name}=${shown}: ${expect}`;
}

function parseExecutors(entries: readonly string[], problems: string[]): ExecutorTarget[] {
  return entries.flatMap((entry, i) => {
    const eq = entry.indexOf('=');
    const url = eq > 0 ? entry.slice(eq + 1) : entry;
    try {
      const u = new URL(url);
      if (!['http:', 'https:'].includes(u.protocol)) throw new Error('protocol');
      const id = eq > 0 ? entry.slice(0, eq) : u.hostname || `executor-${i + 1}`;
      return [{ id, url: url.replace(/\/+$/, '') }];
    } catch {
      problems.push(
        `EXECUTOR_URLS entry "${entry}": expected id=http://host:port or http://host:port`,
      );
      return [];
    }
  });
}

function freeze<T>(value: T): Readonly<T> {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) freeze(v);
    Object.freeze(value);
  }
  return value;
}

export function loadConfig(given: Env = process.env): Readonly<Config> {
  const problems: string[] = [];
  const env: Env = { ...given };
  for (const [name, alias] of ALIASES) {
    const [a, b] = [env[name]?.trim() || undefined, env[alias]?.trim() || undefined];
    if (a !== undefined && b !== undefined && a !== b)
      problems.push(`${name} and ${alias} are both set, to different values`);
    env[name] = a ?? b;
  }
  const queueSet = Boolean(env.QUEUE_SERVICE_URL?.trim());
  if (queueSet !== Boolean(env.STORAGE_SERVICE_URL?.trim())) {
    problems.push(
      'QUEUE_SERVICE_URL and STORAGE_SERVICE_URL: set both (external services) or neither (embedded platform)',
    );
  }
  const embedded = !queueSet && !env.STORAGE_SERVICE_URL?.trim();
  // REDIS_URL=none: no Redis at all (events stay in this process), in any mode.
  const noRedis = env.REDIS_URL?.trim().toLowerCase() === 'none';
  if (noRedis) env.REDIS_URL = undefined;
  else if (!embedded) env.REDIS_URL ||= DEFAULT_REDIS_URL;
  const c = read(CONFIG_SCHEMA, env) as unknown as Config;
  const internalKey = env.INTERNAL_API_KEY?.trim() || undefined;
  Object.assign(c.gateway, {
    embedded,
    // Embedded mode runs submitted code on this machine: it listens on loopback unless told.
    host: c.gateway.host ?? (embedded ? '127.0.0.1' : '0.0.0.0'),
    internalApiKey: internalKey ?? DEFAULT_INTERNAL_API_KEY,
    internalApiKeyIsDefault: internalKey === undefined,
    executors: parseExecutors(
      (env.EXECUTOR_URLS ?? '').split(',').flatMap((x) => (x.trim() ? [x.trim()] : [])),
      problems,
    ),
  });
  // Every gateway of a deployment shares the internal key, so each derives the same secrets.
  c.webhooks.secret ??= createHash('sha256')
    .update(`webhooks:${c.gateway.internalApiKey}`)
    .digest('base64');
  c.worker.executorId ??=
    hostname()
      .replace(/[^A-Za-z0-9_-]/g, '-')
      .slice(0, 63) || 'executor';
  if (!configValidator(c))
    problems.push(...(configValidator.errors ?? []).map((e) => explain(e, env, c)));
  // Checked as REDIS_URL already when it comes from there.
  c.jobQueue.redisUrl ??= c.gateway.redisUrl;
  if (c.jobQueue.enabled === true && !c.jobQueue.redisUrl)
    problems.push('CELERY_ENABLED=true needs CELERY_BROKER_URL (or BULL_REDIS_URL) or REDIS_URL');
  if (problems.length) throw new ConfigError([...new Set(problems)]);
  return freeze(c);
}
