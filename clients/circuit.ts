import {
  BrokenCircuitError,
  CircuitState,
  SamplingBreaker,
  circuitBreaker,
  handleAll,
} from 'cockatiel';
import type { CircuitBreakerPolicy } from 'cockatiel';
import { GatewayError } from '../lib/errors.js';

/** When a service's circuit opens, and for how long. */
export interface CircuitOptions {
  /** Share (0–1) of calls failing in the window that opens it; 0 turns the breaker off. */
  failureRatio: number;
  windowMs: number;
  /** Fewer calls a second than this never open it (one failure in one call says little). */
  minimumRps: number;
  /** How long it stays open before one call is let through to test the service (half-open). */
  openMs: number;
}

export type CircuitStateName = 'closed' | 'open' | 'half_open' | 'disabled';

const NAMES: Record<CircuitState, CircuitStateName> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half_open',
  [CircuitState.Isolated]: 'open',
};

/**
 * A circuit breaker for one downstream service (cockatiel's, on a sampling window): calls that
 * failed (unreachable, timed out, an error or off-contract answer) over `failureRatio` of those
 * in `windowMs` open it; while open every call is refused at once with a 503 whose Retry-After
 * is the time left; after `openMs` one call tests the service and closes it again, or reopens it.
 */
export class Circuit {
  private readonly policy: CircuitBreakerPolicy | undefined;
  private openedAt = 0;

  constructor(
    private readonly displayName: string,
    private readonly opts: CircuitOptions,
    onChange?: (state: CircuitStateName) => void,
  ) {
    if (opts.failureRatio <= 0) return;
    this.policy = circuitBreaker(handleAll, {
      halfOpenAfter: opts.openMs,
      breaker: new SamplingBreaker({
        threshold: opts.failureRatio,
        duration: opts.windowMs,
        minimumRps: opts.minimumRps,
      }),
    });
    this.policy.onBreak(() => (this.openedAt = Date.now()));
    if (onChange) this.policy.onStateChange((s) => onChange(NAMES[s]));
  }

  get state(): CircuitStateName {
    return this.policy ? NAMES[this.policy.state] : 'disabled';
  }

  /** Runs `fn` through the breaker; a failure it throws counts against the service. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.policy) return fn();
    try {
      return await this.policy.execute(fn);
    } catch (err) {
      if (!(err instanceof BrokenCircuitError)) throw err;
      const left = Math.max(1, Math.ceil((this.openedAt + this.opts.openMs - Date.now()) / 1000));
      throw new GatewayError(
        'GW_ERR_DOWNSTREAM_UNAVAILABLE',
        `${this.displayName} unavailable: its circuit is open after repeated failures`,
        { headers: { 'retry-after': String(left) }, expected: true },
      );
    }
  }
}

/**
 * How many retries the calls to one service may make: one per `callsPerRetry` calls, with up to
 * `burst` saved — so when a service fails, retries add at most a fifth to its load instead of
 * tripling it.
 */
export class RetryBudget {
  // Counted in calls (whole numbers): a retry costs `callsPerRetry` of them.
  private credit: number;
  constructor(
    private readonly callsPerRetry = 5,
    private readonly burst = 10,
  ) {
    this.credit = burst * callsPerRetry;
  }

  earn(): void {
    this.credit = Math.min(this.burst * this.callsPerRetry, this.credit + 1);
  }

  /** Whether a retry may be made now (and spends it). */
  spend(): boolean {
    if (this.credit < this.callsPerRetry) return false;
    this.credit -= this.callsPerRetry;
    return true;
  }
}
