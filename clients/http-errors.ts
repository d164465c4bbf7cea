import { GatewayError } from '../lib/errors.js';

/** How a call ended, for metrics. */
export type CallOutcome = 'ok' | 'unavailable' | 'timeout' | 'bad_gateway' | 'circuit_open';

// Network errors that mean "nobody answered there": the service is down or the name is wrong.
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
]);

/** A call that got no answer within its timeout. */
export class CallTimeout extends Error {
  constructor() {
    super('timed out');
    this.name = 'CallTimeout';
  }
}

/**
 * A failed call as a GatewayError of the catalogue: no answer in time 504, nobody there 503,
 * anything else 502.
 */
export function transportError(name: string, err: unknown): GatewayError {
  if (err instanceof CallTimeout) {
    return new GatewayError('GW_ERR_DOWNSTREAM_TIMEOUT', `${name} did not answer in time`, {
      cause: err,
    });
  }
  const code = (err as { code?: string }).code;
  if (code !== undefined && UNREACHABLE.has(code)) {
    return new GatewayError('GW_ERR_DOWNSTREAM_UNAVAILABLE', `${name} unavailable`, {
      cause: err,
    });
  }
  return new GatewayError('GW_ERR_BAD_GATEWAY', `${name} request failed`, { cause: err });
}

/** How a call ended, for metrics. */
export function outcomeOf(err: unknown): CallOutcome {
  if (!(err instanceof GatewayError)) return 'bad_gateway';
  if (err.expected) return 'circuit_open';
  if (err.code === 'GW_ERR_DOWNSTREAM_TIMEOUT') return 'timeout';
  if (err.code === 'GW_ERR_DOWNSTREAM_UNAVAILABLE') return 'unavailable';
  return 'bad_gateway';
}

/** A service's own `detail`, for the message of a 502. */
export function detailOf(body: unknown): string {
  if (body && typeof body === 'object' && 'detail' in body) {
    const d = body.detail;
    return `: ${typeof d === 'string' ? d : JSON.stringify(d)}`.slice(0, 300);
  }
  return '';
}
