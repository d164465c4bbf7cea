import type { Redis } from 'ioredis';
import type { OutputEvent } from '../core/ports/event-bus.js';
import { isAfter } from '../core/lifecycle.js';

/** How long an evaluation's chunks are kept after its last one. */
export const OUTPUT_KEEP_MS = 60 * 60 * 1000;
/** At most this many chunks kept per evaluation (about: Redis trims whole nodes). */
export const OUTPUT_KEEP_CHUNKS = 4096;

const key = (evalId: string): string => `crucible:output:${evalId}`;

// Keeps the chunk in the evaluation's stream and publishes it with the id the stream gave it,
// in one step, so that a follower who reads the stream and then listens misses nothing.
const KEEP_AND_PUBLISH = `
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'm', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local m = cjson.decode(ARGV[4])
m['id'] = id
redis.call('PUBLISH', ARGV[3], cjson.encode(m))
return id`;

interface WithKeep extends Redis {
  keepOutput(key: string, max: number, ttl: number, channel: string, json: string): Promise<string>;
}

/** Output chunks kept in a Redis stream per evaluation and published on `evaluation:output`. */
export function redisOutputHistory(pub: Redis): {
  keep(evalId: string, message: string): Promise<unknown>;
  since(evalId: string, after?: string): Promise<OutputEvent[]>;
} {
  const redis = pub as WithKeep;
  redis.defineCommand('keepOutput', { numberOfKeys: 1, lua: KEEP_AND_PUBLISH });
  return {
    keep: (evalId, message) =>
      redis.keepOutput(
        key(evalId),
        OUTPUT_KEEP_CHUNKS,
        OUTPUT_KEEP_MS,
        'evaluation:output',
        message,
      ),
    async since(evalId, after) {
      const entries = await redis.xrange(key(evalId), after ? `(${after}` : '-', '+');
      return entries.map(([id, fields]) => ({
        ...(JSON.parse(fields[1] ?? '{}') as OutputEvent),
        id,
      }));
    },
  };
}

/** The same within one process (no Redis): chunks kept in memory, ids made as Redis makes them. */
export function memoryOutputHistory(): {
  keep(chunk: OutputEvent): OutputEvent;
  since(evalId: string, after?: string): OutputEvent[];
} {
  const kept = new Map<string, { chunks: OutputEvent[]; timer: NodeJS.Timeout }>();
  let lastMs = 0;
  let seq = 0;
  const nextId = (): string => {
    const now = Date.now();
    if (now > lastMs) [lastMs, seq] = [now, 0];
    else seq++;
    return `${lastMs}-${seq}`;
  };
  return {
    keep(chunk) {
      const withId = { ...chunk, id: nextId() };
      let entry = kept.get(chunk.eval_id);
      if (entry) clearTimeout(entry.timer);
      else kept.set(chunk.eval_id, (entry = { chunks: [], timer: undefined! }));
      entry.chunks.push(withId);
      if (entry.chunks.length > OUTPUT_KEEP_CHUNKS) entry.chunks.shift();
      entry.timer = setTimeout(() => kept.delete(chunk.eval_id), OUTPUT_KEEP_MS);
      entry.timer.unref();
      return withId;
    },
    since(evalId, after) {
      const chunks = kept.get(evalId)?.chunks ?? [];
      return after ? chunks.filter((c) => isAfter(c.id!, after)) : [...chunks];
    },
  };
}
