import http from 'node:http';
import https from 'node:https';
import { GatewayError } from '../lib/errors.js';
import { describeErrors, schemaValidator } from '../lib/validators.js';
import type { SchemaName } from '../generated/validators/schema-names.js';
import { redact } from '../lib/config.js';
import { SIGNATURE_HEADER, signRequest } from '../lib/signing.js';
import { CallTimeout, detailOf, outcomeOf, transportError } from './http-errors.js';
import type { CallOutcome } from './http-errors.js';

export type { CallOutcome } from './http-errors.js';
import { traceparent } from '../lib/trace.js';
import { Circuit, RetryBudget } from './circuit.js';
import type { CircuitOptions, CircuitStateName } from './circuit.js';
import type { TraceContext } from '../lib/trace.js';

export interface DownstreamOptions {
  /** Used in error details: "Storage service unavailable". */
  displayName: string;
  /** The service's name in metrics: `queue`, `storage`, `executor`. */
  service: string;
  baseUrl: string;
  apiKey: string;
  timeoutMs: number;
  /** Extra attempts for idempotent calls (GET, PUT, DELETE) on transport failures and 502–504. */
  retries: number;
  /**
   * Told what each call (health checks aside) showed: the service answered (`true`), or it could
   * not be reached or did not answer in time (`false`) — the health monitor's passive checks.
   */
  observe?: (reachable: boolean, err?: GatewayError) => void;
  /** The service's circuit breaker; none when absent. */
  circuit?: CircuitOptions;
  /** Told when the circuit changes state. */
  onCircuit?: (service: string, state: CircuitStateName) => void;
  /** Told of every call (health checks aside): how long it took and how it ended. */
  record?: (service: string, seconds: number, outcome: CallOutcome) => void;
}

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface CallOptions {
  json?: unknown;
  searchParams?: Record<string, string | number | boolean | undefined>;
  /** The schema a 2xx answer must match; a body outside it is a 502. */
  expect?: SchemaName;
  /** Answers with these statuses are returned to the caller instead of becoming a 502. */
  accept?: readonly number[];
  timeoutMs?: number;
  retries?: number;
  /** Send no API key (health checks). */
  anonymous?: boolean;
  /**
   * A background call (metrics sampling): around the circuit breaker, as health checks are — a
   * sample neither opens a circuit nor is refused by one — and not counted in the call metrics.
   */
  background?: boolean;
  /** The trace context of the request the call is made for, sent as `traceparent`. */
  trace?: TraceContext;
}

export interface DownstreamAnswer<T> {
  status: number;
  body: T;
}

const IDEMPOTENT = new Set<Method>(['GET', 'PUT', 'DELETE']);
const RETRY_STATUSES = new Set([502, 503, 504]);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * One downstream HTTP service, reached over keep-alive connections with node:http directly (a
 * general-purpose client such as got cost about twice the CPU per call here). Every failure
 * becomes a GatewayError of the catalogue: unreachable 503, timeout 504, error or off-contract
 * answer 502. Idempotent calls are retried quickly (50 ms, 100 ms, …) a bounded number of times.
 */
export class DownstreamHttp {
  readonly baseUrl: string;
  private readonly lib: typeof http | typeof https;
  private readonly agent: http.Agent;
  private readonly host: string;
  private readonly port: number;
  private readonly basePath: string;
  private readonly circuit: Circuit;
  private readonly budget = new RetryBudget();

  constructor(private readonly opts: DownstreamOptions) {
    this.circuit = new Circuit(
      opts.displayName,
      opts.circuit ?? { failureRatio: 0, windowMs: 1, minimumRps: 1, openMs: 1 },
      (state) => opts.onCircuit?.(opts.service, state),
    );
    this.baseUrl = opts.baseUrl;
    const url = new URL(opts.baseUrl);
    const secure = url.protocol === 'https:';
    this.lib = secure ? https : http;
    this.agent = new this.lib.Agent({ keepAlive: true, maxSockets: 256, scheduling: 'lifo' });
    this.host = url.hostname;
    this.port = url.port ? Number(url.port) : secure ? 443 : 80;
    this.basePath = url.pathname.replace(/\/+$/, '');
  }

  /** The state of the service's circuit breaker. */
  get circuitState(): CircuitStateName {
    return this.circuit.state;
  }

  /** Where the service is, with any credentials removed. */
  get displayUrl(): string {
    return redact(this.baseUrl);
  }

