import { validationError } from '../lib/errors.js';
import { idempotent } from '../core/idempotency.js';
import { assertQuota } from './quota.js';
import type { Deps, Handler, Reply } from './types.js';

export function submitEvaluation(deps: Deps): Handler<'submitEvaluation'> {
  const { ledger, submitter } = deps;
  return async ({ body, headers, client, stickyKey, identity, trace }) => {
    const issues = submitter.check(body);
    if (issues.length) throw validationError(issues);
    const key = headers['idempotency-key'] as string | undefined;
    return (await idempotent(ledger, key, `${client}:submitEvaluation`, body, async () => {
      await assertQuota(deps, identity, 1, trace);
      const accepted = await submitter.submit(body, {
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
  };
}
