import type { components } from '../generated/types/gateway.js';

/** An evaluation as a client submits it. */
export type EvaluationRequest = components['schemas']['EvaluationRequest'];
/** A submission with its defaults filled in (`engine`, accepted for old clients, is dropped). */
export type Submission = Required<Omit<EvaluationRequest, 'engine'>>;
/** Which queue system holds an evaluation: the legacy queue service, or the job queue (Bull). */
export type QueueBackend = components['schemas']['QueueBackend'];

/** Largest code accepted, in UTF-8 bytes. */
export const MAX_CODE_BYTES = 1024 * 1024;
/** Seconds, when a submission names no timeout. */
export const DEFAULT_TIMEOUT = 30;
/** The language of a submission, task or record that names none. */
export const DEFAULT_LANGUAGE = 'python';
/** One test case of a submission. */
export type TestCase = components['schemas']['TestCase'];
/** An extra file of a submission, and a submission's own limits. */
export type ExtraFile = components['schemas']['ExtraFile'];
export type RunLimits = components['schemas']['RunLimits'];

/**
 * How long a run may take at most: its timeout, once per test case. A queue's lease and the
 * reconciler's patience with a running evaluation are this plus their grace.
 */
export function runBudgetMs(e: { timeout: number; test_cases?: unknown[] }): number {
  return e.timeout * 1000 * Math.max(1, e.test_cases?.length ?? 0);
}
