import { createHash } from 'node:crypto';
import type { Options } from 'ajv';

/**
 * Ajv options shared by the build-time compiler and the run-time lookup. They are part of each
 * validator's key, so a change here makes every precompiled validator miss until regenerated.
 */
export const AJV_OPTIONS = { strict: false, allErrors: true } as const satisfies Options;

/** Key of one validator openapi-backend asks for: its context, coercion and the exact schema. */
export function validatorKey(context: string, coerceTypes: unknown, schema: unknown): string {
  return (
    'v_' +
    createHash('sha256')
      .update(`${context}|${coerceTypes ? 'coerce' : 'plain'}|${JSON.stringify(schema)}`)
      .digest('hex')
      .slice(0, 24)
  );
}

/**
 * The openapi-backend options the generator and the server both use; validator keys depend on
 * them. `quick` skips the definition check at start (`npm run lint:spec` and the build do it).
 */
export const BACKEND_OPTIONS = { quick: true, ajvOpts: AJV_OPTIONS, coerceTypes: true } as const;
