import type { Context } from 'openapi-backend';
import type { CheckedRequest, Contract } from '../../lib/http/openapi.js';
import type { RouteOperation } from '../../lib/http/router.js';
import type { Identity } from '../../core/identity.js';
import type { TraceContext } from '../../lib/trace.js';
import type { AnyReply, Handlers, OperationId, Request } from '../../handlers/types.js';

/** Who is calling and how: what the listener's earlier stages learnt about the request. */
export interface RequestState {
  requestId: string;
  path: string;
  client: string;
  stickyKey: string | undefined;
  identity: Identity;
  /** The matched operation's route template and id, once routed (access log, metrics). */
  route?: string;
  operation?: string;
  /** The W3C trace context, unless TRACING is off. */
  trace: TraceContext | undefined;
}

/**
 * Stage 8: registers one handler per operationId with openapi-backend (each operation of the
 * spec must have one) and hands each checked request to its handler, typed as the handler wants.
 */
export function createDispatch(
  contract: Contract,
  handlers: Handlers,
): (op: RouteOperation, request: CheckedRequest, state: RequestState) => Promise<AnyReply> {
  for (const op of contract.routes) {
    const id = op.operationId as OperationId;
    const handler = handlers[id] as (req: Request<OperationId>) => Promise<AnyReply> | AnyReply;
    if (!handler) throw new Error(`no handler for operation ${id}`);
    contract.api.register(id, (c: Context, state: RequestState) =>
      handler({
        body: c.request.requestBody as never,
        params: c.request.params as never,
        query: c.request.query as never,
        headers: c.request.headers as Request<OperationId>['headers'],
        requestId: state.requestId,
        client: state.client,
        stickyKey: state.stickyKey,
        identity: state.identity,
        trace: state.trace,
      }),
    );
  }
  return async (op, request, state) => (await contract.dispatch(op, request, state)) as AnyReply;
}
