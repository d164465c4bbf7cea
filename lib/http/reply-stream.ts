import type { ServerResponse } from 'node:http';

/**
 * An answer written piece by piece (Server-Sent Events): `next` gives the next piece, null when
 * the answer is complete; `close` ends it early (the client went away, the gateway stops) and
 * makes a pending `next` give null.
 */
export interface ReplyStream {
  next(): Promise<string | null>;
  close(): void;
}

/** Writes a stream's pieces as they come, waiting while the client reads slower than they come. */
export async function pipeStream(
  res: ServerResponse,
  status: number,
  contentType: string,
  stream: ReplyStream,
  headers?: Record<string, string>,
): Promise<void> {
  res.statusCode = status;
  res.setHeader('content-type', contentType);
  // Not stored, and not held back by a buffering proxy (nginx honours X-Accel-Buffering).
  res.setHeader('cache-control', 'no-store');
  res.setHeader('x-accel-buffering', 'no');
  if (headers) for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.flushHeaders();
  const gone = (): void => stream.close();
  res.once('close', gone);
  try {
    for (let piece = await stream.next(); piece !== null; piece = await stream.next()) {
      if (res.destroyed) break;
      if (!res.write(piece))
        await new Promise<void>((resolve) => {
          // Whichever comes first; the other listener goes too, or a slow client collects them.
          const done = (): void => {
            res.off('drain', done);
            res.off('close', done);
            resolve();
          };
          res.once('drain', done);
          res.once('close', done);
        });
    }
  } finally {
    res.off('close', gone);
    stream.close();
    res.end();
  }
}
