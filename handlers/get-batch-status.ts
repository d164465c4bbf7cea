import { GatewayError } from '../lib/errors.js';
import { mapConcurrent } from '../lib/concurrency.js';
import { isAdmin, mayAccess } from '../core/identity.js';
import { isTerminal } from '../core/lifecycle.js';
import { fromRecord } from './evaluation-lookup.js';
import type { Deps, Handler } from './types.js';
import { statusView } from './views.js';

/** Storage reads made at once for one batch. */
const READS_AT_ONCE = 8;

/**
 * `GET /api/eval-batch/{batch_id}`: the gateway's records of the batch (which evaluations, in
 * which order, whose), each shown as storage has it, or as the record says before storage does.
 */
export function getBatchStatus(deps: Deps): Handler<'getBatchStatus'> {
  return async ({ params, identity, trace }) => {
    const records = await deps.ledger.inBatch(params.batch_id);
    // Another owner's batch is as unknown as a missing one.
    if (
      !records.length ||
      (!isAdmin(identity) && !records.every((r) => mayAccess(identity, r.owner)))
    )
      throw new GatewayError(
        'GW_ERR_EVALUATION_NOT_FOUND',
        `No batch has the id ${params.batch_id}`,
      );
    const evaluations = await mapConcurrent(records, READS_AT_ONCE, async (r) =>
      statusView((await deps.storage.find(r.eval_id, trace)) ?? fromRecord(r)),
    );
    return {
      status: 200,
      body: {
        batch_id: params.batch_id,
        total: evaluations.length,
        ended: evaluations.filter((e) => isTerminal(e.status)).length,
        evaluations,
      },
    };
  };
}
