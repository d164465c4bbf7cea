import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { GatewayError, PROBLEM_CONTENT_TYPE, toProblem } from '../../lib/errors.js';
import type { ErrorCode } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import type { createProblemWriter } from './problem.js';

// What node's HTTP parser and timers report, as the catalogue names it.
const CLIENT_ERRORS: Record<string, ErrorCode> = {
  HPE_HEADER_OVERFLOW: 'GW_ERR_HEADERS_TOO_LARGE',
  ERR_HTTP_REQUEST_TIMEOUT: 'GW_ERR_REQUEST_TIMEOUT',
};
// A client that went away: nothing to answer and nothing wrong with the gateway.
const GONE = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

/**
 * Stage 0, below the others: what node refuses before a request exists (bytes HTTP forbids, too
 * many headers, a request that never finished) is answered as a problem too, where the socket
 * still takes an answer, and the connection closed; an `Expect` other than 100-continue gets a
 * 417 problem. Clients that hang up are logged at debug.
 */
export function attachTransportGuards(
  server: http.Server,
  problem: ReturnType<typeof createProblemWriter>,
  logger: Logger,
): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const code = err.code ?? '';
    if (GONE.has(code) || !socket.writable) {
      logger.debug({ code }, 'client went away');
      socket.destroy();
      return;
    }
    const e = new GatewayError(
      CLIENT_ERRORS[code] ?? 'GW_ERR_BAD_REQUEST',
      code === 'HPE_HEADER_OVERFLOW'
        ? 'The request headers are larger than 16 KiB'
        : code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? 'The request was not sent in time'
          : 'The request is not valid HTTP',
    );
    logger.debug({ code, err: err.message }, e.message);
    const body = JSON.stringify(toProblem(e));
    socket.end(
      `HTTP/1.1 ${e.status} ${toProblem(e).title}\r\n` +
        `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Connection: close\r\n\r\n${body}`,
    );
  });
  server.on('checkExpectation', (req: http.IncomingMessage, res: http.ServerResponse) => {
    res.setHeader('connection', 'close');
    problem(
      res,
      new GatewayError(
        'GW_ERR_EXPECTATION_FAILED',
        `Expect: ${req.headers.expect ?? ''} is not supported; only 100-continue is`,
      ),
      { requestId: String(res.getHeader('x-request-id') ?? ''), path: req.url ?? '/' },
    );
  });
}
