import type { Deps, Handler } from './types.js';

export function getOpenApiYaml({ spec }: Deps): Handler<'getOpenApiYaml'> {
  return () => ({ status: 200, contentType: 'application/yaml', body: spec.yaml });
}
