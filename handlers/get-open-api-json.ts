import type { Deps, Handler } from './types.js';

export function getOpenApiJson({ spec }: Deps): Handler<'getOpenApiJson'> {
  return () => ({ status: 200, body: spec.document });
}
