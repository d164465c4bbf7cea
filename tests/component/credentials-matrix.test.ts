import { expect } from 'chai';
import nock from 'nock';
import { QUEUE, STORAGE, startGateway, stored } from '../helpers/harness.js';
import type { Gateway } from '../helpers/harness.js';
import { spec } from '../helpers/contract.js';
import { AUDIENCE, ISSUER, startJwks } from '../helpers/jwks.js';
import type { Jwks } from '../helpers/jwks.js';

interface Op {
  operationId: string;
  method: string;
  template: string;
  scope: string | undefined;
  isPublic: boolean;
  body: unknown;
}

/** Every operation of the spec, with what the matrix needs to call it. */
const OPS: Op[] = Object.entries(spec.paths).flatMap(([template, item]) =>
  Object.entries(item).map(([method, op]: [string, any]) => {
    const content = op.requestBody?.content?.['application/json'];
    const example = content?.examples ? Object.values<any>(content.examples)[0]?.value : undefined;
    return {
      operationId: op.operationId,
      method: method.toUpperCase(),
      template,
      scope: op['x-required-scope'],
      isPublic: Array.isArray(op.security) && op.security.length === 0,
      body: example,
    };
  }),
);

const RW = ['evaluations:read', 'evaluations:write'];

/**
 * Generated from the spec, so a new operation is covered the day it is added: every operation ×
 * {no credential, wrong key, revoked key, expired JWT, JWT for another audience, a key without
 * the scope, another owner's evaluation, the right credential} → the answer its security says.
 */
