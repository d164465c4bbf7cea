import type { components } from '../generated/types/gateway.js';

export type ErrorCode = components['schemas']['ErrorCode'];
export type Problem = components['schemas']['Problem'];
export type ValidationIssue = components['schemas']['ValidationIssue'];

interface CatalogueEntry {
  status: number;
  title: string;
  /** Last part of the problem `type` URI. */
  slug: string;
}

/**
 * Every error the gateway can answer with. The spec's `ErrorCode` enum lists the same codes; a
 * unit test fails when the two disagree.
 */
export const ERRORS = {
  /** The body is not valid JSON (RFC 9457 §3: the client can fix it). */
  GW_ERR_MALFORMED_JSON: { status: 400, title: 'Malformed JSON', slug: 'malformed-json' },
  /** The request cannot be read: a path that is not valid percent-encoding, bytes HTTP forbids. */
  GW_ERR_BAD_REQUEST: { status: 400, title: 'Bad request', slug: 'bad-request' },
  /** Credentials are missing or not recognised. */
  GW_ERR_UNAUTHORIZED: { status: 401, title: 'Unauthorized', slug: 'unauthorized' },
  /** Credentials are valid but do not allow the operation. */
  GW_ERR_FORBIDDEN: { status: 403, title: 'Forbidden', slug: 'forbidden' },
  /** No operation at this path. */
  GW_ERR_NOT_FOUND: { status: 404, title: 'Not found', slug: 'not-found' },
  /** No evaluation has the id. */
  GW_ERR_EVALUATION_NOT_FOUND: {
    status: 404,
    title: 'Evaluation not found',
    slug: 'evaluation-not-found',
  },
  /** No API key has the id. */
  GW_ERR_KEY_NOT_FOUND: { status: 404, title: 'API key not found', slug: 'key-not-found' },
  /** The path exists but not with this method; the answer carries `Allow`. */
  GW_ERR_METHOD_NOT_ALLOWED: {
    status: 405,
    title: 'Method not allowed',
    slug: 'method-not-allowed',
  },
  /** The evaluation is completed, failed or cancelled, and nothing leaves those states. */
  GW_ERR_EVALUATION_TERMINAL: {
    status: 409,
    title: 'Evaluation already finished',
    slug: 'evaluation-terminal',
  },
  /** Kill needs a running evaluation. */
  GW_ERR_NOT_RUNNING: { status: 409, title: 'Evaluation not running', slug: 'not-running' },
  /** The state machine does not allow the requested status from the current one. */
  GW_ERR_INVALID_TRANSITION: {
    status: 409,
    title: 'Status change not allowed',
    slug: 'invalid-transition',
  },
  /** The first request with this Idempotency-Key has not finished yet. */
  GW_ERR_IDEMPOTENCY_IN_PROGRESS: {
    status: 409,
    title: 'Request in progress',
    slug: 'idempotency-in-progress',
  },
  /** The Idempotency-Key was used before with a different body. */
  GW_ERR_IDEMPOTENCY_MISMATCH: {
    status: 422,
    title: 'Idempotency key reused',
    slug: 'idempotency-mismatch',
  },
  /** The client did not send its request in time (HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS). */
  GW_ERR_REQUEST_TIMEOUT: { status: 408, title: 'Request timeout', slug: 'request-timeout' },
  /** The request's headers are larger than the server reads (16 KiB). */
  GW_ERR_HEADERS_TOO_LARGE: {
    status: 431,
    title: 'Request header fields too large',
    slug: 'headers-too-large',
  },
  /** An `Expect` header other than `100-continue`. */
  GW_ERR_EXPECTATION_FAILED: {
    status: 417,
    title: 'Expectation failed',
    slug: 'expectation-failed',
  },
  /** The request body is over the 2 MiB limit. */
  GW_ERR_PAYLOAD_TOO_LARGE: { status: 413, title: 'Payload too large', slug: 'payload-too-large' },
  /** A body was sent that is not `application/json`. */
  GW_ERR_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    title: 'Unsupported media type',
    slug: 'unsupported-media-type',
  },
  /** The request breaks the contract; `errors` lists each violation. */
  GW_ERR_VALIDATION: { status: 422, title: 'Validation failed', slug: 'validation-failed' },
  /** The language is not in this deployment's allow-list. */
  GW_ERR_LANGUAGE_NOT_ALLOWED: {
    status: 422,
    title: 'Language not allowed',
    slug: 'language-not-allowed',
  },
  /** The client is over its request budget; `Retry-After` says when to come back. */
  GW_ERR_RATE_LIMITED: { status: 429, title: 'Too many requests', slug: 'rate-limited' },
  /** The key's owner has as many unfinished evaluations as the key allows (`max_concurrent`). */
  GW_ERR_QUOTA_EXCEEDED: { status: 429, title: 'Quota exceeded', slug: 'quota-exceeded' },
  /** A fault of the gateway itself. Never carries a stack trace. */
  GW_ERR_INTERNAL: { status: 500, title: 'Internal error', slug: 'internal' },
  /** A downstream service answered with an error or a body outside its contract. */
  GW_ERR_BAD_GATEWAY: { status: 502, title: 'Bad gateway', slug: 'bad-gateway' },
  /** A downstream service could not be reached. */
  GW_ERR_DOWNSTREAM_UNAVAILABLE: {
    status: 503,
    title: 'Service unavailable',
    slug: 'downstream-unavailable',
  },
  /** A downstream service did not answer in time. */
  GW_ERR_DOWNSTREAM_TIMEOUT: { status: 504, title: 'Gateway timeout', slug: 'downstream-timeout' },
} as const satisfies Record<ErrorCode, CatalogueEntry>;

