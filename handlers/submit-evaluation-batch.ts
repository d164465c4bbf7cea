import { isGatewayError, validationError } from '../lib/errors.js';
import { idempotent } from '../core/idempotency.js';
import { newBatchId, newEvalId } from '../core/ids.js';
import { mapConcurrent } from '../lib/concurrency.js';
import type { components } from '../generated/types/gateway.js';
import { assertQuota } from './quota.js';
import { callbackIssues } from './webhooks.js';
import type { Deps, Handler, Reply } from './types.js';

type Item = components['schemas']['BatchItemResult'];

/** How many items of one batch are handed to the backends at the same time. */
export const BATCH_CONCURRENCY = 8;

export function submitEvaluationBatch(deps: Deps): Handler<'submitEvaluationBatch'> {
  const { ledger, submitter } = deps;
  return async ({ body, headers, client, stickyKey, identity, trace }) => {
    // Every item is checked before any is queued: a batch is rejected whole or processed whole.
    // The submitter's rules ran with the schema's (the validate stage); what needs DNS runs here.
    const issues = [
      ...(await callbackIssues(deps, body.callback_url, '')),
      ...(
        await Promise.all(
          body.evaluations.map((item, i) =>
            callbackIssues(deps, item.callback_url, `/evaluations/${i}`),
          ),
        )
      ).flat(),
    ];
    if (issues.length) throw validationError(issues);
    const key = headers['idempotency-key'] as string | undefined;
    const reply = await idempotent(
      ledger,
      key,
      `${client}:submitEvaluationBatch`,
      body,
      async () => {
        await assertQuota(deps, identity, body.evaluations.length, trace);
        // Webhooks are registered before any backend has an item, so no end comes first.
        const batchId = newBatchId();
        const ids = body.evaluations.map(() => newEvalId());
        if (body.callback_url)
          await deps.webhooks.registerBatch(batchId, body.callback_url, identity.owner, ids);
        const results = await mapConcurrent(
          body.evaluations,
          BATCH_CONCURRENCY,
          async (item, index): Promise<Item> => {
            const evalId = ids[index]!;
            try {
              if (item.callback_url)
                await deps.webhooks.register(evalId, item.callback_url, identity.owner);
              const a = await submitter.submit(item, {
                batch: true,
                batchId,
                batchIndex: index,
                evalId,
                client,
                owner: identity.owner,
                stickyKey,
                trace,
              });
              return { index, status: 'queued', ...a };
            } catch (err) {
              // An item no backend took keeps its id, the one its `evaluation:failed` event carries.
              return {
                index,
                eval_id: evalId,
                status: 'failed',
                error: isGatewayError(err) ? err.message : 'submission failed',
                code: isGatewayError(err) ? err.code : 'GW_ERR_INTERNAL',
              };
            }
          },
        );
        const queued = results.filter((r) => r.status === 'queued').length;
        return {
          status: 202,
          body: {
            batch_id: batchId,
            total: results.length,
            queued,
            failed: results.length - queued,
            evaluations: results,
          },
        };
      },
    );
    const answer = reply as Reply<'submitEvaluationBatch'>;
    if (answer.status !== 202) return answer;
    const location = `/api/eval-batch/${answer.body.batch_id}`;
    return { ...answer, headers: { ...answer.headers, location } };
  };
}
