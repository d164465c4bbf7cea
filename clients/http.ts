import http from 'node:http';
import https from 'node:https';
import { got, RequestError } from 'got';
import type { Got, Method } from 'got';
import { GatewayError } from '../lib/errors.js';
import { describeErrors, schemaValidator } from '../lib/validators.js';
import type { SchemaName } from '../generated/validators/schema-names.js';
import { redact } from '../lib/config.js';

export interface DownstreamOptions {
  /** Used in error details: "Storage service unavailable". */
  displayName: string;
  baseUrl: string;
  apiKey: string;
  timeoutMs: number;
  /** Extra attempts for idempotent calls (GET, PUT, DELETE) on transport failures and 502–504. */
  retries: number;
}

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
}

export interface DownstreamAnswer<T> {
  status: number;
  body: T;
}

// Network errors that mean "nobody answered there": the service is down or the name is wrong.
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
]);

/**
 * One downstream HTTP service, reached over keep-alive connections. Every failure becomes a
 * GatewayError of the catalogue: unreachable 503, timeout 504, error or off-contract answer 502.
 */
export class DownstreamHttp {
  private readonly client: Got;
  readonly baseUrl: string;

  constructor(private readonly opts: DownstreamOptions) {
    this.baseUrl = opts.baseUrl;
    this.client = got.extend({
      prefixUrl: opts.baseUrl,
      headers: { 'user-agent': 'crucible-gateway', accept: 'application/json' },
      agent: {
        http: new http.Agent({ keepAlive: true, maxSockets: 256 }),
        https: new https.Agent({ keepAlive: true, maxSockets: 256 }),
      },
      throwHttpErrors: false,
      responseType: 'text',
      retry: {
        limit: opts.retries,
        methods: ['GET', 'PUT', 'DELETE', 'HEAD'],
        statusCodes: [502, 503, 504],
        // A gateway retries quickly or not at all: 50 ms, 100 ms, 200 ms… capped at 500 ms.
        calculateDelay: ({ attemptCount, computedValue }) =>
          computedValue === 0 ? 0 : Math.min(50 * 2 ** (attemptCount - 1), 500),
      },
    });
  }

  /** Where the service is, with any credentials removed. */
  get displayUrl(): string {
    return redact(this.baseUrl);
  }

  async call<T>(
    method: Method,
    path: string,
    opts: CallOptions = {},
  ): Promise<DownstreamAnswer<T>> {
    const name = this.opts.displayName;
    let response;
    try {
      response = await this.client(path, {
        method,
        json: opts.json,
        searchParams: opts.searchParams
          ? (Object.fromEntries(
              Object.entries(opts.searchParams).filter(([, v]) => v !== undefined),
            ) as Record<string, string | number | boolean>)
          : undefined,
        headers: opts.anonymous ? {} : { 'x-api-key': this.opts.apiKey },
        timeout: { request: opts.timeoutMs ?? this.opts.timeoutMs },
        retry: opts.retries === undefined ? {} : { limit: opts.retries },
      });
    } catch (err) {
      throw this.transportError(err);
    }
    const status = response.statusCode;
    let body: unknown = undefined;
    if (response.body !== '') {
      try {
        body = JSON.parse(response.body);
      } catch (err) {
        throw new GatewayError(
          'GW_ERR_BAD_GATEWAY',
          `${name} answered ${method} /${path} with a body that is not JSON`,
          { cause: err },
        );
      }
    }
    if (opts.accept?.includes(status)) return { status, body: body as T };
    if (status < 200 || status >= 300) {
      throw new GatewayError(
        'GW_ERR_BAD_GATEWAY',
        `${name} answered ${method} /${path} with HTTP ${status}${detailOf(body)}`,
      );
    }
    if (opts.expect) {
      const validate = schemaValidator(opts.expect);
      if (!validate(body)) {
        throw new GatewayError(
          'GW_ERR_BAD_GATEWAY',
          `${name} answered ${method} /${path} outside its contract: ${describeErrors(validate.errors)}`,
        );
      }
    }
    return { status, body: body as T };
  }

  private transportError(err: unknown): GatewayError {
    const name = this.opts.displayName;
    if (err instanceof RequestError) {
      if (err.name === 'TimeoutError' || err.code === 'ETIMEDOUT') {
        return new GatewayError('GW_ERR_DOWNSTREAM_TIMEOUT', `${name} did not answer in time`, {
          cause: err,
        });
      }
      if (UNREACHABLE.has(err.code)) {
        return new GatewayError('GW_ERR_DOWNSTREAM_UNAVAILABLE', `${name} unavailable`, {
          cause: err,
        });
      }
    }
    return new GatewayError('GW_ERR_BAD_GATEWAY', `${name} request failed`, { cause: err });
  }
}

function detailOf(body: unknown): string {
  if (body && typeof body === 'object' && 'detail' in body) {
    const d = body.detail;
    return `: ${typeof d === 'string' ? d : JSON.stringify(d)}`.slice(0, 300);
  }
  return '';
}
