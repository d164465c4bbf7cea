import type { StoredEvaluation } from '../clients/storage-service.js';
import type { SubmissionRecord } from '../clients/gateway-store.js';
import { GatewayError, isGatewayError } from '../lib/errors.js';
import type { Deps } from './types.js';

/** What is known of an evaluation: storage's record, else the gateway's own from submit time. */
export interface Known {
  stored: StoredEvaluation | null;
  record: SubmissionRecord | null;
}

/**
 * The gateway's record of `id`, or null. The record is an aid (status between submit and the
 * storage write, the backend for cancel), so when the store is down this answers null.
 */
export async function findRecord(
  { store, logger }: Deps,
  id: string,
): Promise<SubmissionRecord | null> {
  try {
    return await store.find(id);
  } catch (err) {
    logger.warn(
      { eval_id: id, err: isGatewayError(err) ? err.message : err },
      'gateway store read failed',
    );
    return null;
  }
}

/** Storage first; the gateway's record only when storage has nothing yet. 404 when neither has it. */
export async function lookup(deps: Deps, id: string): Promise<Known> {
  const stored = await deps.storage.find(id);
  const record = stored ? null : await findRecord(deps, id);
  if (!stored && !record)
    throw new GatewayError('GW_ERR_EVALUATION_NOT_FOUND', `No evaluation has the id ${id}`);
  return { stored, record };
}

/** The record as a storage Evaluation: what a client sees before the storage write. */
export function fromRecord(r: SubmissionRecord): StoredEvaluation {
  return {
    id: r.eval_id,
    status: r.status,
    language: r.language,
    created_at: r.submitted_at.toISOString(),
    code: null,
    output: null,
    error: null,
    metadata: {
      backend: r.backend,
      timeout: r.timeout,
      priority: r.priority,
      ...(r.batch ? { batch: true } : {}),
    },
  };
}

/** Keeps the gateway's record in step with a status change; a failure is logged, not raised. */
export async function noteStatus(
  deps: Deps,
  id: string,
  status: StoredEvaluation['status'],
): Promise<void> {
  try {
    await deps.store.setStatus(id, status);
  } catch (err) {
    deps.logger.warn(
      { eval_id: id, err: isGatewayError(err) ? err.message : err },
      'gateway store write failed',
    );
  }
}
