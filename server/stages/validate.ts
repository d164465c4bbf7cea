import type { ErrorObject } from 'ajv';
import { GatewayError, validationError } from '../../lib/errors.js';
import type { ValidationIssue } from '../../lib/errors.js';
import type { CheckedRequest, Contract } from '../../lib/http/openapi.js';
import type { RouteOperation } from '../../lib/http/router.js';
import type { EvaluationRequest } from '../../core/evaluation.js';
import type { Submitter } from '../../core/submitter.js';

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
    } else if (e.keyword === 'enum') {
      message = `must be one of: ${(params.allowedValues as unknown[]).map(String).join(', ')}`;
    }
    return { in: place, pointer, message };
  });
}

/** Rules beyond the schema for an operation's body, by operationId (the submitter's). */
export type BodyChecks = Partial<Record<string, (body: unknown) => ValidationIssue[]>>;

/** The submitter's rules, for a submit and for each item of a batch. */
export function submitChecks(submitter: Pick<Submitter, 'check'>): BodyChecks {
  return {
    submitEvaluation: (body) => submitter.check(body as EvaluationRequest),
    submitEvaluationBatch: (body) => {
      const items = (body as { evaluations?: unknown }).evaluations;
      return Array.isArray(items)
        ? items.flatMap((item, i) =>
            item !== null && typeof item === 'object'
              ? submitter.check(item as EvaluationRequest, `/evaluations/${i}`)
              : [],
          )
        : [];
    },
  };
}

const isLanguageIssue = (i: ValidationIssue): boolean =>
  /\/language$/.test(i.pointer) && i.message.startsWith('must be one of');

/**
 * Stage 7: the operation's precompiled validators and its rules beyond the schema, together:
 * 422 with every issue found. A request whose only fault is a language outside the allow-list
 * gets `GW_ERR_LANGUAGE_NOT_ALLOWED`, so that a client can tell it apart.
 */
export function createValidate(
  contract: Contract,
  checks: BodyChecks = {},
): (op: RouteOperation, request: CheckedRequest) => void {
  return (op, request) => {
    const errors = contract.check(op, request);
    const body = request.requestBody;
    const more =
      body !== null && typeof body === 'object' ? (checks[op.operationId]?.(body) ?? []) : [];
    if (!errors && !more.length) return;
    const issues = [...issuesFromAjv(errors), ...more];
    if (issues.every(isLanguageIssue))
      throw new GatewayError(
        'GW_ERR_LANGUAGE_NOT_ALLOWED',
        `The request is invalid: ${issues[0]!.pointer} ${issues[0]!.message}`,
        { errors: issues },
      );
    throw validationError(issues);
  };
}
