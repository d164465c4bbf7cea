import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../lib/logger.js';
import type { RequestState } from './dispatch.js';

/** What the access log writes about one answered request. */
export type AccessLine = (
  req: IncomingMessage,
  res: ServerResponse,
  state: RequestState,
  ms: number,
) => void;

/**
 * Stage 0, around the others: one line per request at info once its answer is written — method,
 * the operation's route template (ids stay out of it), status, duration, request id, trace id,
 * and the owner when one was authenticated; never a body, a header value or a credential. A share
 * `sample` of the lines is kept (ACCESS_LOG_SAMPLE), server errors always. Undefined when info is
 * not logged, so that nothing is done per request then.
 */
export function createAccessLog(
  logger: Logger,
  sample: number,
  random: () => number = Math.random,
): AccessLine | undefined {
  if (!logger.isLevelEnabled('info')) return undefined;
  return (req, res, state, ms) => {
    if (res.statusCode < 500 && sample < 1 && random() >= sample) return;
    logger.info(
      {
        method: req.method,
        route: state.route ?? null,
        status: res.statusCode,
        duration_ms: Math.round(ms * 100) / 100,
        request_id: state.requestId,
        ...(state.trace ? { trace_id: state.trace.traceId } : {}),
        ...(state.identity.owner ? { owner: state.identity.owner } : {}),
      },
      'request',
    );
  };
}
