import type { Deps, Handler } from './types.js';

export function getSwaggerUi({ spec }: Deps): Handler<'getSwaggerUi'> {
  return () => ({ status: 200, contentType: 'text/html', body: spec.swaggerHtml });
}