/** Seconds a client is told to wait after a 503 or 429 that names no time of its own. */
export const DEFAULT_RETRY_AFTER_SECONDS = 5;

export const PROBLEM_TYPE_PREFIX = 'urn:crucible:problem:';
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** An error the gateway answers with: a catalogued code, a detail for people, a cause for logs. */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly errors: ValidationIssue[] | undefined;
  readonly headers: Record<string, string> | undefined;
  /** A failure already reported once where it began (an open circuit): logged at debug. */
  readonly expected: boolean;

  constructor(
    code: ErrorCode,
    detail: string,
    opts: {
      cause?: unknown;
      errors?: ValidationIssue[];
      headers?: Record<string, string>;
      expected?: boolean;
    } = {},
  ) {
    // An answer, not a fault: no stack to capture (it cost a tenth of a 422's CPU). A fault's
    // own error, carried as `cause`, keeps its stack for the logs.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(detail, opts.cause === undefined ? undefined : { cause: opts.cause });
    Error.stackTraceLimit = limit;
    this.name = 'GatewayError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.errors = opts.errors;
    this.headers = opts.headers;
    this.expected = opts.expected ?? false;
  }
}

export function isGatewayError(err: unknown): err is GatewayError {
  return err instanceof GatewayError;
}

/**
 * Turns any error into an RFC 9457 problem. Anything that is not a GatewayError is an internal
 * fault: its message and stack stay in the logs, the client gets a generic detail.
 */
export function toProblem(err: unknown, instance?: string, requestId?: string): Problem {
  const e = isGatewayError(err)
    ? err
    : new GatewayError('GW_ERR_INTERNAL', 'The gateway failed to handle the request', {
        cause: err,
      });
  const entry = ERRORS[e.code];
  const problem: Problem = {
    type: PROBLEM_TYPE_PREFIX + entry.slug,
    title: entry.title,
    status: entry.status,
    detail: e.message,
    code: e.code,
  };
  if (instance !== undefined) problem.instance = instance;
  if (requestId !== undefined) problem.request_id = requestId;
  if (e.errors) problem.errors = e.errors;
  return problem;
}

/** A 422 from a list of issues, with a detail that names the first. */
export function validationError(issues: ValidationIssue[]): GatewayError {
  const first = issues[0];
  const summary = first ? `${first.pointer || '/'} ${first.message}` : 'invalid request';
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  return new GatewayError('GW_ERR_VALIDATION', `The request is invalid: ${summary}${more}`, {
    errors: issues,
  });
}
