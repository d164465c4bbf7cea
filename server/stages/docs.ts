import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type express from 'express';
import { GatewayError } from '../../lib/errors.js';
import type { createProblemWriter } from './problem.js';
import { MARK_SVG, localRedocBundle, markIco } from './docs-icons.js';

type Serve = (req: IncomingMessage, res: ServerResponse) => void;
const require = createRequire(import.meta.url);

/** Whether a path is one of the docs portal's static files. */
export const isDocsAsset = (path: string): boolean =>
  path.startsWith('/docs/assets/') ||
  path.startsWith('/redoc/assets/') ||
  path === '/favicon.ico' ||
  path === '/favicon.svg';

/**
 * The docs portal's static files (Swagger UI and ReDoc bundles from their installed packages),
 * served by express, which is loaded on the first such request: the API never needs it (it costs
 * ~120–150 µs a request here before any of our code runs).
 */
export function createDocsAssets(
  problem: ReturnType<typeof createProblemWriter>,
): () => Promise<Serve> {
  let app: Promise<Serve> | undefined;
  const build = async (): Promise<Serve> => {
    const { default: express } = await import('express');
    const docs = express();
    docs.disable('x-powered-by');
    const staticOpts = { immutable: true, maxAge: '1d', fallthrough: false } as const;
    const cached = { 'cache-control': 'public, max-age=86400' };
    const svg = (_req: express.Request, res: express.Response) =>
      void res.set(cached).type('image/svg+xml').send(MARK_SVG);
    docs.get('/favicon.svg', svg);
    docs.get('/redoc/assets/logo.svg', svg);
    const ico = markIco();
    docs.get('/favicon.ico', (_req, res) => void res.set(cached).type('image/x-icon').send(ico));
    let redoc: string | undefined;
    docs.get('/redoc/assets/redoc.standalone.js', (_req, res) => {
      redoc ??= localRedocBundle();
      res.set(cached).type('application/javascript').send(redoc);
    });
    docs.use(
      '/docs/assets',
      express.static(dirname(require.resolve('swagger-ui-dist/package.json')), staticOpts),
    );
    docs.use(
      '/redoc/assets',
      express.static(dirname(require.resolve('redoc/bundles/redoc.standalone.js')), staticOpts),
    );
    docs.use(
      (err: unknown, req: express.Request, res: express.Response, _next: express.NextFunction) => {
        // Whatever the static server refuses (missing, a path leaving the directory, bad
        // percent-encoding, a method other than GET) is simply not an asset.
        const status = (err as { status?: number }).status ?? 500;
        const e =
          status >= 400 && status < 500
            ? new GatewayError('GW_ERR_NOT_FOUND', 'No such documentation asset')
            : err;
        problem(res, e, {
          requestId: String(res.getHeader('x-request-id') ?? randomUUID()),
          path: req.path,
        });
      },
    );
    return docs;
  };
  return () => (app ??= build());
}

/** Assets are read only: any other method is refused before the static server sees it. */
export function assertReadOnly(method: string | undefined): void {
  if (method !== 'GET' && method !== 'HEAD') {
    throw new GatewayError('GW_ERR_METHOD_NOT_ALLOWED', 'Documentation assets are read-only', {
      headers: { allow: 'GET, HEAD' },
    });
  }
}
