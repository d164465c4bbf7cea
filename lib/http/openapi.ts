import { createRequire } from 'node:module';
import { join } from 'node:path';
import { OpenAPIBackend } from 'openapi-backend';
import type { Context, Document, Operation } from 'openapi-backend';
import type { ErrorObject } from 'ajv';
import { generatedDir } from '../paths.js';
import { requestValidators } from '../validators.js';
import type { Validator } from '../validators.js';
import type { RouteOperation } from './router.js';

/** The contracts served here, as `npm run generate` names them. */
export type ContractName = 'gateway' | 'queue' | 'storage' | 'executor';

const require = createRequire(import.meta.url);
/** Each contract's operations and the keys of their precompiled validators, in order. */
export const OPERATION_VALIDATORS = require(
  join(generatedDir, 'validators', 'operations.json'),
) as Record<ContractName, Record<string, string[]>>;

/** A request of a matched operation, parsed once and checked by that operation's validators. */
export interface CheckedRequest {
  params: Record<string, unknown>;
  query: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
  requestBody: unknown;
}

export interface Contract {
  /** Holds the handlers by operationId and dispatches to them. */
  api: OpenAPIBackend;
  /** The contract's operations, as the router matches them. */
  routes: RouteOperation[];
  /**
   * Checks a matched request with the operation's precompiled validators (query and path values
   * coerced to their schema types in place); the ajv errors when it breaks the contract.
   */
  check(op: RouteOperation, request: CheckedRequest): ErrorObject[] | null;
  /** Calls the handler registered for the operation. */
  dispatch(op: RouteOperation, request: CheckedRequest, ...args: unknown[]): unknown;
}

/** The spec's `x-required-scope` of an operation, as RouteOperation carries it. */
function scopeOf(op: Record<string, unknown>): { scope?: string } {
  const scope = op['x-required-scope'];
  return typeof scope === 'string' ? { scope } : {};
}

/** `a=1&b=2&b=3` as `{a: '1', b: ['2', '3']}`, as openapi-backend's validators expect it. */
export function parseQuery(
  raw: string,
  declared: ReadonlySet<string>,
): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  if (!raw || declared.size === 0) return query;
  for (const [k, v] of new URLSearchParams(raw)) {
    if (!declared.has(k)) continue;
    const seen = query[k];
    query[k] = seen === undefined ? v : Array.isArray(seen) ? [...seen, v] : [seen, v];
  }
  return query;
}

/**
 * openapi-backend over `document`: it reads the contract (references resolved), lists its
 * operations and holds a handler per operationId. It neither routes nor validates at run time:
 * the router matches each request once, and the validators it would build were precompiled by
 * `npm run generate` and are run here directly (nothing is compiled at start).
 */
export async function loadContract(name: ContractName, document: unknown): Promise<Contract> {
  const api = new OpenAPIBackend({
    definition: structuredClone(document) as Document,
    quick: true,
    validate: false,
  });
  await api.init();
  const keys = OPERATION_VALIDATORS[name];
  const validators = new Map<string, Validator[]>();
  const routes = api.router.getOperations().map((op: Operation): RouteOperation => {
    const operationId = op.operationId ?? '';
    const listed = keys[operationId];
    if (!listed) throw new Error(`${name}: no validators for ${operationId}; run npm run generate`);
    validators.set(
      operationId,
      listed.map((k) => {
        const v = requestValidators[k];
        if (!v) throw new Error(`${name}: validator ${k} missing; run npm run generate`);
        return v;
      }),
    );
    return {
      operationId,
      method: op.method,
      path: op.path,
      schemes: (op.security ?? []).flatMap((req) => Object.keys(req)),
      hasBody: Boolean(op.requestBody),
      ...scopeOf(op),
      query: new Set(
        (op.parameters ?? []).flatMap((p) => ('in' in p && p.in === 'query' ? [p.name] : [])),
      ),
    };
  });
  return {
    api,
    routes,
    check(op, request) {
      // The shape openapi-backend validates: {path, query, header, requestBody?}.
      const parameters: Record<string, unknown> = {
        path: request.params,
        query: request.query,
        header: request.headers,
      };
      if (op.hasBody) parameters.requestBody = request.requestBody;
      const errors: ErrorObject[] = [];
      for (const validate of validators.get(op.operationId) ?? []) {
        if (!validate(parameters)) errors.push(...(validate.errors ?? []));
      }
      return errors.length ? errors : null;
    },
    dispatch(op, request, ...args) {
      const handler = api.handlers[op.operationId];
      if (!handler) throw new Error(`no handler registered for ${op.operationId}`);
      const context = { operation: op, request, api } as unknown as Context;
      return handler(context, ...args) as unknown;
    },
  };
}
