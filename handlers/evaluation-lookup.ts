import type { StoredEvaluation } from '../clients/storage-service.js';
import type { SubmissionRecord } from '../clients/ledger.js';
import { GatewayError, isGatewayError } from '../lib/errors.js';
import type { Deps } from './types.js';
import { isAdmin, mayAccess } from '../core/identity.js';
import type { Identity } from '../core/identity.js';
import type { TraceContext } from '../lib/trace.js';

/** What is known of an evaluation: storage's record, else the gateway's own from submit time. */
export interface Known {
  stored: StoredEvaluation | null;
  record: SubmissionRecord | null;
}

/**
 * The gateway's record of `id`, or null. The record is an aid (status between submit and the
 * storage write, the backend for cancel), so when the ledger is down this answers null.
 */
export async function findRecord(
  { ledger, logger }: Deps,
  id: string,
): Promise<SubmissionRecord | null> {
  try {
    return await ledger.find(id);
  } catch (err) {
    logger.warn(
      { eval_id: id, err: isGatewayError(err) ? err.message : err },
      'gateway ledger read failed',
    );
    return null;
  }
}

const notFound = (id: string): GatewayError =>
  new GatewayError('GW_ERR_EVALUATION_NOT_FOUND', `No evaluation has the id ${id}`);

/**
 * Storage first; the gateway's record only when storage has nothing yet, or always when
 * `withRecord` (cancel needs the backend it names) or when the caller is not an admin (the
 * record says whose it is). 404 when neither has it, and when it is another owner's: a caller
 * cannot even learn that the id exists.
 */
export async function lookup(
  deps: Deps,
  id: string,
  who: Identity,
  trace: TraceContext | undefined,
  withRecord = false,
): Promise<Known> {
  const checkOwner = !isAdmin(who);
  const stored = await deps.storage.find(id, trace);
  const record = stored && !withRecord && !checkOwner ? null : await findRecord(deps, id);
  if (!stored && !record) throw notFound(id);
  if (checkOwner && !mayAccess(who, record?.owner)) throw notFound(id);
  return { stored, record };
}

/** 404 unless `who` may act on the evaluation (its owner, or an admin). */
export async function assertAccess(deps: Deps, id: string, who: Identity): Promise<void> {
  if (isAdmin(who)) return;
  const record = await findRecord(deps, id);
  if (!mayAccess(who, record?.owner)) throw notFound(id);
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

/**
 * Records an evaluation cancelled — in storage when it is there, in the gateway's record — and
 * announces it: workers hear `evaluation:cancelled` too, which is how a running job learns it.
 */
export async function recordCancelled(
  deps: Deps,
  id: string,
  how: { error: string; reason: string; terminate: boolean; inStorage: boolean },
  trace: TraceContext | undefined,
): Promise<void> {
  if (how.inStorage)
    await deps.storage.update(id, { status: 'cancelled', error: how.error }, trace);
  await noteStatus(deps, id, 'cancelled');
  await deps.events.publish('evaluation:cancelled', {
    eval_id: id,
    reason: how.reason,
    terminate: how.terminate,
  });
}

/** Keeps the gateway's record in step with a status change; a failure is logged, not raised. */
export async function noteStatus(
  deps: Deps,
  id: string,
  status: StoredEvaluation['status'],
): Promise<void> {
  try {
    await deps.ledger.setStatus(id, status);
  } catch (err) {
    deps.logger.warn(
      { eval_id: id, err: isGatewayError(err) ? err.message : err },
      'gateway ledger write failed',
    );
  }
}
