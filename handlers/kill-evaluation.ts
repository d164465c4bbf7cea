import { GatewayError } from '../lib/errors.js';
import { assertAccess, recordCancelled } from './evaluation-lookup.js';
import type { Deps, Handler } from './types.js';

export function killEvaluation(deps: Deps): Handler<'killEvaluation'> {
  const { storage, executors } = deps;
  return async ({ params, identity, trace }) => {
    const id = params.eval_id;
    await assertAccess(deps, id, identity);
    const running = await storage.running(id, trace);
    if (!running) {
      const e = await storage.get(id, trace);
      throw new GatewayError(
        'GW_ERR_NOT_RUNNING',
        `Evaluation ${id} is not running (it is ${e.status})`,
      );
    }
    if (!running.executor_id) {
      throw new GatewayError(
        'GW_ERR_NOT_RUNNING',
        `Storage records no executor for evaluation ${id}`,
      );
    }
    const answer = await executors.kill(running.executor_id, id, trace);
    if (answer.success) {
      try {
        await recordCancelled(
          deps,
          id,
          {
            error: 'Killed on request',
            reason: 'killed on request',
            terminate: true,
            inStorage: true,
          },
          trace,
        );
      } catch (err) {
        // Finished on its own just before the kill landed: its own final state stands.
        if (!(err instanceof GatewayError && err.code === 'GW_ERR_EVALUATION_TERMINAL')) throw err;
      }
    }
    return {
      status: 200,
      body: {
        eval_id: id,
        success: answer.success,
        message: answer.message,
        executor_id: running.executor_id,
      },
    };
  };
}
