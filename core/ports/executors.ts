import type { TraceContext } from '../../lib/trace.js';
import type { components } from '../../generated/types/executor.js';
import type { ExecutorTarget } from '../../lib/config.js';

export type KillAnswer = components['schemas']['KillResult'];
export type LanguagesAnswer = components['schemas']['Languages'];

/** The executor services (`spec/downstream/executor.yaml`), found by executor id. */
export interface Executors {
  /** The executors named in the configuration, for health checks. */
  readonly known: readonly ExecutorTarget[];
  /** The URL an executor id maps to: EXECUTOR_URLS first, else EXECUTOR_URL_TEMPLATE. */
  urlOf(executorId: string): string;
  /** The circuit state of each executor called so far, as `executor:<id>`. */
  circuits(): Record<string, 'closed' | 'open' | 'half_open' | 'disabled'>;
  /** Kill an evaluation's process; GW_ERR_NOT_RUNNING when the executor runs nothing by that id. */
  kill(executorId: string, evalId: string, trace?: TraceContext): Promise<KillAnswer>;
  /** The languages an executor runs, with their runtime versions. */
  languages(executorId: string): Promise<LanguagesAnswer>;
  health(executorId: string, timeoutMs: number): Promise<void>;
}
