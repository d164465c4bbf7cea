import { GatewayError } from '../lib/errors.js';
import type { ValidationIssue } from '../lib/errors.js';
import { refusedCallback } from '../lib/http/public-address.js';
import { isAdmin } from '../core/identity.js';
import type { WebhookDoc } from '../core/ports/webhooks.js';
import { assertAccess } from './evaluation-lookup.js';
import type { Deps, Handler } from './types.js';

/** The issue a callback URL raises (422), if any: not http(s), credentials, a private address. */
export async function callbackIssues(
  deps: Deps,
  url: string | undefined,
  pointer: string,
): Promise<ValidationIssue[]> {
  if (url === undefined) return [];
  const why = await refusedCallback(url, deps.config.webhooks.allowPrivate);
  return why ? [{ in: 'body', pointer: `${pointer}/callback_url`, message: why }] : [];
}

const delivery = (d: WebhookDoc) => ({
  url: d.url,
  state: d.state,
  attempts: d.attempts,
  next_attempt_at: d.next_attempt_at,
});

const noWebhook = (what: string): GatewayError =>
  new GatewayError('GW_ERR_EVALUATION_NOT_FOUND', `No webhook for ${what}`);

export function getEvaluationWebhook(deps: Deps): Handler<'getEvaluationWebhook'> {
  return async ({ params, identity }) => {
    await assertAccess(deps, params.eval_id, identity);
    const doc = await deps.webhooks.get(`ev:${params.eval_id}`);
    if (!doc) throw noWebhook(`evaluation ${params.eval_id}`);
    return { status: 200, body: delivery(doc) };
  };
}

export function getBatchWebhook(deps: Deps): Handler<'getBatchWebhook'> {
  return async ({ params, identity }) => {
    const doc = await deps.webhooks.get(`batch:${params.batch_id}`);
    // Another owner's batch is as unknown as a missing one.
    if (!doc || (!isAdmin(identity) && doc.owner !== identity.owner))
      throw noWebhook(`batch ${params.batch_id}`);
    return { status: 200, body: delivery(doc) };
  };
}

export function getWebhookSecret(deps: Deps): Handler<'getWebhookSecret'> {
  return ({ identity }) => ({
    status: 200,
    body: { owner: identity.owner, secret: deps.webhooks.secretFor(identity.owner) },
  });
}
