import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** How far a signed request's time may be from the receiver's clock, either way. */
export const SIGNATURE_MAX_AGE_S = 300;
export const SIGNATURE_HEADER = 'x-crucible-signature';

const EMPTY_DIGEST = createHash('sha256').update('').digest('hex');

function mac(
  key: string,
  method: string,
  target: string,
  at: number,
  body?: string | Buffer,
): string {
  const digest = body?.length ? createHash('sha256').update(body).digest('hex') : EMPTY_DIGEST;
  return createHmac('sha256', key)
    .update(`${method.toUpperCase()}\n${target}\n${at}\n${digest}`)
    .digest('hex');
}

/**
 * The signature of an internal call: HMAC-SHA256 with the shared key over the method, the path
 * with its query, the time (Unix seconds) and the SHA-256 of the body; sent as
 * `X-Crucible-Signature: t=<seconds>,v1=<hex>`.
 */
export function signRequest(
  key: string,
  method: string,
  target: string,
  body?: string | Buffer,
  now = Date.now(),
): string {
  const at = Math.floor(now / 1000);
  return `t=${at},v1=${mac(key, method, target, at, body)}`;
}

/** Why a signature is refused, or null when it is good (fresh, and over exactly this request). */
export function checkSignature(
  key: string,
  header: string | undefined,
  method: string,
  target: string,
  body?: string | Buffer,
  now = Date.now(),
): string | null {
  const m = /^t=(\d{1,12}),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (!m) return 'the request is not signed';
  const at = Number(m[1]);
  if (Math.abs(now / 1000 - at) > SIGNATURE_MAX_AGE_S) return 'the signature is stale';
  const want = Buffer.from(mac(key, method, target, at, body), 'hex');
  const got = Buffer.from(m[2]!, 'hex');
  return timingSafeEqual(want, got) ? null : 'the signature does not match the request';
}
