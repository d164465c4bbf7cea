import { validationError } from '../lib/errors.js';
import { idempotent } from '../core/idempotency.js';
import { assertQuota } from './quota.js';
import type { Deps, Handler, Reply } from './types.js';
import { statusAfterWait } from './wait-for-end.js';
import { isTerminal } from '../core/lifecycle.js';
import { newEvalId } from '../core/ids.js';
import { callbackIssues } from './webhooks.js';

export function submitEvaluation(deps: Deps): Handler<'submitEvaluation'> {
  const { ledger, submitter } = deps;
  return async ({ body, headers, client, stickyKey, identity, trace }) => {
    // The submitter's rules ran with the schema's (the validate stage); what needs DNS runs here.
    const issues = await callbackIssues(deps, body.callback_url, '');
    if (issues.length) throw validationError(issues);
    const key = headers['idempotency-key'] as string | undefined;
    const reply = (await idempotent(ledger, key, `${client}:submitEvaluation`, body, async () => {
      await assertQuota(deps, identity, 1, trace);
      // Registered before any backend has it, so that no end comes before the webhook exists.
      const evalId = newEvalId();
      if (body.callback_url)
        await deps.webhooks.register(evalId, body.callback_url, identity.owner);
      const accepted = await submitter.submit(body, {
        evalId,
        client,
        owner: identity.owner,
        stickyKey,
        trace,
      });
      const message = accepted.fallback
        ? `Evaluation queued successfully (the ${accepted.backend === 'bull' ? 'legacy queue' : 'job queue'} refused it; the ${accepted.backend === 'bull' ? 'job queue' : 'legacy queue'} took it)`
        : 'Evaluation queued successfully';
      return { status: 202, body: { ...accepted, status: 'queued', message } };
    })) as Reply<'submitEvaluation'>;
    if (reply.status !== 202) return reply;
    const id = reply.body.eval_id;
    const location = { location: `/api/eval-status/${encodeURIComponent(id)}` };
    if (headers.prefer === undefined)
      return { ...reply, headers: { ...reply.headers, ...location } };
    const { view, applied } = await statusAfterWait(deps, id, identity, trace, headers.prefer);
    const waited: Record<string, string> = applied ? { 'preference-applied': applied } : {};
    if (isTerminal(view.status))
      return { status: 200, body: view, headers: { ...location, ...waited } };
    return { ...reply, headers: { ...reply.headers, ...location, ...waited } };
  };
}
