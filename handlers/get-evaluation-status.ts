import type { Deps, Handler } from './types.js';
import { statusView } from './views.js';

export function getEvaluationStatus({ storage }: Deps): Handler<'getEvaluationStatus'> {
  return async ({ params }) => ({
    status: 200,
    body: statusView(await storage.get(params.eval_id)),
  });
}
