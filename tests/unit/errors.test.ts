import { expect } from 'chai';
import {
  ERRORS,
  GatewayError,
  PROBLEM_TYPE_PREFIX,
  toProblem,
  validationError,
} from '../../lib/errors.js';
import { spec } from '../helpers/contract.js';

describe('the error catalogue', () => {
  it('has exactly the codes the spec lists in ErrorCode', () => {
    const inSpec = (spec.components.schemas?.ErrorCode as { enum: string[] }).enum;
    expect(Object.keys(ERRORS).sort()).to.deep.equal([...inSpec].sort());
  });

  it('gives each code a distinct problem type', () => {
    const slugs = Object.values(ERRORS).map((e) => e.slug);
    expect(new Set(slugs).size).to.equal(slugs.length);
  });

  it('answers every status it uses somewhere in the spec, except those no operation lists (405, 500, and the refusals below the API the spec describes: 408, 417, 431)', () => {
    const statuses = new Set<string>();
    for (const item of Object.values(spec.paths))
      for (const op of Object.values(item))
        for (const s of Object.keys(op.responses)) statuses.add(s);
    for (const e of Object.values(ERRORS)) {
      if ([405, 500, 408, 417, 431].includes(e.status)) {
        expect(spec.info.description ?? '', `status ${e.status}`).to.satisfy(
          (d: string) => e.status === 405 || e.status === 500 || d.includes(String(e.status)),
        );
        continue;
      }
      expect(statuses.has(String(e.status)), `status ${e.status}`).to.equal(true);
    }
  });
});

describe('toProblem', () => {
  it('turns a GatewayError into an RFC 9457 problem', () => {
    const p = toProblem(
      new GatewayError('GW_ERR_EVALUATION_NOT_FOUND', 'No evaluation has the id e1'),
      '/api/eval-status/e1',
      'r1',
    );
    expect(p).to.deep.equal({
      type: `${PROBLEM_TYPE_PREFIX}evaluation-not-found`,
      title: 'Evaluation not found',
      status: 404,
      detail: 'No evaluation has the id e1',
      code: 'GW_ERR_EVALUATION_NOT_FOUND',
      instance: '/api/eval-status/e1',
      request_id: 'r1',
    });
  });

  it('hides anything that is not a GatewayError behind a generic 500', () => {
    const p = toProblem(
      new TypeError("Cannot read properties of undefined (reading 'x') at /srv/app.ts:12"),
    );
    expect(p).to.include({
      status: 500,
      code: 'GW_ERR_INTERNAL',
      detail: 'The gateway failed to handle the request',
    });
    expect(JSON.stringify(p)).not.to.match(/reading|app\.ts/);
  });

  it('validationError names the first issue and counts the rest', () => {
    const e = validationError([
      { in: 'body', pointer: '/code', message: 'must not be blank' },
      { in: 'body', pointer: '/timeout', message: 'must be <= 300' },
    ]);
    expect(e.status).to.equal(422);
    expect(e.message).to.equal('The request is invalid: /code must not be blank (and 1 more)');
    expect(toProblem(e).errors).to.have.length(2);
  });
});
