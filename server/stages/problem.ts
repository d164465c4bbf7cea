import type { ServerResponse } from 'node:http';
import {
  DEFAULT_RETRY_AFTER_SECONDS,
  GatewayError,
  PROBLEM_CONTENT_TYPE,
  toProblem,
} from '../../lib/errors.js';
import { send } from '../../lib/http/serve.js';
import type { Logger } from '../../lib/logger.js';
import type { RequestState } from './dispatch.js';

/**
 * The last stage, for every failure of the others: an RFC 9457 problem, logged by what it says
 * about the gateway (a bug is an error, a downstream failure a warning, a client's mistake debug).
 */
export function createProblemWriter(
  logger: Logger,
): (
  res: ServerResponse,
  err: unknown,
  state: Pick<RequestState, 'requestId' | 'path'> & Partial<Pick<RequestState, 'trace'>>,
) => void {
  return (res, err, state) => {
    if (!res.socket || res.socket.destroyed) {
      // The client hung up (mid-body, say): nobody to answer, and no fault of the gateway.
      logger.debug({ request_id: state.requestId, path: state.path }, 'client went away');
      return;
    }
    const problem = toProblem(err, state.path, state.requestId);
    const where = {
      request_id: state.requestId,
      ...(state.trace ? { trace_id: state.trace.traceId } : {}),
      path: state.path,
      code: problem.code,
    };
    if (problem.code === 'GW_ERR_INTERNAL') logger.error({ ...where, err }, problem.detail);
    else if (problem.status >= 500 && !(err instanceof GatewayError && err.expected)) {
      // A downstream failure: what failed is enough, the stack only shows our own client code.
      const cause =
        err instanceof Error && err.cause instanceof Error ? err.cause.message : undefined;
      logger.warn({ ...where, cause }, problem.detail);
    } else logger.debug(where, problem.detail);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    let headers = err instanceof GatewayError ? err.headers : undefined;
    if ((problem.status === 503 || problem.status === 429) && !headers?.['retry-after'])
      headers = { ...headers, 'retry-after': String(DEFAULT_RETRY_AFTER_SECONDS) };
    send(res, problem.status, PROBLEM_CONTENT_TYPE, JSON.stringify(problem), headers);
  };
}
