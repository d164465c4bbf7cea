import http from 'node:http';
import net from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHandlers } from '../handlers/index.js';
import type { Deps, Handlers } from '../handlers/types.js';
import { header, readJson } from '../lib/http/body.js';
import { loadContract, parseQuery } from '../lib/http/openapi.js';
import { Router } from '../lib/http/router.js';
import { listen, splitUrl } from '../lib/http/serve.js';
import { createAuthenticator, createUpgradeCheck } from './stages/authenticate.js';
import { createCors } from './stages/cors.js';
import { createDispatch } from './stages/dispatch.js';
import type { RequestState } from './stages/dispatch.js';
import { assertReadOnly, createDocsAssets, isDocsAsset } from './stages/docs.js';
import { createProblemWriter } from './stages/problem.js';
import { createRateLimits } from './stages/rate-limit.js';
import { createBearer } from './stages/bearer.js';
import { createAccessLog } from './stages/access-log.js';
import { traceFrom } from '../lib/trace.js';
import type { TraceContext } from '../lib/trace.js';
import { createClientAddress } from '../lib/http/client-address.js';
import { isGatewayError } from '../lib/errors.js';
import { createReplyWriter } from './stages/reply.js';
import { requestId } from './stages/request-id.js';
import { createRoute } from './stages/route.js';
import { attachTransportGuards } from './stages/transport.js';
import { createValidate, submitChecks } from './stages/validate.js';
import { attachWebSocket } from './ws.js';
import type { Identity } from '../core/identity.js';
import type { WsServer } from './ws.js';

/** Requests on /api/* may carry at most this much body (1 MiB of code plus JSON overhead). */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;
/** Who a request is before the authenticate stage says otherwise. */
const NOBODY: Identity = { owner: '', scopes: new Set(), via: { kind: 'open' } };
/** On close, how long no request may come before idle kept-alive connections are closed. */
const IDLE_GRACE_MS = 300;

export interface App {
  server: http.Server;
  ws: WsServer;
  listen(port: number, host?: string): Promise<AddressInfo>;
  /**
   * Stops gracefully: no new connection, WebSockets closed with 1001, every answer from now on
   * (those in flight included) says `Connection: close`, idle kept-alive connections closed;
   * resolves when the last in-flight request is answered, or after `timeoutMs`, when whatever is
   * left is cut.
   */
  close(timeoutMs?: number): Promise<void>;
}

/**
 * Builds the gateway without listening: a node:http listener whose every request passes the
 * named stages of `./stages/` in order — request id, CORS, route, authenticate, rate limit, body,
 * validate, dispatch, reply — and any failure becomes a problem. A feature that acts on every
 * request (identity, metrics, tracing) is one more stage here.
 */
