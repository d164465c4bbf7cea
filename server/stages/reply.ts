import type { ServerResponse } from 'node:http';
import { send } from '../../lib/http/serve.js';
import type { AnyReply } from '../../handlers/types.js';

/** Stage 9: the handler's answer on the wire: JSON, or text of its own type (YAML, HTML). */
export function writeReply(res: ServerResponse, reply: AnyReply): void {
  const contentType = reply.contentType ?? 'application/json';
  const payload =
    typeof reply.body === 'string' && contentType !== 'application/json'
      ? reply.body
      : JSON.stringify(reply.body);
  send(
    res,
    reply.status,
    contentType === 'application/json' ? contentType : `${contentType}; charset=utf-8`,
    payload,
    reply.headers,
  );
}
