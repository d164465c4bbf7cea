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
    },
    endpoints: spec.endpoints,
  };
  return () => ({ status: 200, body });
}

export function getSwaggerUi({ spec }: Deps): Handler<'getSwaggerUi'> {
  return () => ({ status: 200, contentType: 'text/html', body: spec.swaggerHtml });
}

export function getRedoc({ spec }: Deps): Handler<'getRedoc'> {
  return () => ({ status: 200, contentType: 'text/html', body: spec.redocHtml });
}

export function getOpenApiYaml({ spec }: Deps): Handler<'getOpenApiYaml'> {
  return () => ({ status: 200, contentType: 'application/yaml', body: spec.yaml });
}

export function getOpenApiJson({ spec }: Deps): Handler<'getOpenApiJson'> {
  return () => ({ status: 200, body: spec.document });
}
