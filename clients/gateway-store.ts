import type { EvaluationState } from '../lib/lifecycle.js';
import type { QueueBackend } from '../lib/submitter.js';

/** What the gateway itself knows of an evaluation it accepted. */
export interface SubmissionRecord {
  eval_id: string;
  backend: QueueBackend;
  /** The backend's own id of the task (the Bull job id, the queue service's task id). */
  task_id: string;
  status: EvaluationState;
  language: string;
  timeout: number;
  priority: boolean;
  /** The client that submitted it (its API key's fingerprint or address), when known. */
  client: string | null;
  fallback: boolean;
  batch: boolean;
  submitted_at: Date;
}

/** The stored first answer to a request made with an Idempotency-Key. */
export interface IdempotentAnswer {
  status: number;
  body: unknown;
}

export type IdempotencyClaim =
  | { state: 'claimed' }
  | { state: 'pending'; requestHash: string }
  | { state: 'done'; requestHash: string; answer: IdempotentAnswer };

/** The gateway's own record: which backend took each evaluation, and idempotent answers. */
export interface GatewayStore {
  readonly kind: 'postgres' | 'memory';
  record(rec: SubmissionRecord): Promise<void>;
  find(evalId: string): Promise<SubmissionRecord | null>;
  setStatus(evalId: string, status: EvaluationState): Promise<void>;
  /**
   * Claims `key` for a request whose body hashes to `requestHash`, or says what an earlier
   * request with the same key left: still running (`pending`) or its answer (`done`).
   */
  claim(key: string, requestHash: string): Promise<IdempotencyClaim>;
  /** Stores the answer of a claimed request. */
  complete(key: string, answer: IdempotentAnswer): Promise<void>;
  /** Gives a claim up (the request failed in a way a retry may fix). */
  release(key: string): Promise<void>;
  /** Forgets idempotency keys older than the TTL; returns how many. */
  prune(): Promise<number>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Records kept in memory by default; older ones are forgotten first. A record matters from the
 * submit until storage has the evaluation (seconds) and for cancelling it while it waits.
 */
export const MEMORY_RECORDS = 20_000;

export function createMemoryStore(
  ttlHours: number,
  now: () => number = Date.now,
  maxRecords: number = MEMORY_RECORDS,
): GatewayStore {
  const records = new Map<string, SubmissionRecord>();
  const keys = new Map<string, { hash: string; answer?: IdempotentAnswer; at: number }>();
  return {
    kind: 'memory',
    record(rec) {
      if (records.size >= maxRecords && !records.has(rec.eval_id))
        records.delete(records.keys().next().value as string);
      records.set(rec.eval_id, { ...rec });
      return Promise.resolve();
    },
    find(id) {
      const r = records.get(id);
      return Promise.resolve(r ? { ...r } : null);
    },
    setStatus(id, status) {
      const r = records.get(id);
      if (r) r.status = status;
      return Promise.resolve();
    },
    claim(key, hash) {
      const k = keys.get(key);
      if (k && now() - k.at < ttlHours * 3_600_000) {
        return Promise.resolve(
          k.answer
            ? { state: 'done', requestHash: k.hash, answer: k.answer }
            : { state: 'pending', requestHash: k.hash },
        );
      }
      keys.set(key, { hash, at: now() });
      return Promise.resolve({ state: 'claimed' });
    },
    complete(key, answer) {
      const k = keys.get(key);
      if (k) k.answer = answer;
      return Promise.resolve();
    },
    release(key) {
      // Only a claim still in flight is given up; a stored answer stays until it expires.
      if (keys.get(key)?.answer === undefined) keys.delete(key);
      return Promise.resolve();
    },
    prune() {
      let n = 0;
      for (const [key, k] of keys) {
        if (now() - k.at >= ttlHours * 3_600_000) {
          keys.delete(key);
          n++;
        }
      }
      return Promise.resolve(n);
    },
    ping: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}
