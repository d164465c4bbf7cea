import type { Deps, Handler } from './types.js';

export function getOpenApiYaml({ spec }: Deps): Handler<'getOpenApiYaml'> {
  return () => ({ status: 200, contentType: 'application/yaml', body: spec.yaml });
}

/** `GET /api/events.yaml`: the event contract, linked from the docs (the spec's externalDocs). */
export function getEventsYaml({ spec }: Deps): Handler<'getEventsYaml'> {
  return () => ({ status: 200, contentType: 'application/yaml', body: spec.eventsYaml });
}
