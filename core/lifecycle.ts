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

/**
 * The state a lifecycle event (`evaluation:<state>`) means for its evaluation; undefined for a
 * channel that is no state (`evaluation:output`). `completed` also carries results that failed
 * or timed out (other workers send those).
 */
export function stateOfEvent(
  channel: string,
  payload: { status?: string },
): EvaluationState | undefined {
  const s = channel.slice('evaluation:'.length) as EvaluationState;
  if (!(s in MOVES)) return undefined;
  if (s === 'completed' && payload.status && payload.status !== 'completed') return 'failed';
  return s;
}

/** Whether output chunk id `a` comes after `b` (`<ms>-<seq>`, as Redis stream ids compare). */
export function isAfter(a: string, b: string): boolean {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am > bm || (am === bm && as > bs);
}
