import { fromRecord, lookup } from './evaluation-lookup.js';
import type { Deps, Handler } from './types.js';
import { statusView } from './views.js';
import { statusAfterWait } from './wait-for-end.js';

export function getEvaluationStatus(deps: Deps): Handler<'getEvaluationStatus'> {
  return async ({ params, identity, trace, headers }) => {
    if (headers.prefer === undefined) {
      const { stored, record } = await lookup(deps, params.eval_id, identity, trace);
      return { status: 200, body: statusView(stored ?? fromRecord(record!)) };
    }
    const { view, applied } = await statusAfterWait(
      deps,
      params.eval_id,
      identity,
      trace,
      headers.prefer,
    );
    return {
      status: 200,
      body: view,
      ...(applied ? { headers: { 'preference-applied': applied } } : {}),
    };
  };
}
