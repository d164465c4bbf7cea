import { fromRecord, lookup } from './evaluation-lookup.js';
import type { Deps, Handler } from './types.js';
import { statusView } from './views.js';

export function getEvaluationStatus(deps: Deps): Handler<'getEvaluationStatus'> {
  return async ({ params, identity, trace }) => {
    const { stored, record } = await lookup(deps, params.eval_id, identity, trace);
    return { status: 200, body: statusView(stored ?? fromRecord(record!)) };
  };
}
