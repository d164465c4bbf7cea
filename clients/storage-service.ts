import { GatewayError } from '../lib/errors.js';
import { isTerminal } from '../core/lifecycle.js';
import { DownstreamHttp } from './http.js';
import type { TraceContext } from '../lib/trace.js';
import type { DownstreamOptions } from './http.js';
import type {
  EvaluationPage,
  RunningInfo,
  StorageService,
  StorageStatistics,
  StoredEvaluation,
} from '../core/ports/storage-service.js';
export type {
  EvaluationCreate,
  EvaluationPage,
  EvaluationStateName,
  EvaluationUpdate,
  ListQuery,
  RunningInfo,
  StorageService,
  StorageStatistics,
  StoredEvaluation,
} from '../core/ports/storage-service.js';

export interface StorageOptions extends Omit<DownstreamOptions, 'displayName' | 'service'> {
  /** Keep terminal evaluations in memory (`ENABLE_CACHING`); they never change again. */
  cacheTerminal?: number;
}

const notFound = (id: string): GatewayError =>
  new GatewayError('GW_ERR_EVALUATION_NOT_FOUND', `No evaluation has the id ${id}`);

export function createStorageService(opts: StorageOptions): StorageService {
  const http = new DownstreamHttp({ ...opts, displayName: 'Storage service', service: 'storage' });
  const cacheSize = opts.cacheTerminal ?? 0;
  const cache = new Map<string, StoredEvaluation>();
  const remember = (e: StoredEvaluation): StoredEvaluation => {
    if (cacheSize > 0 && isTerminal(e.status)) {
      if (cache.size >= cacheSize) cache.delete(cache.keys().next().value as string);
      cache.set(e.id, e);
    }
    return e;
  };
  const path = (id: string): string => `evaluations/${encodeURIComponent(id)}`;

  const find = async (id: string, trace?: TraceContext): Promise<StoredEvaluation | null> => {
    const hit = cache.get(id);
    if (hit) return hit;
    const r = await http.call<StoredEvaluation>('GET', path(id), {
      expect: 'storage_Evaluation',
      accept: [404],
      trace,
    });
    return r.status === 404 ? null : remember(r.body);
  };

  return {
    displayUrl: http.displayUrl,
    get circuit() {
      return http.circuitState;
    },
    find,
    async get(id, trace) {
      const e = await find(id, trace);
      if (!e) throw notFound(id);
      return e;
    },
    async list(q, trace) {
      const r = await http.call<EvaluationPage>('GET', 'evaluations', {
        searchParams: { ...q, sort_by: 'created_at', sort_order: 'desc' },
        trace,
        expect: 'storage_EvaluationPage',
      });
      return r.body;
    },
    async update(id, patch, trace) {
      const r = await http.call<StoredEvaluation>('PUT', path(id), {
        json: patch,
        trace,
        expect: 'storage_Evaluation',
        accept: [404, 409],
      });
      if (r.status === 404) throw notFound(id);
      if (r.status === 409) {
        throw new GatewayError(
          'GW_ERR_EVALUATION_TERMINAL',
          `Storage refused the change of ${id}: the evaluation has already finished`,
        );
      }
      return remember(r.body);
    },
    async running(id, trace) {
      const r = await http.call<RunningInfo>('GET', `${path(id)}/running`, {
        expect: 'storage_RunningInfo',
        trace,
        accept: [404],
      });
      return r.status === 404 ? null : r.body;
    },
    async statistics(trace) {
      return (
        await http.call<StorageStatistics>('GET', 'statistics', {
          expect: 'storage_Statistics',
          trace,
        })
      ).body;
    },
    async health(timeoutMs) {
      await http.call('GET', 'health', { anonymous: true, timeoutMs, retries: 0 });
    },
    async create(e, trace) {
      const r = await http.call('POST', 'evaluations', {
        json: e,
        trace,
        expect: 'storage_Evaluation',
        accept: [409],
      });
      return r.status !== 409;
    },
    async markRunning(id, where, trace) {
      const r = await http.call('POST', `${path(id)}/running`, {
        searchParams: where,
        trace,
        accept: [404, 409],
      });
      if (r.status === 404) throw notFound(id);
      if (r.status === 409)
        throw new GatewayError(
          'GW_ERR_EVALUATION_TERMINAL',
          `Evaluation ${id} has already finished`,
        );
    },
  };
}
