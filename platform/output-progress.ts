import type { StorageService } from '../clients/storage-service.js';
import type { TraceContext } from '../lib/trace.js';
import type { LocalExecutor } from './local-executor.js';

/** How often a running evaluation's output so far is written to storage (when it grew). */
export const PROGRESS_MS = 1000;

/**
 * Writes what a running evaluation has printed to storage every `ms` while it grows, so that a
 * status read shows the output so far. Returns the stop: call it before the final write. A write
 * that fails (storage away, the evaluation cancelled meanwhile) is left for the next round or the
 * final write.
 */
export function followOutput(
  storage: StorageService,
  executor: LocalExecutor,
  evalId: string,
  trace: TraceContext | undefined,
  ms = PROGRESS_MS,
): () => void {
  let written = { output: '', error: '' };
  let busy = false;
  const timer = setInterval(() => {
    const now = executor.peek(evalId);
    if (busy || !now || (now.output === written.output && now.error === written.error)) return;
    busy = true;
    storage
      .update(evalId, now, trace)
      .then(() => (written = now))
      .catch(() => undefined)
      .finally(() => (busy = false));
  }, ms);
  timer.unref();
  return () => clearInterval(timer);
}
