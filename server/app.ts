import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type express from 'express';
import type { ErrorObject } from 'ajv';
import type { Context } from 'openapi-backend';
import { GatewayError, PROBLEM_CONTENT_TYPE, toProblem, validationError } from '../lib/errors.js';
import { digest, keyMatches } from '../lib/keys.js';
import type { ValidationIssue } from '../lib/errors.js';
import { createHandlers } from '../handlers/index.js';
import type { AnyReply, Deps, Handlers, OperationId, Request } from '../handlers/types.js';
import { Router } from '../lib/http/router.js';
import type { RouteOperation } from '../lib/http/router.js';
import { loadContract, parseQuery } from '../lib/http/openapi.js';
import { header, readJson } from '../lib/http/body.js';
import { attachWebSocket } from './ws.js';
import type { WsServer } from './ws.js';

/** Requests on /api/* may carry at most this much body (1 MiB of code plus JSON overhead). */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;

export interface App {
  server: http.Server;
  ws: WsServer;
  listen(port: number, host?: string): Promise<AddressInfo>;
  close(): Promise<void>;
}

interface RequestState {
  requestId: string;
  path: string;
  client: string;
  stickyKey: string | undefined;
}

const require = createRequire(import.meta.url);
/** A client's X-Request-Id is echoed only when it is a plain token. */
const REQUEST_ID = /^[\w.:@-]{1,128}$/;

/** Where openapi-backend's validated object keeps each part of the request. */
const PLACES: Record<string, ValidationIssue['in']> = {
  requestBody: 'body',
  path: 'path',
  query: 'query',
  header: 'header',
};

/** What a pattern of the spec means, for people rather than regex readers. */
const PATTERN_MESSAGES: Record<string, string> = {
  '\\S': 'must not be blank',
  '^[^\\u0000\\uD800-\\uDFFF]*$':
    'must not contain a NUL character (U+0000) or an unpaired UTF-16 surrogate',
};

/** Turns ajv errors from openapi-backend into the spec's ValidationIssue list. */
export function issuesFromAjv(errors: ErrorObject[] | null | undefined): ValidationIssue[] {
  return (errors ?? []).map((e) => {
    const [, where = '', ...rest] = e.instancePath.split('/');
    const place = PLACES[where] ?? 'body';
    let pointer = rest.length ? `/${rest.join('/')}` : '';
    let message = e.message ?? 'is invalid';
    const params = e.params as Record<string, unknown>;
    if (e.keyword === 'required') {
      if (params.missingProperty === 'requestBody')
        return { in: 'body', pointer: '', message: 'a JSON body is required' };
      pointer += `/${String(params.missingProperty)}`;
      message = 'is required';
    } else if (e.keyword === 'additionalProperties') {
      pointer += `/${String(params.additionalProperty)}`;
      message = 'is not allowed';
    } else if (e.keyword === 'pattern') {
      message = PATTERN_MESSAGES[String(params.pattern)] ?? message;
    }
    return { in: place, pointer, message };
  });
}

function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  payload: string,
  headers?: Record<string, string>,
): void {
  res.statusCode = status;
  res.setHeader('content-type', contentType);
  res.setHeader('content-length', Buffer.byteLength(payload));
  if (headers) for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.end(payload);
}

/**
 * Builds the gateway without listening. The contract path is node:http → openapi-backend →
 * handler; express serves the docs portal's static files only (it costs ~120–150 µs a request
 * here before any of our code runs, too much for the hot path).
 */
