import { randomHex } from './random.js';

/** A W3C trace context (https://www.w3.org/TR/trace-context/): the trace and this span. */
export interface TraceContext {
  traceId: string;
  spanId: string;
  flags: string;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/**
 * The context of a request: the caller's trace (from a valid `traceparent`) with a new span of
 * the gateway's own, or a new trace when the caller sent none or an invalid one.
 */
export function traceFrom(header: string | undefined): TraceContext {
  const m = TRACEPARENT.exec(header?.trim().toLowerCase() ?? '');
  const spanId = randomHex(8);
  if (m && m[1] !== ZERO_TRACE && m[2] !== ZERO_SPAN)
    return { traceId: m[1]!, spanId, flags: m[3]! };
  return { traceId: randomHex(16), spanId, flags: '01' };
}

export const traceparent = (t: TraceContext): string => `00-${t.traceId}-${t.spanId}-${t.flags}`;