export async function buildApp(deps: Deps, overrides: Partial<Handlers> = {}): Promise<App> {
  const { config, logger, stats, spec } = deps;
  const contract = await loadContract('gateway', spec.document);
  const cors = createCors(config.gateway.corsOrigins);
  const route = createRoute(new Router(contract.routes));
  const address = createClientAddress(config.gateway.trustProxy);
  const limits = await createRateLimits(config.gateway);
  const bearer = await createBearer(config.gateway);
  const { authenticate, identify } = createAuthenticator(
    config.gateway,
    deps.keys,
    address,
    bearer,
  );
  const validate = createValidate(contract, submitChecks(deps.submitter));
  const dispatch = createDispatch(contract, { ...createHandlers(deps), ...overrides });
  const problem = createProblemWriter(logger);
  const reply = createReplyWriter();
  const docsAssets = createDocsAssets(problem);
  const accessLine = createAccessLog(logger, config.gateway.accessLogSample);
  const { metrics } = deps;
  const observe = config.gateway.metricsEnabled
    ? (op: string, status: number, s: number) => metrics.observe(op, status, s)
    : undefined;

  // Answers not yet written, so that a shutdown can tell each to close its connection after it.
  const inFlight = new Set<ServerResponse>();
  let closing = false;
  let lastRequestAt = performance.now();

  async function handle(
    req: IncomingMessage,
    res: ServerResponse,
    trace: TraceContext | undefined,
  ): Promise<void> {
    stats.requests++;
    if (closing) res.setHeader('connection', 'close');
    const { path, query } = splitUrl(req.url);
    const state: RequestState = {
      requestId: requestId(req, res),
      path,
      client: '',
      stickyKey: undefined,
      identity: NOBODY,
      trace,
    };
    const started = performance.now();
    try {
      if (cors(req, res)) return;
      if (isDocsAsset(path)) {
        assertReadOnly(req.method);
        return (await docsAssets())(req, res);
      }
      const { op, params } = route(req.method ?? 'GET', path);
      state.route = op.path;
      state.operation = op.operationId;
      // An address that keeps failing is stopped before its next guess is even checked.
      const credential =
        op.schemes.length > 0 && (req.headers['x-api-key'] ?? req.headers['x-admin-key']);
      if (credential) await limits.checkFailures(address(req));
      try {
        ({ identity: state.identity, client: state.client } = await authenticate(op, req));
      } catch (err) {
        if (isGatewayError(err) && err.status === 401) await limits.failed(address(req));
        throw err;
      }
      if (config.gateway.stickyHeader) state.stickyKey = header(req, config.gateway.stickyHeader);
      await limits.limit(op, state.client, res, state.identity.perMinute);
      // Only operations with a request body read one; a stray body elsewhere is left unread
      // (node discards it), so it can neither be parsed nor be refused.
      const requestBody = op.hasBody ? await readJson(req, MAX_BODY_BYTES) : undefined;
      const request = {
        params,
        query: parseQuery(query, op.query),
        headers: req.headers,
        requestBody,
      };
      validate(op, request);
      reply.write(res, await dispatch(op, request, state));
    } catch (err) {
      problem(res, err, state);
    } finally {
      // Metrics and the access log once the answer is handed to node (no listener per request:
      // it cost more than the figures themselves). A streamed docs asset counts until it starts.
      if (observe || accessLine) {
        const ms = performance.now() - started;
        observe?.(state.operation ?? 'unmatched', res.statusCode, ms / 1000);
        accessLine?.(req, res, state, ms);
      }
    }
  }

  // Slow clients may not hold a connection for node's defaults (60 s of headers, 300 s of body);
  // node looks for them every connectionsCheckingInterval (30 s by default).
  const { headersTimeoutMs, requestTimeoutMs } = config.gateway;
  const timeouts = {
    requestTimeout: requestTimeoutMs,
    headersTimeout: Math.min(headersTimeoutMs, requestTimeoutMs),
    connectionsCheckingInterval: Math.min(1_000, headersTimeoutMs),
  };
  const tracing = config.gateway.tracing;
  const server = http.createServer(timeouts, (req, res) => {
    inFlight.add(res);
    lastRequestAt = performance.now();
    res.once('close', () => inFlight.delete(res));
    // W3C trace context: the caller's trace, or a new one; handlers pass it to every downstream
    // call, job and event made for the request (explicitly: AsyncLocalStorage's hooks cost a
    // tenth of a submit on Node 20).
    handle(req, res, tracing ? traceFrom(header(req, 'traceparent')) : undefined).catch(
      (err: unknown) => {
        // Only reached if writing the answer itself failed; nothing sensible can be sent any more.
        logger.error({ err, path: req.url }, 'failed to answer a request');
        res.destroy();
      },
    );
  });
  server.keepAliveTimeout = 65_000;
  attachTransportGuards(server, problem, logger);

  const ws = attachWebSocket(
    server,
    deps,
    {
      heartbeatMs: config.ws.heartbeatMs,
      maxSubscriptions: config.ws.maxSubscriptions,
      maxMessageBytes: config.ws.maxMessageBytes,
      maxBufferedBytes: config.ws.maxBufferedBytes,
    },
    // The same credentials as the API; browsers cannot set headers on a WebSocket, so the key
    // may come in the URL too.
    createUpgradeCheck(identify, bearer),
  );
  deps.metrics.watchWebSockets(ws);

  return {
    server,
    ws,
    listen: (port, host) => listen(server, port, host),
    async close(timeoutMs = 10_000) {
      closing = true;
      // Requests waiting for an evaluation to end (Prefer: wait) are answered now.
      deps.waits.close();
      // So are event streams (a client that follows resumes elsewhere with Last-Event-ID).
      reply.closeStreams();
      // net's close, not http's: http's would also close idle connections at once (see below).
      const closed = new Promise<void>((resolve) =>
        net.Server.prototype.close.call(server, () => resolve()),
      );
      for (const res of inFlight) if (!res.headersSent) res.setHeader('connection', 'close');
      // A kept-alive connection idle at this instant may carry a request already on its way:
      // closing it now would cut that request. Each busy connection is closed after its next
      // answer (Connection: close); the idle ones are closed once no request has come for a
      // moment — while clients still send on old connections, one of them may be next.
      const quiet = async (): Promise<void> => {
        while (performance.now() - lastRequestAt < IDLE_GRACE_MS)
          await new Promise((r) => setTimeout(r, IDLE_GRACE_MS).unref());
      };
      const bound = new Promise<void>((r) => setTimeout(r, timeoutMs).unref());
      await Promise.all([
        ws.close(),
        Promise.race([closed, Promise.race([quiet(), bound])]),
        limits.close(),
      ]);
      server.closeIdleConnections();
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          logger.warn({ in_flight: inFlight.size }, 'shutdown timeout: cutting what is left');
          server.closeAllConnections();
          resolve();
        }, timeoutMs);
      });
      await Promise.race([closed, late]);
      clearTimeout(timer);
    },
  };
}
