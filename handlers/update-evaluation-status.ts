import { GatewayError } from '../lib/errors.js';
import { canMove, isTerminal } from '../core/lifecycle.js';
import { noteStatus } from './evaluation-lookup.js';
import type { Deps, Handler } from './types.js';
import { statusView } from './views.js';

export function updateEvaluationStatus(deps: Deps): Handler<'updateEvaluationStatus'> {
  const { storage, events } = deps;
  return async ({ params, body, trace }) => {
    const id = params.eval_id;
    const to = body.status;
    const current = await storage.get(id, trace);
    if (isTerminal(current.status)) {
      throw new GatewayError(
        'GW_ERR_EVALUATION_TERMINAL',
        `Evaluation ${id} is already ${current.status}`,
      );
    }
    if (!canMove(current.status, to)) {
      throw new GatewayError(
        'GW_ERR_INVALID_TRANSITION',
        `Evaluation ${id} cannot move from ${current.status} to ${to}`,
      );
    }
    const reason = body.reason;
    const updated = await storage.update(
      id,
      {
        status: to,
        ...(reason !== undefined && to !== 'completed' ? { error: reason } : {}),
        metadata: {
          ...(current.metadata ?? {}),
          status_set_by: 'admin',
          ...(reason ? { status_reason: reason } : {}),
        },
      },
      trace,
    );
    await noteStatus(deps, id, to);
    const view = statusView(updated);
    if (to === 'completed') {
      await events.publish('evaluation:completed', {
        eval_id: id,
        status: 'completed',
        output: view.output ?? '',
        error: view.error ?? '',
        ...(view.exit_code !== null && view.exit_code !== undefined
          ? { exit_code: view.exit_code }
          : {}),
        completed_at: view.completed_at ?? new Date().toISOString(),
      });
    } else if (to === 'failed') {
      await events.publish('evaluation:failed', {
        eval_id: id,
        error: reason ?? 'Marked failed by an operator',
        failed_at: 'admin',
      });
    } else {
      await events.publish('evaluation:cancelled', {
        eval_id: id,
        reason: reason ?? 'cancelled by an operator',
      });
    }
    return { status: 200, body: view };
  };
}
