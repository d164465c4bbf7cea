import type { components } from '../generated/types/storage.js';
import { GatewayError } from '../lib/errors.js';
import { isTerminal } from '../lib/lifecycle.js';
import { DownstreamHttp } from './http.js';
import type { DownstreamOptions } from './http.js';

export type StoredEvaluation = components['schemas']['Evaluation'];
export type EvaluationPage = components['schemas']['EvaluationPage'];
export type EvaluationUpdate = components['schemas']['EvaluationUpdate'];
export type RunningInfo = components['schemas']['RunningInfo'];
export type StorageStatistics = components['schemas']['Statistics'];
export type EvaluationStateName = components['schemas']['EvaluationState'];
export type EvaluationCreate = components['schemas']['EvaluationCreate'];

export interface ListQuery {
  limit: number;
  offset: number;
  status?: EvaluationStateName;
  language?: string;
}

/** The storage service (`spec/downstream/storage.yaml`). */
export interface StorageService {
  readonly displayUrl: string;
  /** One evaluation; GW_ERR_EVALUATION_NOT_FOUND when storage has none by that id. */
  get(id: string): Promise<StoredEvaluation>;
  /** Like get, but null instead of the 404. */
  find(id: string): Promise<StoredEvaluation | null>;
  list(query: ListQuery): Promise<EvaluationPage>;
  /** Partial update; 409 from storage (a move the state machine forbids) becomes GW_ERR_EVALUATION_TERMINAL. */
  update(id: string, patch: EvaluationUpdate): Promise<StoredEvaluation>;
  /** Where the evaluation runs, or null when it does not run. */
  running(id: string): Promise<RunningInfo | null>;
  statistics(): Promise<StorageStatistics>;
  health(timeoutMs: number): Promise<void>;
  /** For workers: creates the evaluation; false when it exists already. */
  create(e: EvaluationCreate): Promise<boolean>;
  /** For workers: records where the evaluation runs. */
  markRunning(
    id: string,
    where: { executor_id: string; container_id?: string; job_name?: string },
  ): Promise<void>;
}

export interface StorageOptions extends Omit<DownstreamOptions, 'displayName'> {
  /** Keep terminal evaluations in memory (`ENABLE_CACHING`); they never change again. */
  cacheTerminal?: number;
}

const notFound = (id: string): GatewayError =>
  new GatewayError('GW_ERR_EVALUATION_NOT_FOUND', `No evaluation has the id ${id}`);

export function createStorageService(opts: StorageOptions): StorageService {
  const http = new DownstreamHttp({ ...opts, displayName: 'Storage service' });
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

  const find = async (id: string): Promise<StoredEvaluation | null> => {
    const hit = cache.get(id);
    if (hit) return hit;
    const r = await http.call<StoredEvaluation>('GET', path(id), {
      expect: 'storage_Evaluation',
      accept: [404],
    });
    return r.status === 404 ? null : remember(r.body);
  };

  return {
    displayUrl: http.displayUrl,
    find,
    async get(id) {
      const e = await find(id);
      if (!e) throw notFound(id);
      return e;
    },
    async list(q) {
      const r = await http.call<EvaluationPage>('GET', 'evaluations', {
        searchParams: { ...q, sort_by: 'created_at', sort_order: 'desc' },
        expect: 'storage_EvaluationPage',
      });
      return r.body;
    },
    async update(id, patch) {
      const r = await http.call<StoredEvaluation>('PUT', path(id), {
        json: patch,
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
    async running(id) {
      const r = await http.call<RunningInfo>('GET', `${path(id)}/running`, {
        expect: 'storage_RunningInfo',
        accept: [404],
      });
      return r.status === 404 ? null : r.body;
    },
    async statistics() {
      return (
        await http.call<StorageStatistics>('GET', 'statistics', { expect: 'storage_Statistics' })
      ).body;
    },
    async health(timeoutMs) {
      await http.call('GET', 'health', { anonymous: true, timeoutMs, retries: 0 });
    },
    async create(e) {
      const r = await http.call('POST', 'evaluations', {
        json: e,
        expect: 'storage_Evaluation',
        accept: [409],
      });
      return r.status !== 409;
    },
    async markRunning(id, where) {
      const r = await http.call('POST', `${path(id)}/running`, {
        searchParams: where,
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
