import { GatewayError } from '../lib/errors.js';
import { isTerminal } from '../core/lifecycle.js';
import type { QueueBackend } from '../core/evaluation.js';
import { lookup, recordCancelled } from './evaluation-lookup.js';
import type { Deps, Handler } from './types.js';
import type { TraceContext } from '../lib/trace.js';

export function cancelEvaluation(deps: Deps): Handler<'cancelEvaluation'> {
  const { storage, queue, jobQueue, executors } = deps;

  /** Takes a waiting evaluation out of its backend; says whether it was there, or already running. */
  async function dequeue(
    id: string,
    backend: QueueBackend | undefined,
    trace: TraceContext | undefined,
  ): Promise<'removed' | 'active' | 'finished' | 'absent'> {
    const backends: QueueBackend[] = backend
      ? [backend]
      : jobQueue
        ? ['legacy', 'bull']
        : ['legacy'];
    let result: 'removed' | 'active' | 'finished' | 'absent' = 'absent';
    for (const b of backends) {
      if (b === 'legacy') {
        const outcome = await queue.remove(id, trace);
        if (outcome === 'removed') return 'removed';
        if (outcome === 'taken') result = 'active';
      } else if (jobQueue) {
        const outcome = await jobQueue.cancel(id);
        if (outcome === 'removed') return 'removed';
        if (outcome === 'active' || outcome === 'finished') result = outcome;
      }
    }
    return result;
  }

  return async ({ params, query, identity, trace }) => {
    const id = params.eval_id;
    const terminate = query.terminate ?? false;
    const { stored, record } = await lookup(deps, id, identity, trace, true);
    const status = stored?.status ?? record!.status;
    if (isTerminal(status)) {
      throw new GatewayError('GW_ERR_EVALUATION_TERMINAL', `Evaluation ${id} is already ${status}`);
    }
    let message = 'Task cancelled';
    let running = status === 'provisioning' || status === 'running';
    if (!running) {
      const outcome = await dequeue(id, record?.backend, trace);
      if (outcome === 'finished') {
        throw new GatewayError(
          'GW_ERR_EVALUATION_TERMINAL',
          `Evaluation ${id} has already finished`,
        );
      }
      if (outcome === 'removed') message = 'Task removed from the queue and cancelled';
      running = outcome === 'active';
    }
    if (running && terminate) {
      const where = await storage.running(id, trace);
      if (where?.executor_id) {
        try {
          await executors.kill(where.executor_id, id, trace);
        } catch (err) {
          // It stopped by itself between the two calls; the cancellation below still holds.
          if (!(err instanceof GatewayError && err.code === 'GW_ERR_NOT_RUNNING')) throw err;
        }
      }
      message = 'Task forcefully terminated';
    } else if (running) {
      message = 'Cancellation requested; the worker stops the running task';
    }
    await recordCancelled(
      deps,
      id,
      {
        error: 'Cancelled on request',
        reason: terminate ? 'terminated on request' : 'cancelled on request',
        terminate,
        inStorage: stored !== null,
      },
      trace,
    );
    return {
      status: 200,
      body: { eval_id: id, status: 'cancelled', message, previous_status: status },
    };
  };
}
