import type { Deps, Handler } from './types.js';
import { statusAfterWait } from './wait-for-end.js';

export function getEvaluationStatus(deps: Deps): Handler<'getEvaluationStatus'> {
  return async ({ params, identity, trace, headers }) => {
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
