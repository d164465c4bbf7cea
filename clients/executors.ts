import type { components } from '../generated/types/executor.js';
import type { ExecutorTarget } from '../lib/config.js';
import { GatewayError } from '../lib/errors.js';
import { DownstreamHttp } from './http.js';
import type { DownstreamOptions } from './http.js';

export type KillAnswer = components['schemas']['KillResult'];

/** The executor services (`spec/downstream/executor.yaml`), found by executor id. */
export interface Executors {
  /** The executors named in the configuration, for health checks. */
  readonly known: readonly ExecutorTarget[];
  /** The URL an executor id maps to: EXECUTOR_URLS first, else EXECUTOR_URL_TEMPLATE. */
  urlOf(executorId: string): string;
  /** Kill an evaluation's process; GW_ERR_NOT_RUNNING when the executor runs nothing by that id. */
  kill(executorId: string, evalId: string): Promise<KillAnswer>;
  health(executorId: string, timeoutMs: number): Promise<void>;
}

export interface ExecutorsOptions extends Omit<DownstreamOptions, 'displayName' | 'baseUrl'> {
  known: readonly ExecutorTarget[];
  urlTemplate: string;
}

// Executor ids come from storage, so they are checked before they become part of a URL.
const EXECUTOR_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export function createExecutors(opts: ExecutorsOptions): Executors {
  const clients = new Map<string, DownstreamHttp>();
  const urlOf = (id: string): string => {
    const named = opts.known.find((e) => e.id === id);
    if (named) return named.url;
    if (!EXECUTOR_ID.test(id)) {
      throw new GatewayError('GW_ERR_BAD_GATEWAY', `Storage named an invalid executor id "${id}"`);
    }
    return opts.urlTemplate.replaceAll('{executor_id}', id);
  };
  const client = (id: string): DownstreamHttp => {
    let c = clients.get(id);
    if (!c) {
      c = new DownstreamHttp({ ...opts, baseUrl: urlOf(id), displayName: `Executor ${id}` });
      clients.set(id, c);
    }
    return c;
  };
  return {
    known: opts.known,
    urlOf,
    async kill(executorId, evalId) {
      const r = await client(executorId).call<KillAnswer>(
        'POST',
        `kill/${encodeURIComponent(evalId)}`,
        { expect: 'executor_KillResult', accept: [404] },
      );
      if (r.status === 404) {
        throw new GatewayError(
          'GW_ERR_NOT_RUNNING',
          `Executor ${executorId} runs no evaluation ${evalId}`,
        );
      }
      return r.body;
    },
    async health(executorId, timeoutMs) {
      await client(executorId).call('GET', 'health', { anonymous: true, timeoutMs, retries: 0 });
    },
  };
}
