import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import type { ValidateFunction } from 'ajv';
import formatsModule from 'ajv-formats';
import { generatedDir } from '../../lib/paths.js';

const addFormats = formatsModule as unknown as typeof formatsModule.default;

interface Operation {
  operationId: string;
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}
interface Spec {
  info: { description?: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components: Record<string, Record<string, unknown>>;
}

export const spec = JSON.parse(readFileSync(join(generatedDir, 'openapi.json'), 'utf8')) as Spec;

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ $id: 'urn:crucible:gateway', components: spec.components });

/** Every operationId in the spec. */
export const operationIds = Object.values(spec.paths).flatMap((item) =>
  Object.values(item).map((op) => op.operationId),
);

function resolve(obj: unknown): Record<string, unknown> {
  let o = obj as Record<string, unknown>;
  while (typeof o?.$ref === 'string') {
    const parts = o.$ref.replace('#/', '').split('/');
    o = parts.reduce<unknown>((acc, p) => (acc as Record<string, unknown>)[p], spec) as Record<
      string,
      unknown
    >;
  }
  return o;
}

/** Rewrites local refs so the schema compiles against the registered spec components. */
function anchored(schema: unknown): unknown {
  return JSON.parse(
    JSON.stringify(schema).replaceAll('"#/components/', '"urn:crucible:gateway#/components/'),
  );
}

export function findOperation(
  method: string,
  path: string,
): { template: string; op: Operation } | undefined {
  const clean = path.split('?')[0] ?? path;
  for (const [template, item] of Object.entries(spec.paths)) {
    const re = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
    const op = item[method.toLowerCase()];
    if (op && re.test(clean)) return { template, op };
  }
  return undefined;
}

const cache = new Map<string, ValidateFunction>();
function compiled(key: string, schema: unknown): ValidateFunction {
  let v = cache.get(key);
  if (!v) cache.set(key, (v = ajv.compile(anchored(schema) as object)));
  return v;
}

const problemSchema = { $ref: '#/components/schemas/Problem' };

/**
 * Checks an answer against spec/openapi.yaml: the status must be one the operation lists, the
 * content type the one listed for it, and the body valid against its schema. Answers to paths
 * or methods the spec does not have must be problems. Returns a list of violations.
 */
/** The media types the spec gives an operation's answer with `status` (none when not listed). */
export function declaredTypes(method: string, path: string, status: number): string[] {
  const found = findOperation(method, path);
  const response = found?.op.responses[String(status)];
  if (!response) return [];
  return Object.keys((resolve(response).content as Record<string, unknown> | undefined) ?? {});
}

export function contractViolations(
  method: string,
  path: string,
  status: number,
  contentType: string,
  body: unknown,
): string[] {
  const found = findOperation(method, path);
  const type = contentType.split(';')[0]?.trim() ?? '';
  // The spec's description: refusals before an operation is recognised, for any operation.
  const transport =
    [408, 417, 431].includes(status) || (status === 400 && !found?.op.responses['400']);
  if (!found || transport) {
    if (type !== 'application/problem+json')
      return [`${method} ${path}: off-spec answer is ${type}, not a problem`];
    const v = compiled('problem', problemSchema);
    return v(body) ? [] : [`problem body: ${ajv.errorsText(v.errors)}`];
  }
  const response = found.op.responses[String(status)];
  if (!response) return [`${found.op.operationId}: status ${status} is not in the spec`];
  const content = resolve(response).content as Record<string, { schema?: unknown }> | undefined;
  const media = content?.[type];
  if (!media) return [`${found.op.operationId} ${status}: content type ${type} is not in the spec`];
  if (!media.schema) return [];
  const v = compiled(`${found.op.operationId}|${status}|${type}`, media.schema);
  return v(body) ? [] : [`${found.op.operationId} ${status}: ${ajv.errorsText(v.errors)}`];
}

/** Violations of one of spec/openapi.yaml's schemas (a webhook's body, say); [] when valid. */
export function schemaViolations(name: string, value: unknown): string[] {
  const v = compiled(`schema|${name}`, { $ref: `#/components/schemas/${name}` });
  return v(value) ? [] : [`${name}: ${ajv.errorsText(v.errors)}`];
}

/** Violations of a schema as the spec writes it (local refs allowed); [] when valid. */
export function valueViolations(schema: unknown, value: unknown): string[] {
  const v = compiled(`value|${JSON.stringify(schema)}`, schema);
  return v(value) ? [] : [ajv.errorsText(v.errors)];
}
