import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../lib/logger.js';
import { currentTrace } from '../../lib/trace.js';
import type { RequestState } from './dispatch.js';

/**
 * Stage 0, around the others: one line per request at info once its answer is written — method,
 * the operation's route template (ids stay out of it), status, duration, request id, and the
 * owner when one was authenticated; never a body, a header value or a credential. A share
 * `sample` of the lines is kept (ACCESS_LOG_SAMPLE), server errors always.
 */
export function createAccessLog(
  logger: Logger,
  sample: number,
  random: () => number = Math.random,
): (req: IncomingMessage, res: ServerResponse, state: RequestState) => void {
  if (!logger.isLevelEnabled('info')) return () => undefined;
  return (req, res, state) => {
    const started = performance.now();
    const trace = currentTrace();
    res.once('finish', () => {
      if (res.statusCode < 500 && sample < 1 && random() >= sample) return;
      logger.info(
        {
          method: req.method,
          route: state.route ?? null,
          status: res.statusCode,
          duration_ms: Math.round((performance.now() - started) * 100) / 100,
          request_id: state.requestId,
          ...(trace ? { trace_id: trace.traceId } : {}),
          ...(state.identity.owner ? { owner: state.identity.owner } : {}),
        },
        'request',
      );
    });
  };
}
