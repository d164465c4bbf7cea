import { GatewayError } from '../lib/errors.js';
import type { Identity } from '../core/identity.js';
import type { EvaluationStateName } from '../core/ports/storage-service.js';
import type { Deps } from './types.js';
import type { TraceContext } from '../lib/trace.js';

const UNFINISHED: EvaluationStateName[] = ['submitted', 'queued', 'provisioning', 'running'];

/**
 * A key's concurrent-evaluations quota (`max_concurrent`): 429 `GW_ERR_QUOTA_EXCEEDED` when its
 * owner's unfinished evaluations in storage, plus `adding`, would pass it. Storage learns of a
 * submit from its queued event, so two submits in the same instant can both pass: the quota
 * bounds sustained use, not each millisecond.
 */
export async function assertQuota(
  deps: Deps,
  who: Identity,
  adding: number,
  trace: TraceContext | undefined,
): Promise<void> {
  const quota = who.maxConcurrent;
  if (!quota) return;
  const pages = await Promise.all(
    UNFINISHED.map((status) =>
      deps.storage.list({ limit: 1, offset: 0, status, owner: who.owner }, trace),
    ),
  );
  const busy = pages.reduce((n, p) => n + p.total, 0);
  if (busy + adding > quota) {
    throw new GatewayError(
      'GW_ERR_QUOTA_EXCEEDED',
      `${busy} of ${quota} evaluations allowed at once are unfinished; this would make ${busy + adding}`,
      { headers: { 'retry-after': '5' } },
    );
  }
}
