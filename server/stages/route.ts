import { GatewayError } from '../../lib/errors.js';
import type { Match, Router } from '../../lib/http/router.js';

/** Stage 3: the one match of a request to an operation of the spec; 404, or 405 with `Allow`. */
export function createRoute(
  router: Router,
): (method: string, path: string) => Extract<Match, { kind: 'found' }> {
  return (method, path) => {
    const match = router.match(method === 'HEAD' ? 'GET' : method, path);
    if (match.kind === 'none')
      throw new GatewayError('GW_ERR_NOT_FOUND', `No operation at ${path}`);
    if (match.kind === 'method') {
      throw new GatewayError(
        'GW_ERR_METHOD_NOT_ALLOWED',
        `${method} is not allowed on ${path}; use ${match.allow.join(', ')}`,
        { headers: { allow: match.allow.join(', ') } },
      );
    }
    if (match.undecodable !== undefined) {
      const name = match.undecodable;
      throw new GatewayError('GW_ERR_BAD_REQUEST', `The path is not valid percent-encoding`, {
        errors: [{ in: 'path', pointer: `/${name}`, message: 'is not valid percent-encoding' }],
      });
    }
    return match;
  };
}
