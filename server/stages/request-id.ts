import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { header } from '../../lib/http/body.js';

/** A client's X-Request-Id is echoed only when it is a plain token. */
const REQUEST_ID = /^[\w.:@-]{1,128}$/;

/** Stage 1: the request's id — the client's when it is a plain token, else a new one — echoed. */
export function requestId(req: IncomingMessage, res: ServerResponse): string {
  const given = header(req, 'x-request-id');
  const id = given !== undefined && REQUEST_ID.test(given) ? given : randomUUID();
  res.setHeader('x-request-id', id);
  return id;
}
