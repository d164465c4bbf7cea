import { OpenAPIBackend } from 'openapi-backend';
import type { Document, Operation } from 'openapi-backend';
import type { Ajv, AnySchema } from 'ajv';
import { BACKEND_OPTIONS, validatorKey } from '../precompiled.js';
import { requestValidators } from '../validators.js';
import type { Logger } from '../logger.js';
import type { RouteOperation } from './router.js';

export interface Backend {
  api: OpenAPIBackend;
  /** The spec's operations, as the listener's router needs them. */
  routes: RouteOperation[];
  /** Validators compiled at start because no precompiled one matched (expected: 0). */
  readonly misses: number;
}

/**
 * openapi-backend for `document`, validating with the validators `npm run generate` precompiled
 * (nothing is compiled at start) and with its operation list built once.
 */
export async function createBackend(document: unknown, logger: Logger): Promise<Backend> {
  let misses = 0;
  const api = new OpenAPIBackend({
    definition: structuredClone(document) as Document,
    ...BACKEND_OPTIONS,
    customizeAjv: (ajv, opts, context) =>
      ({
        compile(schema: AnySchema) {
          const precompiled = requestValidators[validatorKey(context, opts.coerceTypes, schema)];
          if (precompiled) return precompiled;
          misses++;
          logger.warn({ context }, 'validator not precompiled; run npm run generate');
          return ajv.compile(schema);
        },
      }) as unknown as Ajv,
  });
  await api.init();
  // openapi-backend rebuilds its whole operation list (lodash chains, object spreads) on every
  // call of getOperations(), which routing calls twice a request. The definition never changes
  // after init(), so the list is built once here.
  const operations: Operation[] = api.router.getOperations();
  api.router.getOperations = () => operations;
  api.validator.preCompileRequestValidators();
  const routes = operations.map((op) => ({
    operationId: op.operationId ?? '',
    method: op.method,
    path: op.path,
    schemes: (op.security ?? []).flatMap((req) => Object.keys(req)),
    hasBody: Boolean(op.requestBody),
  }));
  return {
    api,
    routes,
    get misses() {
      return misses;
    },
  };
}
