import { DEFAULT_LANGUAGE } from '../core/evaluation.js';
import type { operations } from '../generated/types/executor.js';
import type { Logger } from '../lib/logger.js';
import { ServiceError, downstreamDocument, serveContract } from './contract-server.js';
import type { ContractServer } from './contract-server.js';
import type { LocalExecutor } from './local-executor.js';
import { runtimeVersions } from './runtime-versions.js';

/** The reference executor service of spec/downstream/executor.yaml over a LocalExecutor. */
export function startExecutorServer(opts: {
  executor: LocalExecutor;
  apiKey: string;
  logger: Logger;
  memoryMb: number;
  outputBytes: number;
}): Promise<ContractServer> {
  const ex = opts.executor;
  const languages = runtimeVersions(ex.interpreters);
  const capacity = () => {
    const running = ex.running().length;
    return {
      executor_id: ex.id,
      capacity: ex.capacity,
      running,
      available: Math.max(0, ex.capacity - running),
    };
  };
  return serveContract<operations>({
    name: 'executor',
    document: downstreamDocument('executor'),
    apiKey: opts.apiKey,
    logger: opts.logger,
    handlers: {
      execute: async ({ body }) => {
        if (ex.running().length >= ex.capacity)
          throw new ServiceError(503, `Executor ${ex.id} is at capacity`);
        const r = await ex.run({
          eval_id: body.eval_id,
          code: body.code,
          language: body.language ?? DEFAULT_LANGUAGE,
          timeout: body.timeout,
          memory_mb: opts.memoryMb,
          output_bytes: opts.outputBytes,
        });
        return { status: 200, body: { ...r, executor_id: ex.id } };
      },
      kill: ({ params }) => {
        if (!ex.kill(params.eval_id))
          throw new ServiceError(404, `Executor ${ex.id} runs no evaluation ${params.eval_id}`);
        return {
          status: 200,
          body: {
            eval_id: params.eval_id,
            success: true,
            message: `Process of ${params.eval_id} killed`,
          },
        };
      },
      getLogs: ({ params }) => {
        const logs = ex.logs(params.eval_id);
        if (!logs)
          throw new ServiceError(404, `Executor ${ex.id} runs no evaluation ${params.eval_id}`);
        return {
          status: 200,
          body: {
            eval_id: params.eval_id,
            output: logs.output,
            error: logs.error,
            is_running: true,
          },
        };
      },
      getRunning: () => ({ status: 200, body: { running: ex.running() } }),
      getCapacity: () => ({ status: 200, body: capacity() }),
      getStatus: () => ({ status: 200, body: capacity() }),
      getHealth: () => ({ status: 200, body: { status: 'healthy', executor_id: ex.id } }),
      getLanguages: async () => ({
        status: 200,
        body: { executor_id: ex.id, languages: await languages() },
      }),
    },
  });
}
