import type { components } from '../../generated/types/gateway.js';

type S = components['schemas'];
export type WebhookAttempt = S['WebhookAttempt'];
export type WebhookState = S['WebhookDelivery']['state'];

/** One webhook: an evaluation's (`ev:<eval_id>`) or a batch's (`batch:<batch_id>`). */
export interface WebhookDoc {
  key: string;
  url: string;
  owner: string;
  state: WebhookState;
  attempts: WebhookAttempt[];
  next_attempt_at: string | null;
  /** A batch's evaluations. */
  eval_ids?: string[];
}

/** Where webhooks and their attempts are kept (Redis, shared by every gateway; or memory). */
export interface WebhookStore {
  put(doc: WebhookDoc): Promise<void>;
  get(key: string): Promise<WebhookDoc | null>;
  /** Registers a batch: its webhook waits until every one of `evalIds` has ended. */
  putBatch(doc: WebhookDoc, batchId: string, evalIds: string[]): Promise<void>;
  /**
   * What an evaluation's end concerns: its own webhook, and the batch it belongs to when that
   * has one — `batchDone` true for the one caller whose end was the batch's last.
   */
  ended(evalId: string): Promise<{ doc: WebhookDoc | null; batchDone: string | undefined }>;
  /** URLs whose receiver answered 410 Gone, per owner: not called again. */
  disable(owner: string, url: string): Promise<void>;
  isDisabled(owner: string, url: string): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Runs a webhook's attempts: Bull (durable: any gateway takes them, an attempt cut by a gateway's
 * death is made again) or timers in this process.
 */
export interface DeliveryQueue {
  /** Starts delivering `key` (its first attempt, now); starting a key twice starts it once. */
  start(key: string): Promise<void>;
  /** `run` makes attempt `attempt` of `key`; the delay it returns, if any, is the next one's. */
  process(run: (key: string, attempt: number) => Promise<number | undefined>): void;
  close(): Promise<void>;
}

/** One POST to a receiver: its status, or the error that kept it from answering. */
export type WebhookPost = (
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
) => Promise<{ status: number }>;
