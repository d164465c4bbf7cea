import type { Deps, Handler } from './types.js';
import { recordView } from './views.js';

export function getEvaluation({ storage }: Deps): Handler<'getEvaluation'> {
  return async ({ params }) => ({
    status: 200,
    body: recordView(await storage.get(params.eval_id)),
  });
}
