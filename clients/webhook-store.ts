import { Redis } from 'ioredis';
import type { WebhookDoc, WebhookStore } from '../core/ports/webhooks.js';

/** Webhooks and their attempts are kept this long (seconds). */
export const WEBHOOK_KEEP_S = 7 * 24 * 60 * 60;

/**
 * In Redis, under `{prefix}:webhook:`: each webhook as JSON, a batch's evaluations not yet ended
 * as a set, each evaluation's batch, and each owner's disabled URLs.
 */
export function createRedisWebhookStore(url: string, prefix: string): WebhookStore {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, enableAutoPipelining: true });
  redis.on('error', () => undefined); // a failed call says what went wrong
  const k = (s: string): string => `${prefix}:webhook:${s}`;
  const parse = (json: string | null): WebhookDoc | null =>
    json ? (JSON.parse(json) as WebhookDoc) : null;
  return {
    async put(doc) {
      await redis.set(k(doc.key), JSON.stringify(doc), 'EX', WEBHOOK_KEEP_S);
    },
    get: async (key) => parse(await redis.get(k(key))),
    async putBatch(doc, batchId, ids) {
      const m = redis.multi().set(k(doc.key), JSON.stringify(doc), 'EX', WEBHOOK_KEEP_S);
      m.sadd(k(`pending:${batchId}`), ...ids).expire(k(`pending:${batchId}`), WEBHOOK_KEEP_S);
      for (const id of ids) m.set(k(`member:${id}`), batchId, 'EX', WEBHOOK_KEEP_S);
      await m.exec();
    },
    async ended(evalId) {
      const [json, batchId] = await redis.mget(k(`ev:${evalId}`), k(`member:${evalId}`));
      let batchDone: string | undefined;
      if (batchId) {
        // Only the end that removes the last evaluation sees the set empty after removing one.
        const r = await redis
          .multi()
          .srem(k(`pending:${batchId}`), evalId)
          .scard(k(`pending:${batchId}`))
          .exec();
        if (r?.[0]?.[1] === 1 && r[1]?.[1] === 0) batchDone = batchId;
      }
      return { doc: parse(json ?? null), batchDone };
    },
    async disable(owner, url) {
      await redis.sadd(k(`disabled:${owner}`), url);
    },
    isDisabled: async (owner, url) => (await redis.sismember(k(`disabled:${owner}`), url)) === 1,
    close() {
      redis.disconnect();
      return Promise.resolve();
    },
  };
}

/** The same in this process (no Redis): lost when it stops. */
export function createMemoryWebhookStore(): WebhookStore {
  const docs = new Map<string, string>();
  const pending = new Map<string, Set<string>>();
  const member = new Map<string, string>();
  const disabled = new Set<string>();
  return {
    put: (doc) => Promise.resolve(void docs.set(doc.key, JSON.stringify(doc))),
    get: (key) =>
      Promise.resolve(docs.has(key) ? (JSON.parse(docs.get(key)!) as WebhookDoc) : null),
    putBatch(doc, batchId, ids) {
      docs.set(doc.key, JSON.stringify(doc));
      pending.set(batchId, new Set(ids));
      for (const id of ids) member.set(id, batchId);
      return Promise.resolve();
    },
    ended(evalId) {
      const json = docs.get(`ev:${evalId}`);
      const batchId = member.get(evalId);
      const set = batchId ? pending.get(batchId) : undefined;
      const batchDone = set?.delete(evalId) && set.size === 0 ? batchId : undefined;
      return Promise.resolve({ doc: json ? (JSON.parse(json) as WebhookDoc) : null, batchDone });
    },
    disable: (owner, url) => Promise.resolve(void disabled.add(`${owner} ${url}`)),
    isDisabled: (owner, url) => Promise.resolve(disabled.has(`${owner} ${url}`)),
    close: () => Promise.resolve(),
  };
}
