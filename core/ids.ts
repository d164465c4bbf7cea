import { randomHex } from '../lib/random.js';

const pad = (n: number): string => (n < 10 ? '0' : '') + n;

/**
 * A new evaluation id: `eval_YYYYMMDD_HHMMSS_<12 hex>` in UTC. The time prefix keeps ids sortable
 * by submit time to the second; 48 random bits keep them unique at any realistic submit rate.
 */
export function newEvalId(now: Date = new Date()): string {
  const date = `${now.getUTCFullYear()}${pad(now.getUTCMonth() + 1)}${pad(now.getUTCDate())}`;
  const time = `${pad(now.getUTCHours())}${pad(now.getUTCMinutes())}${pad(now.getUTCSeconds())}`;
  return `eval_${date}_${time}_${randomHex(6)}`;
}

export const EVAL_ID_PATTERN = /^eval_\d{8}_\d{6}_[0-9a-f]{12}$/;

/** A batch's id: `batch_` and 24 random hex digits. */
export function newBatchId(): string {
  return `batch_${randomHex(12)}`;
}
