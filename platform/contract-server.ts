import http from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { projectRoot } from '../lib/paths.js';
import type { AddressInfo } from 'node:net';
import type { Context } from 'openapi-backend';
import { isGatewayError } from '../lib/errors.js';
import { digest, keyMatches } from '../lib/keys.js';
import type { Logger } from '../lib/logger.js';
import type { AnyReply, BodyOf, PathOf, QueryOf, ReplyOf } from '../lib/operation-types.js';
import { describeErrors } from '../lib/validators.js';
import { loadContract, parseQuery } from '../lib/http/openapi.js';
import type { ContractName } from '../lib/http/openapi.js';
import { Router } from '../lib/http/router.js';
import { header, readJsonRaw } from '../lib/http/body.js';
import { SIGNATURE_HEADER, checkSignature } from '../lib/signing.js';
import { listen, splitUrl } from '../lib/http/serve.js';

/** A service's failure as its contract answers it: a status and `{detail}`. */
export class ServiceError extends Error {
  constructor(
    readonly status: number,
    detail: string,
  ) {
    super(detail);
    this.name = 'ServiceError';
  }
}

export interface ServiceRequest<Op extends { parameters: object; responses: object }> {
  body: BodyOf<Op>;
  params: PathOf<Op & { parameters: { path?: unknown } }>;
  query: QueryOf<Op & { parameters: { query?: unknown } }>;
}

/** One handler per operationId of a downstream spec, typed from its generated `operations`. */
export type ServiceHandlers<Ops> = {
  [O in keyof Ops]: Ops[O] extends { parameters: object; responses: object }
    ? (req: ServiceRequest<Ops[O]>) => Promise<ReplyOf<Ops[O]>> | ReplyOf<Ops[O]>
    : never;
};

export interface ContractServer {
  server: http.Server;
  listen(port: number, host: string): Promise<AddressInfo>;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 4 * 1024 * 1024;

/**
 * Serves `document` (one of spec/downstream/*.yaml) with `handlers`: requests are validated by
 * the contract, operations with security need `X-API-Key`, and every error is `{detail}` with
 * the status the contract gives it.
 */
export async function serveContract<Ops>(opts: {
  name: Exclude<ContractName, 'gateway'>;
  document: unknown;
  handlers: ServiceHandlers<Ops>;
  apiKey: string;
  logger: Logger;
}): Promise<ContractServer> {
  const contract = await loadContract(opts.name, opts.document);
  const { api, routes } = contract;
  const router = new Router(routes);
  const key = digest(opts.apiKey);
  const handlers = opts.handlers as Record<string, (req: unknown) => Promise<AnyReply> | AnyReply>;
  for (const route of routes) {
    const handler = handlers[route.operationId];
    if (!handler) throw new Error(`${opts.name}: no handler for ${route.operationId}`);
    api.register(route.operationId, (c: Context) =>
      handler({
        body: c.request.requestBody as unknown,
        params: c.request.params as unknown,
        query: c.request.query as unknown,
      }),
    );
  }

  const send = (res: http.ServerResponse, status: number, body: unknown): void => {
    const payload = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(payload),
    });
    res.end(payload);
  };

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const { path, query } = splitUrl(req.url);
    try {
      const match = router.match(req.method ?? 'GET', path);
      if (match.kind === 'none') throw new ServiceError(404, 'Not Found');
      if (match.kind === 'method') throw new ServiceError(405, 'Method Not Allowed');
      if (match.undecodable !== undefined)
        throw new ServiceError(400, 'The path is not valid percent-encoding');
      if (match.op.schemes.length > 0) {
        if (!keyMatches(header(req, 'x-api-key'), [key]))
          throw new ServiceError(401, 'Invalid API key');
      }
      const { raw, body } = match.op.hasBody
        ? await readJsonRaw(req, MAX_BODY_BYTES)
        : { raw: undefined, body: undefined };
      if (match.op.schemes.length > 0) {
        // Signed by the key's holder, just now, over exactly this request: a request taken off
        // the wire can be neither replayed later nor altered.
        const why = checkSignature(
          opts.apiKey,
          header(req, SIGNATURE_HEADER),
          req.method ?? 'GET',
          req.url ?? '/',
          raw,
        );
        if (why) throw new ServiceError(401, `Refused: ${why}`);
      }
      const request = {
        params: match.params,
        query: parseQuery(query, match.op.query),
        headers: req.headers,
        requestBody: body,
      };
      const errors = contract.check(match.op, request);
      if (errors) throw new ServiceError(422, describeErrors(errors));
      const reply = (await contract.dispatch(match.op, request)) as AnyReply;
      send(res, reply.status, reply.body);
    } catch (err) {
      if (err instanceof ServiceError) send(res, err.status, { detail: err.message });
      else if (isGatewayError(err)) send(res, err.status, { detail: err.message });
      else {
        opts.logger.error({ err, service: opts.name, path }, 'reference service failed');
        send(res, 500, { detail: 'Internal error' });
      }
    }
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  server.keepAliveTimeout = 65_000;
  return {
    server,
    listen: (port, host) => listen(server, port, host),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** One of spec/downstream/*.yaml, parsed. */
export function downstreamDocument(name: 'queue' | 'storage' | 'executor'): unknown {
  return parse(readFileSync(join(projectRoot, 'spec', 'downstream', `${name}.yaml`), 'utf8'));
}
