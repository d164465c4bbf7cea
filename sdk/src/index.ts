import createClient from 'openapi-fetch';
import type { Client } from 'openapi-fetch';
import type { components, paths } from './api.js';
import { readEvents } from './events.js';
import type { EvaluationEvent } from './events.js';
import { CrucibleProblem, problemOf } from './problem.js';

export type { components, paths } from './api.js';
export type { EvaluationEvent } from './events.js';
export { CrucibleProblem } from './problem.js';
export type { ErrorCode, ValidationIssue } from './problem.js';

type S = components['schemas'];
export type EvaluationRequest = S['EvaluationRequest'];
export type EvaluationAccepted = S['EvaluationAccepted'];
export type EvaluationStatus = S['EvaluationStatus'];

/** What the SDK needs of a WebSocket: the browser's (and Node ≥ 22's), or the `ws` package's. */
export interface WebSocketLike {
  onmessage: ((m: { data: unknown }) => void) | null;
  onerror: ((e: unknown) => void) | null;
  onclose: ((e: unknown) => void) | null;
  close(): void;
}

export interface CrucibleOptions {
  /** Where the gateway is, e.g. `http://localhost:8080`. */
  baseUrl: string;
  /** An API key (`X-API-Key`), when the gateway requires one. */
  apiKey?: string;
  /** A JWT (`Authorization: Bearer`), instead of a key. */
  token?: string;
  /** The deployment's bootstrap admin key (`X-Admin-Key`), for `api`'s admin operations. */
  adminKey?: string;
  fetch?: typeof fetch;
  /** A WebSocket constructor for `wait`; without one (Node 20) it waits with `Prefer: wait`. */
  WebSocket?: new (url: string) => WebSocketLike;
}

const ENDED = new Set(['completed', 'failed', 'cancelled']);
/** The longest a single `Prefer: wait` may ask (the gateway's limit). */
const LONGEST_WAIT_S = 60;

/**
 * A typed client of Crucible Gateway. `api` is the whole contract (openapi-fetch, typed from
 * spec/openapi.yaml); the methods here are what most callers do with it. Every answer that is not
 * a success throws a `CrucibleProblem`.
 */
export class Crucible {
  readonly api: Client<paths>;
  private readonly headers: Record<string, string>;

  constructor(private readonly opts: CrucibleOptions) {
    this.headers = {
      ...(opts.apiKey ? { 'x-api-key': opts.apiKey } : {}),
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...(opts.adminKey ? { 'x-admin-key': opts.adminKey } : {}),
    };
    this.api = createClient<paths>({
      baseUrl: opts.baseUrl.replace(/\/$/, ''),
      headers: this.headers,
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
    });
  }

  /** Submits code; the gateway answers once a queue holds it. */
  async submit(
    request: EvaluationRequest,
    opts: { idempotencyKey?: string } = {},
  ): Promise<EvaluationAccepted> {
    const headers = opts.idempotencyKey ? { 'idempotency-key': opts.idempotencyKey } : {};
    const { data, error, response } = await this.api.POST('/api/eval', { body: request, headers });
    if (error || response.status !== 202) throw await problemOf(response, error);
    return data as EvaluationAccepted;
  }

  /** The evaluation's status; with `waitSeconds`, once it ends or that time has passed. */
  async status(evalId: string, opts: { waitSeconds?: number } = {}): Promise<EvaluationStatus> {
    const wait = opts.waitSeconds ? Math.min(LONGEST_WAIT_S, Math.ceil(opts.waitSeconds)) : 0;
    const { data, error, response } = await this.api.GET('/api/eval-status/{eval_id}', {
      params: { path: { eval_id: evalId } },
      headers: wait ? { prefer: `wait=${wait}` } : {},
    });
    if (error || !data) throw await problemOf(response, error);
    return data;
  }

