import type { components } from './api.js';

type Problem = components['schemas']['Problem'];
export type ErrorCode = components['schemas']['ErrorCode'];
export type ValidationIssue = components['schemas']['ValidationIssue'];

/**
 * An answer of the gateway that is not a success: its RFC 9457 problem, typed. `code` is stable
 * (`GW_ERR_*`): branch on it, not on `detail`.
 */
export class CrucibleProblem extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  readonly detail: string;
  /** Every violation of a 422, each with where (`in`) and a JSON Pointer. */
  readonly errors: ValidationIssue[];
  /** Seconds to wait before trying again (429, 503), when the gateway said. */
  readonly retryAfter: number | undefined;
  readonly requestId: string | undefined;

  constructor(problem: Partial<Problem>, status: number, retryAfter?: string | null) {
    super(`${status} ${problem.code ?? 'GW_ERR_INTERNAL'}: ${problem.detail ?? 'no detail'}`);
    this.name = 'CrucibleProblem';
    this.status = status;
    this.code = problem.code ?? 'GW_ERR_INTERNAL';
    this.detail = problem.detail ?? '';
    this.errors = problem.errors ?? [];
    this.retryAfter = retryAfter ? Number(retryAfter) : undefined;
    this.requestId = problem.request_id;
  }
}

/** The problem an answer carries, or one made for an answer that is not a problem. */
export async function problemOf(response: Response, body?: unknown): Promise<CrucibleProblem> {
  let problem: Partial<Problem>;
  try {
    problem = (body ?? (await response.json())) as Partial<Problem>;
  } catch {
    problem = { detail: `HTTP ${response.status} without a problem body` };
  }
  return new CrucibleProblem(problem, response.status, response.headers.get('retry-after'));
}
