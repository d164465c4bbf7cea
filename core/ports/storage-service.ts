import type { TraceContext } from '../../lib/trace.js';
import type { components } from '../../generated/types/storage.js';

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
  /** Only this owner's evaluations (`metadata.owner`). */
  owner?: string;
}

/** The storage service (`spec/downstream/storage.yaml`). */
/** Calls made for a request take its trace context (`trace`), passed on as `traceparent`. */
export interface StorageService {
  readonly displayUrl: string;
  /** The state of the service's circuit breaker (`disabled` when it has none). */
  readonly circuit: 'closed' | 'open' | 'half_open' | 'disabled';
  /** One evaluation; GW_ERR_EVALUATION_NOT_FOUND when storage has none by that id. */
  get(id: string, trace?: TraceContext): Promise<StoredEvaluation>;
  /** Like get, but null instead of the 404. */
  find(id: string, trace?: TraceContext): Promise<StoredEvaluation | null>;
  list(query: ListQuery, trace?: TraceContext): Promise<EvaluationPage>;
  /** Partial update; 409 from storage (a move the state machine forbids) becomes GW_ERR_EVALUATION_TERMINAL. */
  update(id: string, patch: EvaluationUpdate, trace?: TraceContext): Promise<StoredEvaluation>;
  /** Where the evaluation runs, or null when it does not run. */
  running(id: string, trace?: TraceContext): Promise<RunningInfo | null>;
  statistics(trace?: TraceContext): Promise<StorageStatistics>;
  health(timeoutMs: number): Promise<void>;
  /** For workers: creates the evaluation; false when it exists already. */
  create(e: EvaluationCreate, trace?: TraceContext): Promise<boolean>;
  /** For workers: records where the evaluation runs. */
  markRunning(
    id: string,
    where: { executor_id: string; container_id?: string; job_name?: string },
    trace?: TraceContext,
  ): Promise<void>;
}