  /**
   * The evaluation once it has ended: followed over the WebSocket when there is one, else by
   * status reads that each wait at the gateway (`Prefer: wait`), never by tight polling.
   */
  async wait(evalId: string, opts: { timeoutMs?: number } = {}): Promise<EvaluationStatus> {
    const deadline = Date.now() + (opts.timeoutMs ?? 10 * 60_000);
    if (this.opts.WebSocket) {
      const ended = await this.endOverWebSocket(evalId, deadline).catch(() => false);
      if (ended) return this.status(evalId);
    }
    for (;;) {
      const left = deadline - Date.now();
      const now = await this.status(evalId, { waitSeconds: Math.max(1, left / 1000) });
      if (ENDED.has(now.status) || Date.now() >= deadline) return now;
    }
  }

  /** Submits and waits: the finished evaluation. */
  async run(
    request: EvaluationRequest,
    opts: { timeoutMs?: number } = {},
  ): Promise<EvaluationStatus> {
    return this.wait((await this.submit(request)).eval_id, opts);
  }

  /**
   * The evaluation's events as it runs — `status`, each `output` chunk, `end` — from its
   * Server-Sent Events stream. A dropped stream is resumed after the last chunk (`Last-Event-ID`):
   * no chunk is lost or repeated.
   */
  async *events(
    evalId: string,
    opts: { signal?: AbortSignal } = {},
  ): AsyncGenerator<EvaluationEvent> {
    const doFetch = this.opts.fetch ?? fetch;
    let last: string | undefined;
    for (let tries = 0; tries < 5; tries++) {
      const url = `${this.opts.baseUrl.replace(/\/$/, '')}/api/eval/${encodeURIComponent(evalId)}/events`;
      const response = await doFetch(url, {
        headers: {
          ...this.headers,
          accept: 'text/event-stream',
          ...(last ? { 'last-event-id': last } : {}),
        },
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      if (response.status !== 200 || !response.body) throw await problemOf(response);
      try {
        for await (const event of readEvents(response.body)) {
          if (event.event === 'output') last = event.id;
          yield event;
          if (event.event === 'end') return;
        }
      } catch (err) {
        if (opts.signal?.aborted) throw err;
      }
    }
    throw new Error(`the event stream of ${evalId} kept dropping`);
  }

  /** Cancels it; `terminate` also kills its process if it runs. */
  async cancel(evalId: string, opts: { terminate?: boolean } = {}): Promise<void> {
    const { error, response } = await this.api.POST('/api/eval/{eval_id}/cancel', {
      params: { path: { eval_id: evalId }, query: { terminate: opts.terminate ?? false } },
    });
    if (error) throw await problemOf(response, error);
  }

  /** Resolves true once a WebSocket message says the evaluation ended; rejects on trouble. */
  private endOverWebSocket(evalId: string, deadline: number): Promise<boolean> {
    const base = this.opts.baseUrl.replace(/^http/, 'ws').replace(/\/$/, '');
    const key = this.opts.apiKey ? `&api_key=${encodeURIComponent(this.opts.apiKey)}` : '';
    const ws = new this.opts.WebSocket!(`${base}/ws?eval_id=${encodeURIComponent(evalId)}${key}`);
    return new Promise<boolean>((resolve, reject) => {
      const timer = setTimeout(
        () => finish(() => resolve(false)),
        Math.max(0, deadline - Date.now()),
      );
      const finish = (then: () => void): void => {
        clearTimeout(timer);
        ws.onmessage = ws.onerror = ws.onclose = null;
        ws.close();
        then();
      };
      ws.onmessage = (m) => {
        const msg = JSON.parse(String(m.data)) as {
          type: string;
          eval_id?: string;
          status?: string;
          code?: string;
        };
        if (msg.type === 'error' && msg.eval_id === evalId)
          finish(() =>
            reject(
              new CrucibleProblem(
                { code: msg.code as never, detail: 'WebSocket refused the subscription' },
                404,
              ),
            ),
          );
        else if (
          (msg.type === 'snapshot' || msg.type === 'event') &&
          msg.eval_id === evalId &&
          ENDED.has(msg.status ?? '')
        )
          finish(() => resolve(true));
      };
      ws.onerror = (e) =>
        finish(() => reject(e instanceof Error ? e : new Error('WebSocket error')));
      ws.onclose = () => finish(() => reject(new Error('WebSocket closed')));
    });
  }
}
