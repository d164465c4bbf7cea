import { createHmac } from 'node:crypto';

const PREFIX = 'whsec_';

/**
 * An owner's webhook secret (Standard Webhooks' `whsec_` form: the prefix and 32 base64 bytes),
 * derived from the deployment's master secret, so that every gateway signs with the same one
 * without storing it.
 */
export function ownerSecret(master: string, owner: string): string {
  return PREFIX + createHmac('sha256', master).update(`webhook-secret:${owner}`).digest('base64');
}

/**
 * The `webhook-signature` of one attempt: `v1,` and the base64 HMAC-SHA256, keyed by the secret's
 * bytes, of `{id}.{timestamp}.{body}` (Standard Webhooks).
 */
export function webhookSignature(
  secret: string,
  id: string,
  timestamp: number,
  body: string,
): string {
  const key = Buffer.from(secret.slice(PREFIX.length), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}
