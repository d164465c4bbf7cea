import { validationError } from '../lib/errors.js';
import type { Submitter } from '../lib/submitter.js';
import type { Handler } from './types.js';

export function submitEvaluation(submitter: Submitter): Handler<'submitEvaluation'> {
  return async ({ body }) => {
    const issues = submitter.check(body);
    if (issues.length) throw validationError(issues);
    const accepted = await submitter.submit(body);
    return {
      status: 202,
      body: { ...accepted, status: 'queued', message: 'Evaluation queued successfully' },
    };
  };
}
