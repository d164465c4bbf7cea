import type { Deps, Handler } from './types.js';

export function getApiRoot({ spec }: Deps): Handler<'getApiRoot'> {
  const body = {
    service: spec.title,
    version: spec.version,
    docs: {
      swagger_ui: '/docs',
      redoc: '/redoc',
      openapi_yaml: '/api/openapi.yaml',
      openapi_json: '/api/openapi.json',
      events_yaml: '/api/events.yaml',
    },
    endpoints: spec.endpoints,
  };
  return () => ({ status: 200, body });
}
