import type { components } from '../generated/types/gateway.js';

/** An evaluation as a client submits it. */
export type EvaluationRequest = components['schemas']['EvaluationRequest'];
/** Which queue system holds an evaluation: the legacy queue service, or the job queue (Bull). */
export type QueueBackend = components['schemas']['QueueBackend'];

/** Largest code accepted, in UTF-8 bytes. */
export const MAX_CODE_BYTES = 1024 * 1024;
/** Seconds, when a submission names no timeout. */
export const DEFAULT_TIMEOUT = 30;
/** The language of a submission, task or record that names none. */
export const DEFAULT_LANGUAGE = 'python';
