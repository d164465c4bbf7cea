import type { Deps, Handler } from './types.js';

export function getRedoc({ spec }: Deps): Handler<'getRedoc'> {
  return () => ({ status: 200, contentType: 'text/html', body: spec.redocHtml });
}
