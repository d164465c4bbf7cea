import type { ServerResponse } from 'node:http';
import { send } from '../../lib/http/serve.js';
import { pipeStream } from '../../lib/http/reply-stream.js';
import type { ReplyStream } from '../../lib/http/reply-stream.js';
import type { AnyReply } from '../../handlers/types.js';

const isStream = (body: unknown): body is ReplyStream =>
  typeof (body as ReplyStream | undefined)?.next === 'function';

/**
 * Stage 9: the handler's answer on the wire: JSON, text of its own type (YAML, HTML), or an event
 * stream written as it comes. Streams still open are ended by `closeStreams` (shutdown).
 */
export function createReplyWriter(): {
  write(res: ServerResponse, reply: AnyReply): void;
  closeStreams(): void;
} {
  const open = new Set<ReplyStream>();
  return {
    write(res, reply) {
      const contentType = reply.contentType ?? 'application/json';
      if (isStream(reply.body)) {
        const stream = reply.body;
        open.add(stream);
        void pipeStream(res, reply.status, `${contentType}; charset=utf-8`, stream, reply.headers)
          .catch(() => res.destroy())
          .finally(() => open.delete(stream));
        return;
      }
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
    },
    closeStreams() {
      for (const s of open) s.close();
    },
  };
}
