import type { ExecutorTarget } from '../lib/config.js';
import { GatewayError } from '../lib/errors.js';
import { DownstreamHttp } from './http.js';
import type { DownstreamOptions } from './http.js';
import type { Executors, KillAnswer, LanguagesAnswer } from '../core/ports/executors.js';
export type { Executors, KillAnswer } from '../core/ports/executors.js';

export interface ExecutorsOptions extends Omit<
  DownstreamOptions,
  'displayName' | 'baseUrl' | 'service'
> {
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
      c = new DownstreamHttp({
        ...opts,
        baseUrl: urlOf(id),
        displayName: `Executor ${id}`,
        service: 'executor',
      });
      clients.set(id, c);
    }
    return c;
  };
  return {
    known: opts.known,
    urlOf,
    circuits: () =>
      Object.fromEntries([...clients].map(([id, c]) => [`executor:${id}`, c.circuitState])),
    async kill(executorId, evalId, trace) {
      const r = await client(executorId).call<KillAnswer>(
        'POST',
        `kill/${encodeURIComponent(evalId)}`,
        { expect: 'executor_KillResult', accept: [404], trace },
      );
      if (r.status === 404) {
        throw new GatewayError(
          'GW_ERR_NOT_RUNNING',
          `Executor ${executorId} runs no evaluation ${evalId}`,
        );
      }
      return r.body;
    },
    async languages(executorId) {
      const r = await client(executorId).call<LanguagesAnswer>('GET', 'languages', {
        expect: 'executor_Languages',
        timeoutMs: 2000,
        retries: 0,
      });
      return r.body;
    },
    async health(executorId, timeoutMs) {
      await client(executorId).call('GET', 'health', { anonymous: true, timeoutMs, retries: 0 });
    },
  };
}
