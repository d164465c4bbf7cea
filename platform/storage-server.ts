import type { operations } from '../generated/types/storage.js';
import type { Logger } from '../lib/logger.js';
import { ServiceError, downstreamDocument, serveContract } from './contract-server.js';
import type { ContractServer } from './contract-server.js';
import { publicView } from './storage.js';
import type { Storage } from './storage.js';

export { Storage, capBytes, MAX_OUTPUT_BYTES } from './storage.js';

/** The reference storage service of spec/downstream/storage.yaml. */
export function startStorageServer(opts: {
  storage: Storage;
  apiKey: string;
  logger: Logger;
}): Promise<ContractServer> {
  const st = opts.storage;
  return serveContract<operations>({
    name: 'storage',
    document: downstreamDocument('storage'),
    apiKey: opts.apiKey,
    logger: opts.logger,
    handlers: {
      createEvaluation: async ({ body }) => {
        const e = await st.create(body);
        if (!e) throw new ServiceError(409, `Evaluation ${body.id} already exists`);
        return { status: 201, body: e };
      },
      listEvaluations: async ({ query }) => {
        const q = {
          limit: query.limit ?? 100,
          offset: query.offset ?? 0,
          status: query.status,
          language: query.language,
          owner: query.owner,
          sort_by: query.sort_by ?? 'created_at',
          sort_order: query.sort_order ?? 'desc',
        };
        const { evaluations, total } = await st.data.list(q);
        return {
          status: 200,
          body: {
            evaluations: evaluations.map(publicView),
            total,
            limit: q.limit,
            offset: q.offset,
            has_more: q.offset + evaluations.length < total,
          },
        };
      },
      listRunning: async () => {
        const running = (await st.data.running()).flatMap((d) => (d.running ? [d.running] : []));
        return { status: 200, body: { running_evaluations: running, count: running.length } };
      },
      getEvaluation: async ({ params }) => ({
        status: 200,
        body: publicView(await st.get(params.id)),
      }),
      updateEvaluation: async ({ params, body }) => ({
        status: 200,
        body: await st.update(params.id, body),
      }),
      deleteEvaluation: async ({ params }) => {
        if (!(await st.data.remove(params.id)))
          throw new ServiceError(404, `No evaluation ${params.id}`);
        return { status: 204 };
      },
      getRunning: async ({ params }) => {
        const d = await st.get(params.id);
        if (!d.running) throw new ServiceError(404, `Evaluation ${params.id} is not running`);
        return { status: 200, body: d.running };
      },
      markRunning: async ({ params, query }) => ({
        status: 200,
        body: await st.markRunning(params.id, query),
      }),
      unmarkRunning: async ({ params }) => {
        await st.unmarkRunning(params.id);
        return { status: 204 };
      },
      listEvents: async ({ params }) => {
        await st.get(params.id);
        return { status: 200, body: { events: await st.data.events(params.id) } };
      },
      addEvent: async ({ params, body }) => {
        await st.get(params.id);
        const e = {
          ...body,
          evaluation_id: params.id,
          timestamp: body.timestamp ?? new Date().toISOString(),
        };
        await st.data.addEvent(params.id, e);
        return { status: 201, body: e };
      },
      getLogs: async ({ params }) => {
        const d = await st.get(params.id);
        return {
          status: 200,
          body: {
            eval_id: d.id,
            output: d.output ?? '',
            error: d.error ?? null,
            is_running: Boolean(d.running),
          },
        };
      },
      getStatistics: async () => ({ status: 200, body: await st.data.statistics(new Date()) }),
      getHealth: () => ({ status: 200, body: { status: 'healthy' } }),
    },
  });
}
