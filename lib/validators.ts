import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { ErrorObject } from 'ajv';
import { generatedDir } from './paths.js';
import type { SchemaName } from '../generated/validators/schema-names.js';

/** A precompiled ajv validator: returns whether `data` is valid and leaves the errors on itself. */
export interface Validator {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}

const require = createRequire(import.meta.url);
const load = (file: string): Record<string, Validator> =>
  require(join(generatedDir, 'validators', file)) as Record<string, Validator>;

/** The validators openapi-backend asks for, keyed by `validatorKey()`. */
export const requestValidators: Readonly<Record<string, Validator>> = Object.freeze({
  ...load('request-bodies.cjs'),
  ...load('request-params.cjs'),
});

const named = load('schemas.cjs');

/** The configuration's JSON Schema (lib/config-schema.ts), precompiled. */
export const configValidator: Validator = (() => {
  const v = load('config.cjs').config;
  if (!v) throw new Error('no generated config validator; run npm run generate');
  return v;
})();

/** A named schema of a downstream contract or of the event payloads, e.g. `storage_Evaluation`. */
export function schemaValidator(name: SchemaName): Validator {
  const v = named[name];
  if (!v) throw new Error(`no generated validator ${name}; run npm run generate`);
  return v;
}

/** One line per ajv error, for logs and 502 details. */
export function describeErrors(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`)
    .join('; ');
}
