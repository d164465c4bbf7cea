import { createHash } from 'node:crypto';
import { GatewayError } from '../lib/errors.js';
import type { Ledger } from './ports/ledger.js';
import type { AnyReply } from '../lib/operation-types.js';

/** JSON with object keys sorted, so the same body hashes the same whatever its key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Runs `run` at most once per Idempotency-Key (per client and operation): a repeat with the same
 * body gets the first answer again, marked `Idempotent-Replayed: true`; a repeat with another
 * body is refused (422); a repeat while the first is running gets 409. A first attempt that
 * fails is forgotten, so a retry runs again.
 */
export async function idempotent(
  ledger: Ledger,
  key: string | undefined,
  scope: string,
  body: unknown,
  run: () => Promise<AnyReply>,
): Promise<AnyReply> {
  if (key === undefined) return run();
  const scoped = `${scope}:${key}`;
  const hash = createHash('sha256').update(canonicalJson(body)).digest('hex');
  const claim = await ledger.claim(scoped, hash);
  if (claim.state !== 'claimed') {
    if (claim.requestHash !== hash) {
      throw new GatewayError(
        'GW_ERR_IDEMPOTENCY_MISMATCH',
        'This Idempotency-Key was used with a different request body',
      );
    }
    if (claim.state === 'pending') {
      throw new GatewayError(
        'GW_ERR_IDEMPOTENCY_IN_PROGRESS',
        'A request with this Idempotency-Key is still being processed',
      );
    }
    return {
      status: claim.answer.status,
      body: claim.answer.body,
      headers: { 'idempotent-replayed': 'true' },
    };
  }
  let reply: AnyReply;
  try {
    reply = await run();
  } catch (err) {
    await ledger.release(scoped).catch(() => undefined);
    throw err;
  }
  await ledger.complete(scoped, { status: reply.status, body: reply.body });
  return reply;
}
