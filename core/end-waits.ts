import type { Channel, EventBus } from './ports/event-bus.js';

const ENDS = new Set<Channel>([
  'evaluation:completed',
  'evaluation:failed',
  'evaluation:cancelled',
]);
/** The most a client may ask to wait (`Prefer: wait=N`). */
export const MAX_WAIT_SECONDS = 60;

/** A watch on one evaluation's end, taken before what might end it (a submit, a read). */
export interface EndWatch {
  /** Resolves true once the evaluation has ended (or had already, since the watch began), false after `ms`. */
  until(ms: number): Promise<boolean>;
  stop(): void;
}

/**
 * Waits for evaluations to end, for `Prefer: wait=N`: one subscription to the event bus (every
 * gateway hears every lifecycle event), a map from id to the requests waiting on it. At most
 * `max` requests wait at once; past that `watch` answers undefined and the request is answered
 * at once, without `Preference-Applied`.
 */
export class EndWaits {
  private readonly watches = new Map<string, Set<() => void>>();
  private size = 0;
  private unsubscribe: (() => void) | undefined;
  private readonly wakers = new Set<() => void>();
  private closed = false;

  constructor(
    private readonly events: EventBus,
    private readonly max = 10_000,
  ) {}

  get waiting(): number {
    return this.size;
  }

  /** Ends every wait now (shutdown): each request is answered with what is known. */
  close(): void {
    this.closed = true;
    for (const wake of [...this.wakers]) wake();
  }

  watch(evalId: string): EndWatch | undefined {
    if (this.closed || this.size >= this.max) return undefined;
    this.unsubscribe ??= this.events.subscribe((channel, payload) => {
      if (!ENDS.has(channel)) return;
      const id = (payload as { eval_id?: string }).eval_id;
      const set = id === undefined ? undefined : this.watches.get(id);
      if (set) for (const ended of set) ended();
    });
    let ended = false;
    let wake: (() => void) | undefined;
    const onEnd = (): void => {
      ended = true;
      wake?.();
    };
    const set = this.watches.get(evalId) ?? new Set();
    set.add(onEnd);
    this.watches.set(evalId, set);
    this.size++;
    let stopped = false;
    const stop = (): void => {
      if (stopped) return;
      stopped = true;
      this.size--;
      set.delete(onEnd);
      if (set.size === 0) this.watches.delete(evalId);
      if (this.size === 0) {
        this.unsubscribe?.();
        this.unsubscribe = undefined;
      }
    };
    return {
      until: (ms) =>
        ended
          ? Promise.resolve(true)
          : new Promise<boolean>((resolve) => {
              const done = (ended: boolean): void => {
                clearTimeout(timer);
                this.wakers.delete(giveUp);
                resolve(ended);
              };
              const giveUp = (): void => done(false);
              const timer = setTimeout(giveUp, ms);
              this.wakers.add(giveUp);
              wake = () => done(true);
            }),
      stop,
    };
  }
}

/** The seconds of a `Prefer: wait=N` header (at most MAX_WAIT_SECONDS), or undefined. */
export function preferredWait(header: string | string[] | undefined): number | undefined {
  const text = Array.isArray(header) ? header.join(',') : header;
  const m = text === undefined ? null : /(?:^|[,;\s])wait\s*=\s*"?(\d{1,6})"?/i.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]);
  return n > 0 ? Math.min(n, MAX_WAIT_SECONDS) : undefined;
}