export async function buildApp(deps: Deps, overrides: Partial<Handlers> = {}): Promise<App> {
  const { config, logger, stats, spec } = deps;
  const handlers: Handlers = { ...createHandlers(deps), ...overrides };

  const contract = await loadContract('gateway', spec.document);
  const { api, routes } = contract;
  const router = new Router(routes);

  for (const op of routes) {
    const id = op.operationId as OperationId;
    const handler = handlers[id] as (req: Request<OperationId>) => Promise<AnyReply> | AnyReply;
    if (!handler) throw new Error(`no handler for operation ${id}`);
    api.register(id, (c: Context, state: RequestState) =>
      handler({
        body: c.request.requestBody as never,
        params: c.request.params as never,
        query: c.request.query as never,
        headers: c.request.headers as Request<OperationId>['headers'],
        requestId: state.requestId,
        client: state.client,
        stickyKey: state.stickyKey,
      }),
    );
  }

  const apiKeys = config.apiKeys.map(digest);
  const adminKeys = config.adminApiKey ? [digest(config.adminApiKey)] : [];
  const limiter =
    config.rateLimitPerMinute > 0
      ? new (await import('rate-limiter-flexible')).RateLimiterMemory({
          points: config.rateLimitPerMinute,
          duration: 60,
        })
      : undefined;

  /** 401/403 before anything else is done for the request (RFC 9110 §15.5.2, §15.5.4). */
  function authorize(op: RouteOperation, req: IncomingMessage): string | undefined {
    const clientKey = header(req, 'x-api-key');
    const clientOk = apiKeys.length === 0 || keyMatches(clientKey, apiKeys);
    if (op.schemes.includes('AdminKey')) {
      if (adminKeys.length === 0) {
        throw new GatewayError(
          'GW_ERR_FORBIDDEN',
          'Admin operations are disabled on this gateway (ADMIN_API_KEY is not set)',
        );
      }
      const adminKey = header(req, 'x-admin-key');
      if (keyMatches(adminKey, adminKeys)) return adminKey;
      if (adminKey === undefined && apiKeys.length > 0 && keyMatches(clientKey, apiKeys)) {
        throw new GatewayError(
          'GW_ERR_FORBIDDEN',
          'This operation needs the admin key in X-Admin-Key',
        );
      }
      throw new GatewayError('GW_ERR_UNAUTHORIZED', 'A valid X-Admin-Key header is required');
    }
    if (op.schemes.includes('ApiKey') && !clientOk) {
      throw new GatewayError('GW_ERR_UNAUTHORIZED', 'A valid X-API-Key header is required');
    }
    return clientKey;
  }

  async function rateLimit(op: RouteOperation, client: string): Promise<void> {
    if (!limiter || !op.path.startsWith('/api/')) return;
    try {
      await limiter.consume(client);
    } catch (err) {
      // rate-limiter-flexible rejects with its result (msBeforeNext) when the budget is spent.
      const msBeforeNext = (err as { msBeforeNext?: unknown }).msBeforeNext;
      if (typeof msBeforeNext !== 'number') throw err;
      const retry = Math.max(1, Math.ceil(msBeforeNext / 1000));
      throw new GatewayError(
        'GW_ERR_RATE_LIMITED',
        `Rate limit of ${config.rateLimitPerMinute} requests a minute reached; retry in ${retry} s`,
        {
          headers: { 'retry-after': String(retry) },
        },
      );
    }
  }

  function writeProblem(
    res: ServerResponse,
    err: unknown,
    state: Pick<RequestState, 'requestId' | 'path'>,
  ): void {
    const problem = toProblem(err, state.path, state.requestId);
    const where = { request_id: state.requestId, path: state.path, code: problem.code };
    if (problem.code === 'GW_ERR_INTERNAL') logger.error({ ...where, err }, problem.detail);
    else if (problem.status >= 500) {
      // A downstream failure: what failed is enough, the stack only shows our own client code.
      const cause =
        err instanceof Error && err.cause instanceof Error ? err.cause.message : undefined;
      logger.warn({ ...where, cause }, problem.detail);
    } else logger.debug(where, problem.detail);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    send(
      res,
      problem.status,
      PROBLEM_CONTENT_TYPE,
      JSON.stringify(problem),
      err instanceof GatewayError ? err.headers : undefined,
    );
  }

  // The docs portal's static files (Swagger UI and ReDoc bundles from their installed packages),
  // served by express, which is loaded on the first such request: the API never needs it.
  let docs: Promise<(req: IncomingMessage, res: ServerResponse) => void> | undefined;
  const docsApp = async (): Promise<(req: IncomingMessage, res: ServerResponse) => void> => {
    const { default: express } = await import('express');
    const app = express();
    app.disable('x-powered-by');
    const staticOpts = { immutable: true, maxAge: '1d', fallthrough: false } as const;
    app.use(
      '/docs/assets',
      express.static(dirname(require.resolve('swagger-ui-dist/package.json')), staticOpts),
    );
    app.use(
      '/redoc/assets',
      express.static(dirname(require.resolve('redoc/bundles/redoc.standalone.js')), staticOpts),
    );
    app.use(
      (err: unknown, req: express.Request, res: express.Response, _next: express.NextFunction) => {
        const status = (err as { status?: number }).status;
        const e =
          status === 404
            ? new GatewayError('GW_ERR_NOT_FOUND', 'No such documentation asset')
            : err;
        writeProblem(res, e, {
          requestId: String(res.getHeader('x-request-id') ?? randomUUID()),
          path: req.path,
        });
      },
    );
    return app;
  };

  const allowAnyOrigin = config.corsOrigins.includes('*');
  function cors(req: IncomingMessage, res: ServerResponse): boolean {
    const origin = header(req, 'origin');
    if (!origin) return false;
    if (allowAnyOrigin) res.setHeader('access-control-allow-origin', '*');
    else if (config.corsOrigins.includes(origin)) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('vary', 'Origin');
    } else return false;
    res.setHeader('access-control-expose-headers', 'x-request-id, retry-after');
    if (req.method === 'OPTIONS' && header(req, 'access-control-request-method')) {
      res.setHeader('access-control-allow-methods', 'GET, POST, PATCH, OPTIONS');
      res.setHeader(
        'access-control-allow-headers',
        'content-type, x-api-key, x-admin-key, x-request-id, idempotency-key',
      );
      res.setHeader('access-control-max-age', '600');
      res.statusCode = 204;
      res.end();
      return true;
    }
    return false;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    stats.requests++;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const given = header(req, 'x-request-id');
    const requestId = given !== undefined && REQUEST_ID.test(given) ? given : randomUUID();
    const state: RequestState = { requestId, path, client: '', stickyKey: undefined };
    res.setHeader('x-request-id', requestId);
    try {
      if (cors(req, res)) return;
      if (path.startsWith('/docs/assets/') || path.startsWith('/redoc/assets/')) {
        (await (docs ??= docsApp()))(req, res);
        return;
      }
      const method = req.method ?? 'GET';
      const match = router.match(method === 'HEAD' ? 'GET' : method, path);
      if (match.kind === 'none')
        throw new GatewayError('GW_ERR_NOT_FOUND', `No operation at ${path}`);
      if (match.kind === 'method') {
        throw new GatewayError(
          'GW_ERR_METHOD_NOT_ALLOWED',
          `${method} is not allowed on ${path}; use ${match.allow.join(', ')}`,
          {
            headers: { allow: match.allow.join(', ') },
          },
        );
      }
      const key = authorize(match.op, req);
      state.client = key
        ? `key:${digest(key).toString('hex').slice(0, 16)}`
        : `ip:${req.socket.remoteAddress ?? '?'}`;
      if (config.stickyHeader) state.stickyKey = header(req, config.stickyHeader);
      await rateLimit(match.op, state.client);
      // Only operations with a request body read one; a stray body elsewhere is left unread
      // (node discards it), so it can neither be parsed nor be refused.
      const body = match.op.hasBody ? await readJson(req, MAX_BODY_BYTES) : undefined;
      // Matched once above; parsed once here; checked by the operation's own validators.
      const request = {
        params: match.params,
        query: parseQuery(q === -1 ? '' : url.slice(q + 1)),
        headers: req.headers,
        requestBody: body,
      };
      const errors = contract.check(match.op, request);
      if (errors) throw validationError(issuesFromAjv(errors));
      const reply = (await contract.dispatch(match.op, request, state)) as AnyReply;
      const contentType = reply.contentType ?? 'application/json';
      const payload =
        typeof reply.body === 'string' && contentType !== 'application/json'
          ? reply.body
          : JSON.stringify(reply.body);
      send(
        res,
        reply.status,
        contentType === 'application/json' ? contentType : `${contentType}; charset=utf-8`,
        payload,
        reply.headers,
      );
    } catch (err) {
      writeProblem(res, err, state);
    }
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      // Only reached if writing the answer itself failed; nothing sensible can be sent any more.
      logger.error({ err, path: req.url }, 'failed to answer a request');
      res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;
  const ws = attachWebSocket(
    server,
    deps,
    {
      heartbeatMs: config.wsHeartbeatMs,
      maxSubscriptions: config.wsMaxSubscriptions,
      maxMessageBytes: config.wsMaxMessageBytes,
      maxBufferedBytes: config.wsMaxBufferedBytes,
    },
    // The same credentials as the API; browsers cannot set headers on a WebSocket, so the key
    // may come in the URL too.
    (req, url) =>
      apiKeys.length === 0 ||
      keyMatches(header(req, 'x-api-key') ?? url.searchParams.get('api_key') ?? undefined, apiKeys),
  );

  return {
    server,
    ws,
    listen(port, host) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve(server.address() as AddressInfo);
        });
      });
    },
    async close() {
      await ws.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
    },
  };
}
