import type { IncomingMessage, ServerResponse } from 'node:http';
import { header } from '../../lib/http/body.js';

/**
 * Stage 2: CORS for `origins` (`*` for any). Sets the headers an allowed origin gets; answers a
 * preflight itself (returns true: nothing else is to be done for the request).
 */
export function createCors(
  origins: readonly string[],
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const any = origins.includes('*');
  return (req, res) => {
    const origin = header(req, 'origin');
    if (!origin) return false;
    if (any) res.setHeader('access-control-allow-origin', '*');
    else if (origins.includes(origin)) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('vary', 'Origin');
    } else return false;
    res.setHeader(
      'access-control-expose-headers',
      'x-request-id, retry-after, location, preference-applied, idempotent-replayed',
    );
    if (req.method === 'OPTIONS' && header(req, 'access-control-request-method')) {
      res.setHeader('access-control-allow-methods', 'GET, POST, PATCH, OPTIONS');
      res.setHeader(
        'access-control-allow-headers',
        'content-type, x-api-key, x-admin-key, x-request-id, idempotency-key',
      );
      res.setHeader('access-control-max-age', '600');
      res.statusCode = 204;
      res.end();
      return true;
    }
    return false;
  };
}
