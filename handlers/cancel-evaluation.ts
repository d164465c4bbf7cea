import { GatewayError } from '../lib/errors.js';
import { isTerminal } from '../lib/lifecycle.js';
import type { Deps, Handler } from './types.js';

export function cancelEvaluation({
  storage,
  queue,
  executors,
  events,
}: Deps): Handler<'cancelEvaluation'> {
  return async ({ params, query }) => {
    const id = params.eval_id;
    const current = await storage.get(id);
    if (isTerminal(current.status)) {
      throw new GatewayError(
        'GW_ERR_EVALUATION_TERMINAL',
        `Evaluation ${id} is already ${current.status}`,
      );
    }
    let message = 'Task cancelled';
    if (current.status === 'submitted' || current.status === 'queued') {
      const outcome = await queue.remove(id);
      if (outcome === 'removed') message = 'Task removed from the queue and cancelled';
    } else if (query.terminate) {
      const running = await storage.running(id);
      if (running?.executor_id) {
        try {
          await executors.kill(running.executor_id, id);
        } catch (err) {
          // It stopped by itself between the two calls; the cancellation below still holds.
          if (!(err instanceof GatewayError && err.code === 'GW_ERR_NOT_RUNNING')) throw err;
        }
      }
      message = 'Task forcefully terminated';
    }
    await storage.update(id, { status: 'cancelled', error: 'Cancelled on request' });
    await events.publish('evaluation:cancelled', {
      eval_id: id,
      reason: query.terminate ? 'terminated on request' : 'cancelled on request',
    });
    return {
      status: 200,
      body: { eval_id: id, status: 'cancelled', message, previous_status: current.status },
    };
  };
}