  private once(
    method: Method,
    path: string,
    headers: Record<string, string>,
    body: string | undefined,
    timeoutMs: number,
  ) {
    return new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = this.lib.request({
        agent: this.agent,
        host: this.host,
        port: this.port,
        method,
        path,
        headers,
      });
      const timer = setTimeout(() => req.destroy(new CallTimeout()), timeoutMs);
      req.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      req.once('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
        res.once('end', () => {
          clearTimeout(timer);
          resolve({
            status: res.statusCode ?? 0,
            text: chunks.length === 1 ? chunks[0]!.toString() : Buffer.concat(chunks).toString(),
          });
        });
      });
      req.end(body);
    });
  }

  /**
   * One call: through the service's circuit breaker (health checks aside: they must reach a
   * service whose circuit is open), timed and counted for metrics.
   */
  async call<T>(
    method: Method,
    path: string,
    opts: CallOptions = {},
  ): Promise<DownstreamAnswer<T>> {
    if (opts.anonymous || opts.background) return this.exchange<T>(method, path, opts);
    const started = performance.now();
    let outcome: CallOutcome = 'ok';
    try {
      return await this.circuit.run(() => this.exchange<T>(method, path, opts));
    } catch (err) {
      outcome = outcomeOf(err);
      throw err;
    } finally {
      this.opts.record?.(this.opts.service, (performance.now() - started) / 1000, outcome);
    }
  }

  private async exchange<T>(
    method: Method,
    path: string,
    opts: CallOptions,
  ): Promise<DownstreamAnswer<T>> {
    const name = this.opts.displayName;
    let target = `${this.basePath}/${path}`;
    if (opts.searchParams) {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(opts.searchParams))
        if (v !== undefined) q.set(k, String(v));
      const s = q.toString();
      if (s) target += `?${s}`;
    }
    const body = opts.json === undefined ? undefined : JSON.stringify(opts.json);
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': 'crucible-gateway',
    };
    if (opts.trace) headers.traceparent = traceparent(opts.trace);
    if (!opts.anonymous) {
      headers['x-api-key'] = this.opts.apiKey;
      headers[SIGNATURE_HEADER] = signRequest(this.opts.apiKey, method, target, body);
    }
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    const retries = IDEMPOTENT.has(method) ? (opts.retries ?? this.opts.retries) : 0;
    const budget = opts.anonymous ? undefined : this.budget;
    budget?.earn();
    // A retry is made while attempts are left and, for real calls, the service's budget allows.
    const retry = (attempt: number): boolean =>
      attempt < retries && (budget === undefined || budget.spend());
    let answer: { status: number; text: string };
    for (let attempt = 0; ; attempt++) {
      try {
        answer = await this.once(
          method,
          target,
          headers,
          body,
          opts.timeoutMs ?? this.opts.timeoutMs,
        );
      } catch (err) {
        if (retry(attempt)) {
          await sleep(Math.min(50 * 2 ** attempt, 500));
          continue;
        }
        const failure = transportError(this.opts.displayName, err);
        if (!opts.anonymous && failure.code !== 'GW_ERR_BAD_GATEWAY')
          this.opts.observe?.(false, failure);
        throw failure;
      }
      if (RETRY_STATUSES.has(answer.status) && retry(attempt)) {
        await sleep(Math.min(50 * 2 ** attempt, 500));
        continue;
      }
      break;
    }
    if (!opts.anonymous) this.opts.observe?.(true);
    const status = answer.status;
    let parsed: unknown = undefined;
    if (answer.text !== '') {
      try {
        parsed = JSON.parse(answer.text);
      } catch (err) {
        throw new GatewayError(
          'GW_ERR_BAD_GATEWAY',
          `${name} answered ${method} /${path} with a body that is not JSON`,
          { cause: err },
        );
      }
    }
    if (opts.accept?.includes(status)) return { status, body: parsed as T };
    if (status < 200 || status >= 300) {
      throw new GatewayError(
        'GW_ERR_BAD_GATEWAY',
        `${name} answered ${method} /${path} with HTTP ${status}${detailOf(parsed)}`,
      );
    }
    if (opts.expect) {
      const validate = schemaValidator(opts.expect);
      if (!validate(parsed)) {
        throw new GatewayError(
          'GW_ERR_BAD_GATEWAY',
          `${name} answered ${method} /${path} outside its contract: ${describeErrors(validate.errors)}`,
        );
      }
    }
    return { status, body: parsed as T };
  }
}
