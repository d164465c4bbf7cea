import { fromRecord, lookup } from './evaluation-lookup.js';
import type { Deps, Handler } from './types.js';
import { recordView } from './views.js';

export function getEvaluation(deps: Deps): Handler<'getEvaluation'> {
  return async ({ params, identity, trace }) => {
    const { stored, record } = await lookup(deps, params.eval_id, identity, trace);
    return { status: 200, body: recordView(stored ?? fromRecord(record!)) };
  };
}
