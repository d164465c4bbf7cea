import type { EvaluationState } from '../lifecycle.js';
import type { ExtraFile, QueueBackend, RunLimits, TestCase } from '../evaluation.js';

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
  /** Whose it is: the owner of the key that submitted it (null before owners existed). */
  owner: string | null;
  fallback: boolean;
  batch: boolean;
  submitted_at: Date;
  /** The source, kept so that the reconciler can queue the evaluation again if a backend loses it. */
  code: string;
  /** Its standard input ('' for none), kept with the code for the same reason. */
  stdin: string;
  /** Its command-line arguments ([] for none). */
  args: string[];
  /** Its test cases ([] for none). */
  test_cases: TestCase[];
  /** Where its webhook goes (null: none), so that a webhook lost with Redis is sent anyway. */
  callback_url: string | null;
  /** The batch it came in, and its place there (null: submitted alone). */
  batch_id: string | null;
  batch_index: number | null;
  /** Its extra files ([] for none) and its own limits ({} for the deployment's). */
  files: ExtraFile[];
  limits: RunLimits;
  /** How many times the reconciler queued it again. */
  requeues: number;
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

/**
 * The gateway's ledger, its own record (PostgreSQL or memory): which backend took each evaluation
 * it accepted, and the answers of requests made with an Idempotency-Key. Not the storage service.
 */
export interface Ledger {
  readonly kind: 'postgres' | 'memory';
  record(rec: SubmissionRecord): Promise<void>;
  find(evalId: string): Promise<SubmissionRecord | null>;
  /** The records of one batch, in submit order ([] for an unknown batch). */
  inBatch(batchId: string): Promise<SubmissionRecord[]>;
  setStatus(evalId: string, status: EvaluationState): Promise<void>;
  /**
   * Unfinished records (submitted, queued, provisioning, running) nobody has looked at for
   * `olderThanMs`, oldest first: the reconciler's work list.
   */
  stale(olderThanMs: number, limit: number): Promise<SubmissionRecord[]>;
  /** The reconciler looked at the record: it leaves `stale` for a while; `requeued` counts one. */
  touch(evalId: string, requeued: boolean): Promise<void>;
  /** Whether this process is the one that reconciles (PostgreSQL: holds an advisory lock). */
  lead(): Promise<boolean>;
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
