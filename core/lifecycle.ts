import type { components } from '../generated/types/gateway.js';

export type EvaluationState = components['schemas']['EvaluationState'];

/** The evaluation state machine shared by every service of the platform. */
const MOVES: Record<EvaluationState, readonly EvaluationState[]> = {
  submitted: ['queued', 'failed', 'cancelled'],
  queued: ['provisioning', 'running', 'failed', 'cancelled'],
  provisioning: ['running', 'completed', 'queued', 'failed', 'cancelled'],
  running: ['completed', 'failed', 'cancelled', 'queued', 'provisioning'],
  completed: [],
  failed: [],
  cancelled: [],
};

export const STATES = Object.keys(MOVES) as EvaluationState[];

export function isTerminal(state: EvaluationState): boolean {
  return MOVES[state].length === 0;
}

export function canMove(from: EvaluationState, to: EvaluationState): boolean {
  return MOVES[from].includes(to);
}