describe('the credential matrix (every operation of the spec)', () => {
  let gw: Gateway;
  let idp: Jwks;
  let evalId: string;
  let batchId: string;
  const secrets: Record<string, string> = {};
  let spareKey: string;

  before(async () => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    idp = await startJwks();
    gw = await startGateway({
      ADMIN_API_KEY: 'matrix-admin',
      // The matrix sends many failing credentials on purpose; the throttle is tested apart.
      AUTH_FAILURES_PER_MINUTE: '0',
      JWT_JWKS_URL: idp.url,
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
      // Owner A's evaluation and batch have webhooks (to nowhere: they never end here).
      WEBHOOK_ALLOW_PRIVATE: 'true',
    });
    const admin = { 'x-admin-key': 'matrix-admin' };
    const make = async (owner: string, scopes: string[]) =>
      (await gw.call('POST', '/api/admin/keys', { json: { owner, scopes }, headers: admin })).body;
    secrets.ownerA = (await make('team-a', RW)).secret;
    secrets.ownerB = (await make('team-b', RW)).secret;
    secrets.readOnly = (await make('team-a', ['evaluations:read'])).secret;
    const revoked = await make('team-a', RW);
    await gw.call('DELETE', `/api/admin/keys/${revoked.id}`, { headers: admin });
    secrets.revoked = revoked.secret;
    spareKey = (await make('team-z', RW)).id;
    // The services behind the gateway, answering whatever a permitted call asks.
    nock(QUEUE)
      .persist()
      .post('/tasks')
      .reply(200, (_u, b: any) => ({ eval_id: b.eval_id, status: 'queued', position: 0 }));
    nock(QUEUE)
      .persist()
      .get(/.*/)
      .reply(200, { queued: 0, processing: 0, queue_length: 0, total_tasks: 0 });
    nock(QUEUE).persist().delete(/.*/).reply(200, { status: 'removed' });
    const sub = await gw.call('POST', '/api/eval', {
      json: { code: 'print(1)', callback_url: 'http://127.0.0.1:9/hook' },
      headers: { 'x-api-key': secrets.ownerA ?? '' },
    });
    evalId = sub.body.eval_id;
    const batch = await gw.call('POST', '/api/eval-batch', {
      json: { evaluations: [{ code: 'print(1)' }], callback_url: 'http://127.0.0.1:9/hook' },
      headers: { 'x-api-key': secrets.ownerA ?? '' },
    });
    batchId = batch.body.batch_id;
    nock(STORAGE)
      .persist()
      .get(`/evaluations/${evalId}`)
      .reply(200, stored(evalId, { status: 'queued' }));
    nock(STORAGE)
      .persist()
      .get(`/evaluations/${evalId}/running`)
      .reply(404, { detail: 'Not Found' });
    nock(STORAGE)
      .persist()
      .put(`/evaluations/${evalId}`)
      .reply(200, stored(evalId, { status: 'failed' }));
    nock(STORAGE)
      .persist()
      .get('/evaluations')
      .query(true)
      .reply(200, { evaluations: [], total: 0, limit: 20, offset: 0, has_more: false });
    nock(STORAGE).persist().get('/statistics').reply(200, { total_evaluations: 0, by_status: {} });
  });
  after(async () => {
    await gw.close();
    await idp.close();
    nock.cleanAll();
    nock.enableNetConnect();
  });

  const pathOf = (op: Op): string =>
    op.template
      .replace('{eval_id}', evalId)
      .replace('{key_id}', spareKey)
      .replace('{batch_id}', batchId);
  const call = (op: Op, headers: Record<string, string>) =>
    gw.call(op.method, pathOf(op), { headers, json: op.body });
  const bearer = async (claims: Record<string, unknown>, over?: { exp?: number }) => ({
    authorization: `Bearer ${await idp.sign(claims, over)}`,
  });
  const now = () => Math.floor(Date.now() / 1000);
  const right = (op: Op): Record<string, string> =>
    op.scope === 'admin'
      ? { 'x-admin-key': 'matrix-admin' }
      : { 'x-api-key': secrets.ownerA ?? '' };

  for (const op of OPS) {
    describe(`${op.method} ${op.template} (${op.operationId})`, () => {
      if (op.isPublic) {
        it('is public: answers without a credential, and with a wrong one', async () => {
          for (const headers of [{}, { 'x-api-key': 'wrong' }] as Record<string, string>[]) {
            const r = await call(op, headers);
            expect(r.status, JSON.stringify(r.body)).to.not.be.oneOf([401, 403]);
          }
        });
        return;
      }
      const refused: [string, () => Promise<Record<string, string>>][] = [
        ['no credential', () => Promise.resolve({})],
        ['a wrong key', () => Promise.resolve({ 'x-api-key': 'crk_AAAAAAAA_' + 'A'.repeat(43) })],
        ['a revoked key', () => Promise.resolve({ 'x-api-key': secrets.revoked! })],
        [
          'an expired JWT',
          () => bearer({ sub: 'team-a', scope: RW.join(' ') }, { exp: now() - 600 }),
        ],
        [
          'a JWT for another audience',
          () => bearer({ sub: 'team-a', scope: RW.join(' '), aud: 'other' }),
        ],
      ];
      for (const [what, headers] of refused) {
        it(`answers 401 to ${what}`, async () => {
          const r = await call(op, await headers());
          expect(r.status).to.equal(401);
          expect(r.headers.get('www-authenticate')).to.be.a('string');
        });
      }
      if (op.scope !== 'evaluations:read') {
        it(`answers 403 to a key without the ${op.scope} scope`, async () => {
          expect((await call(op, { 'x-api-key': secrets.readOnly! })).status).to.equal(403);
        });
      }
      if (op.template.includes('{eval_id}') && op.scope !== 'admin') {
        it("answers 404 to another owner's key, as if the evaluation did not exist", async () => {
          const r = await call(op, { 'x-api-key': secrets.ownerB! });
          expect(r.status).to.equal(404);
          expect(r.body.code).to.equal('GW_ERR_EVALUATION_NOT_FOUND');
        });
      }
      it('lets the right credential through', async () => {
        const r = await call(op, right(op));
        expect(r.status, JSON.stringify(r.body)).to.not.be.oneOf([401, 403, 404]);
      });
    });
  }
});
