import type { Ledger, IdempotentAnswer, SubmissionRecord } from '../core/ports/ledger.js';
export type {
  Ledger,
  IdempotencyClaim,
  IdempotentAnswer,
  SubmissionRecord,
} from '../core/ports/ledger.js';

/**
 * Records kept in memory by default; older ones are forgotten first. A record matters from the
 * submit until storage has the evaluation (seconds), for cancelling it while it waits, and for
 * queueing it again if its backend loses it (which needs its code: hence a byte budget too).
 */
export const MEMORY_RECORDS = 20_000;
export const MEMORY_CODE_BYTES = 256 * 1024 * 1024;

const UNFINISHED = new Set(['submitted', 'queued', 'provisioning', 'running']);

export function createMemoryLedger(
  ttlHours: number,
  now: () => number = Date.now,
  maxRecords: number = MEMORY_RECORDS,
  maxCodeBytes: number = MEMORY_CODE_BYTES,
): Ledger {
  const records = new Map<string, { rec: SubmissionRecord; touched: number; bytes: number }>();
  // Insertion order kept apart: asking a busy Map for its oldest key walks past every deleted
  // entry still in its table, which cost 4% of a submit's CPU at 7,000 submits a second.
  let order: string[] = [];
  let head = 0;
  let codeBytes = 0;
  const evictOldest = (): void => {
    const id = order[head++]!;
    const gone = records.get(id);
    if (gone) codeBytes -= gone.bytes;
    records.delete(id);
    if (head > 4096 && head * 2 > order.length) {
      order = order.slice(head);
      head = 0;
    }
  };
  const keys = new Map<string, { hash: string; answer?: IdempotentAnswer; at: number }>();
  return {
    kind: 'memory',
    record(rec) {
      const cases = rec.test_cases.reduce(
        (n, c) => n + (c.stdin?.length ?? 0) + (c.expected_output?.length ?? 0),
        0,
      );
      const files = rec.files.reduce((n, f) => n + f.name.length + f.content.length, 0);
      const bytes =
        (rec.code.length + rec.stdin.length + rec.args.join('').length + cases + files) * 2;
      const known = records.get(rec.eval_id);
      if (known) codeBytes -= known.bytes;
      else {
        order.push(rec.eval_id);
        while (order.length - head > maxRecords) evictOldest();
      }
      codeBytes += bytes;
      records.set(rec.eval_id, { rec: { ...rec }, touched: now(), bytes });
      while (codeBytes > maxCodeBytes && order.length - head > 1) evictOldest();
      return Promise.resolve();
    },
    find(id) {
      const r = records.get(id);
      return Promise.resolve(r ? { ...r.rec } : null);
    },
    inBatch(batchId) {
      const found = [...records.values()]
        .filter((r) => r.rec.batch_id === batchId)
        .map((r) => ({ ...r.rec }));
      return Promise.resolve(found.sort((a, b) => (a.batch_index ?? 0) - (b.batch_index ?? 0)));
    },
    setStatus(id, status) {
      const r = records.get(id);
      if (r) {
        r.rec.status = status;
        r.touched = now();
      }
      return Promise.resolve();
    },
    stale(olderThanMs, limit) {
      const due: { rec: SubmissionRecord; touched: number }[] = [];
      const before = now() - olderThanMs;
      for (const r of records.values())
        if (UNFINISHED.has(r.rec.status) && r.touched <= before) due.push(r);
      due.sort((a, b) => a.touched - b.touched);
      return Promise.resolve(due.slice(0, limit).map((r) => ({ ...r.rec })));
    },
    touch(id, requeued) {
      const r = records.get(id);
      if (r) {
        r.touched = now();
        if (requeued) r.rec.requeues++;
      }
      return Promise.resolve();
    },
    lead: () => Promise.resolve(true),
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
