import { Redis } from 'ioredis';

/**
 * Resolves once the client's first connection attempt has ended (ready or failed), or after
 * `ms`. Callers that fail fast while Redis is down use it so that a call made just after start
 * is not refused only because the connection is still being opened; a reconnect is not waited for.
 */
export function firstConnect(client: Redis, ms: number): Promise<void> {
  if (client.status !== 'wait' && client.status !== 'connecting' && client.status !== 'connect') {
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      client.off('ready', done);
      client.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    client.once('ready', done);
    client.once('close', done);
  });
}

/** How long a call made during the very first connect may wait for it. */
export const FIRST_CONNECT_WAIT_MS = 1000;

/** Deletes every key under `prefix:` (a test's or a benchmark's own job queue). */
export async function deleteRedisPrefix(redisUrl: string, prefix: string): Promise<void> {
  const r = new Redis(redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await r.del(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
}
