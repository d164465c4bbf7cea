import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { components } from '../generated/types/gateway.js';
import { generatedDir, specPath } from './paths.js';

type Endpoint = components['schemas']['ApiRoot']['endpoints'][number];

/** The published contract, loaded once at start, and what is derived from it. */
export interface SpecInfo {
  /** The parsed document (generated/openapi.json), handed to openapi-backend. */
  document: Record<string, unknown>;
  /** The same, serialized once for GET /api/openapi.json. */
  json: string;
  /** spec/openapi.yaml exactly as written. */
  yaml: string;
  /** spec/events.yaml (WebSocket and Redis events) exactly as written. */
  eventsYaml: string;
  title: string;
  version: string;
  endpoints: Endpoint[];
  swaggerHtml: string;
  redocHtml: string;
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

interface OperationLike {
  operationId?: string;
  summary?: string;
}

function page(title: string, head: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
${head}
</head>
<body>
${body}
</body>
</html>
`;
}

export function loadSpec(): SpecInfo {
  const json = readFileSync(join(generatedDir, 'openapi.json'), 'utf8');
  const document = JSON.parse(json) as Record<string, unknown> & {
    info: { title: string; version: string };
    paths: Record<string, Record<string, OperationLike>>;
  };
  const endpoints: Endpoint[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (op?.operationId) {
        endpoints.push({
          method: method.toUpperCase(),
          path,
          operation_id: op.operationId,
          summary: op.summary ?? '',
        });
      }
    }
  }
  const title = document.info.title;
  // Both pages load their scripts from this gateway (see server/app.ts), never from a CDN, so
  // the documentation works with no internet access.
  const swaggerHtml = page(
    `${title} — Swagger UI`,
    '<link rel="stylesheet" href="/docs/assets/swagger-ui.css">',
    `<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
<script>
window.ui = SwaggerUIBundle({
  url: '/api/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: 'StandaloneLayout'
});
</script>`,
  );
  const redocHtml = page(
    `${title} — ReDoc`,
    '<style>body{margin:0;padding:0}</style>',
    `<redoc spec-url="/api/openapi.json"></redoc>
<script src="/redoc/assets/redoc.standalone.js"></script>`,
  );
  return {
    document,
    json,
    yaml: readFileSync(specPath, 'utf8'),
    eventsYaml: readFileSync(join(dirname(specPath), 'events.yaml'), 'utf8'),
    title,
    version: document.info.version,
    endpoints,
    swaggerHtml,
    redocHtml,
  };
}
