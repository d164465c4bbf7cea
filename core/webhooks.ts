import type { Logger } from '../lib/logger.js';
import { ownerSecret, webhookSignature } from '../lib/webhook-signing.js';
import type { EventBus } from './ports/event-bus.js';
import type { DeliveryQueue, WebhookDoc, WebhookPost, WebhookStore } from './ports/webhooks.js';

export interface WebhookSettings {
  /** The master secret every owner's `whsec_` secret is derived from. */
  secret: string;
  maxAttempts: number;
  /** The first retry's delay; each later one doubles it (with jitter), up to an hour. */
  retryMs: number;
  timeoutMs: number;
}

export interface WebhooksDeps {
  store: WebhookStore;
  queue: DeliveryQueue;
  post: WebhookPost;
  /** The body's `type` and `data` for a webhook, as the receiver gets it; null: gone. */
  render(doc: WebhookDoc): Promise<{ type: string; data: unknown } | null>;
  events: EventBus;
  logger: Logger;
  settings: WebhookSettings;
  random?: () => number;
}

const ENDS = new Set(['evaluation:completed', 'evaluation:failed', 'evaluation:cancelled']);
const MAX_DELAY_MS = 60 * 60 * 1000;

const waiting = (key: string, url: string, owner: string): WebhookDoc => ({
  key,
  url,
  owner,
  state: 'waiting',
  attempts: [],
  next_attempt_at: null,
});

/**
 * Webhooks: registered on submit, started when the evaluation (or every evaluation of a batch)
 * ends, attempted through the delivery queue — signed per Standard Webhooks, retried with
 * exponential backoff and full jitter, stopped by 410 — with each attempt recorded.
 *
 * A gateway hears the ends of the evaluations it registered (it follows the bus only while it
 * has some); an end nobody heard (a gateway restarted) reaches `ended` through the reconciler,
 * which finds every accepted evaluation's end in storage. Scheduling and claiming make each
 * attempt run once, however many gateways hear the end.
 */
export class Webhooks {
  private readonly mine = new Set<string>();
  /** Attempts this gateway made, by how they ended (`/metrics`). */
  readonly figures = { delivered: 0, retried: 0, failed: 0, disabled: 0 };
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly deps: WebhooksDeps) {}

  start(): void {
    this.deps.queue.process((key, attempt) => this.attempt(key, attempt));
  }

  /** A webhook and its attempts; null when there is none by that key. */
  get(key: string): Promise<WebhookDoc | null> {
    return this.deps.store.get(key);
  }

  secretFor(owner: string): string {
    return ownerSecret(this.deps.settings.secret, owner);
  }

  async register(evalId: string, url: string, owner: string): Promise<void> {
    await this.deps.store.put(waiting(`ev:${evalId}`, url, owner));
    this.follow([evalId]);
  }

  async registerBatch(batchId: string, url: string, owner: string, ids: string[]): Promise<void> {
    const doc = { ...waiting(`batch:${batchId}`, url, owner), eval_ids: ids };
    await this.deps.store.putBatch(doc, batchId, ids);
    this.follow(ids);
  }

  private follow(ids: string[]): void {
    for (const id of ids) this.mine.add(id);
    this.unsubscribe ??= this.deps.events.subscribe((channel, payload) => {
      const id = (payload as { eval_id?: string }).eval_id;
      if (!ENDS.has(channel) || !id || !this.mine.delete(id)) return;
      if (this.mine.size === 0) this.stopFollowing();
      this.ended(id).catch((err: unknown) =>
        this.deps.logger.warn({ err, eval_id: id }, 'webhook not started; the reconciler will'),
      );
    });
  }

  private stopFollowing(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  /**
   * An evaluation ended: its webhook, and its batch's when it was the batch's last, are started.
   * `fallback`: the webhook the gateway's own record names, registered again if it was lost.
   */
  async ended(evalId: string, fallback?: { url: string; owner: string }): Promise<void> {
    const { store } = this.deps;
    const { doc, batchDone } = await store.ended(evalId);
    let own = doc;
    if (!own && fallback)
      await store.put((own = waiting(`ev:${evalId}`, fallback.url, fallback.owner)));
    if (own?.state === 'waiting') await this.begin(own);
    if (batchDone) {
      const batch = await store.get(`batch:${batchDone}`);
      if (batch?.state === 'waiting') await this.begin(batch);
    }
  }

  private async begin(doc: WebhookDoc): Promise<void> {
    doc.state = 'pending';
    doc.next_attempt_at = new Date().toISOString();
    await this.deps.store.put(doc);
    await this.deps.queue.start(doc.key);
  }

  /** Full jitter over an exponential delay: uniform in [0.5, 1.5) × retryMs × 2^(n-1). */
  backoffMs(attempt: number): number {
    const base = Math.min(MAX_DELAY_MS, this.deps.settings.retryMs * 2 ** (attempt - 1));
    return Math.round(base * (0.5 + (this.deps.random ?? Math.random)()));
  }

  /** One attempt, recorded; the delay before the next when it failed and attempts are left. */
  async attempt(key: string, n: number): Promise<number | undefined> {
    const { store, settings, post } = this.deps;
    const doc = await store.get(key);
    if (!doc || doc.state !== 'pending') return undefined;
    if (await store.isDisabled(doc.owner, doc.url)) {
      await store.put({ ...doc, state: 'disabled', next_attempt_at: null });
      return undefined;
    }
    const at = new Date();
    const started = performance.now();
    let status: number | null = null;
    let error: string | null = null;
    try {
      const rendered = await this.deps.render(doc);
      if (!rendered) throw new Error('the evaluation could not be read');
      const body = JSON.stringify({ ...rendered, timestamp: at.toISOString() });
      const id = `msg_${key.replace(':', '_')}`;
      const timestamp = Math.floor(at.getTime() / 1000);
      status = (
        await post(
          doc.url,
          {
            'content-type': 'application/json',
            'user-agent': 'crucible-gateway-webhooks',
            'webhook-id': id,
            'webhook-timestamp': String(timestamp),
            'webhook-signature': webhookSignature(this.secretFor(doc.owner), id, timestamp, body),
          },
          body,
          settings.timeoutMs,
        )
      ).status;
      if (status < 200 || status > 299) error = `the receiver answered ${status}`;
    } catch (err) {
      error = (err as Error).message;
    }
    doc.attempts.push({
      attempt: n,
      at: at.toISOString(),
      status_code: status,
      error,
      duration_ms: Math.round(performance.now() - started),
    });
    doc.next_attempt_at = null;
    const outcome = !error
      ? 'delivered'
      : status === 410
        ? 'disabled'
        : n >= settings.maxAttempts
          ? 'failed'
          : 'retried';
    this.figures[outcome]++;
    if (!error) doc.state = 'delivered';
    else if (status === 410) {
      doc.state = 'disabled';
      await store.disable(doc.owner, doc.url);
    } else if (n >= settings.maxAttempts) doc.state = 'failed';
    else {
      const delay = this.backoffMs(n);
      doc.next_attempt_at = new Date(Date.now() + delay).toISOString();
      await store.put(doc);
      return delay;
    }
    await store.put(doc);
    if (doc.state !== 'delivered')
      this.deps.logger.warn({ webhook: key, state: doc.state, error }, 'webhook not delivered');
    return undefined;
  }

  async close(): Promise<void> {
    this.stopFollowing();
    await this.deps.queue.close();
    await this.deps.store.close();
  }
}
