import { isTerminal } from '../core/lifecycle.js';
import { preferredWait } from '../core/end-waits.js';
import type { Identity } from '../core/identity.js';
import type { TraceContext } from '../lib/trace.js';
import { fromRecord, lookup } from './evaluation-lookup.js';
import type { Deps } from './types.js';
import { statusView } from './views.js';

type StatusView = ReturnType<typeof statusView>;

/**
 * `Prefer: wait=N`: the evaluation's status once it has ended or N seconds have passed. The
 * watch on its end begins before the first read, so an end between the two is not missed.
 * `applied` is the `Preference-Applied` value, undefined when no wait was asked for or allowed
 * (too many requests wait already).
 */
export async function statusAfterWait(
  deps: Deps,
  evalId: string,
  who: Identity,
  trace: TraceContext | undefined,
  prefer: string | string[] | undefined,
): Promise<{ view: StatusView; applied: string | undefined }> {
  const read = async (): Promise<StatusView> => {
    const { stored, record } = await lookup(deps, evalId, who, trace);
    return statusView(stored ?? fromRecord(record!));
  };
  const seconds = preferredWait(prefer);
  const watch = seconds === undefined ? undefined : deps.waits.watch(evalId);
  if (!watch) return { view: await read(), applied: undefined };
  try {
    const now = await read();
    if (isTerminal(now.status)) return { view: now, applied: `wait=${seconds}` };
    const ended = await watch.until(seconds! * 1000);
    return { view: ended ? await read() : now, applied: `wait=${seconds}` };
  } finally {
    watch.stop();
  }
}
