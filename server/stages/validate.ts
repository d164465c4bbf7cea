import type { ErrorObject } from 'ajv';
import { validationError } from '../../lib/errors.js';
import type { ValidationIssue } from '../../lib/errors.js';
import type { CheckedRequest, Contract } from '../../lib/http/openapi.js';
import type { RouteOperation } from '../../lib/http/router.js';

/** Where openapi-backend's validated object keeps each part of the request. */
const PLACES: Record<string, ValidationIssue['in']> = {
  requestBody: 'body',
  path: 'path',
  query: 'query',
  header: 'header',
};

/** What a pattern of the spec means, for people rather than regex readers. */
const PATTERN_MESSAGES: Record<string, string> = {
  '\\S': 'must not be blank',
  '^[^\\u0000\\uD800-\\uDFFF]*$':
    'must not contain a NUL character (U+0000) or an unpaired UTF-16 surrogate',
};

/** Turns ajv errors into the spec's ValidationIssue list. */
export function issuesFromAjv(errors: ErrorObject[] | null | undefined): ValidationIssue[] {
  return (errors ?? []).map((e) => {
    const [, where = '', ...rest] = e.instancePath.split('/');
    const place = PLACES[where] ?? 'body';
    let pointer = rest.length ? `/${rest.join('/')}` : '';
    let message = e.message ?? 'is invalid';
    const params = e.params as Record<string, unknown>;
    if (e.keyword === 'required') {
      if (params.missingProperty === 'requestBody')
        return { in: 'body', pointer: '', message: 'a JSON body is required' };
      pointer += `/${String(params.missingProperty)}`;
      message = 'is required';
    } else if (e.keyword === 'additionalProperties') {
      pointer += `/${String(params.additionalProperty)}`;
      message = 'is not allowed';
    } else if (e.keyword === 'pattern') {
      message = PATTERN_MESSAGES[String(params.pattern)] ?? message;
    }
    return { in: place, pointer, message };
  });
}

/** Stage 7: the operation's precompiled validators; 422 with every issue they found. */
export function createValidate(
  contract: Contract,
): (op: RouteOperation, request: CheckedRequest) => void {
  return (op, request) => {
    const errors = contract.check(op, request);
    if (errors) throw validationError(issuesFromAjv(errors));
  };
}
