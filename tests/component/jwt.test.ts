import { expect } from 'chai';
import nock from 'nock';
import { AUDIENCE, ISSUER, startJwks } from '../helpers/jwks.js';
import type { Jwks } from '../helpers/jwks.js';
import { connect } from '../helpers/ws-client.js';
import { QUEUE, STORAGE, isolate, startGateway } from '../helpers/harness.js';
import type { Gateway } from '../helpers/harness.js';

/** Bearer tokens from an identity provider whose keys the gateway reads from its JWKS. */
describe('JWT bearer tokens (JWKS)', () => {
  isolate();
  let gw: Gateway;
  let idp: Jwks;
  let sign: Jwks['sign'];
  let signWithStranger: Jwks['signWithStranger'];

  before(async () => {
    idp = await startJwks();
    ({ sign, signWithStranger } = idp);
    gw = await startGateway({
      JWT_JWKS_URL: idp.url,
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
    });
  });
  after(async () => {
    await gw.close();
    await idp.close();
  });

  const as = (token: string, method = 'GET', path = '/api/celery-status', json?: unknown) =>
    gw.call(method, path, { headers: { authorization: `Bearer ${token}` }, json });

  it('accepts a valid token: its subject is the owner, its scope claim the scopes', async () => {
    const r = await as(await sign({ sub: 'team-x', scope: 'evaluations:read' }));
    expect(r.status).to.equal(200);
    const write = await as(
      await sign({ sub: 'team-x', scope: 'evaluations:read' }),
      'POST',
      '/api/eval',
      {
        code: 'print(1)',
      },
    );
    expect(write.status).to.equal(403);
  });

  const now = () => Math.floor(Date.now() / 1000);
  const refusals: [string, () => Promise<string>][] = [
    [
      'expired (beyond the clock skew)',
      () => sign({ sub: 'x', scope: 'evaluations:read' }, { exp: now() - 120 }),
    ],
    [
      'not yet valid',
      () => sign({ sub: 'x', scope: 'evaluations:read' }, { nbf: now() + 600, exp: now() + 900 }),
    ],
    [
      'for another audience',
      () => sign({ sub: 'x', scope: 'evaluations:read', aud: 'someone-else' }),
    ],
    [
      'signed by a key the provider does not publish',
      () => signWithStranger({ sub: 'x', scope: 'evaluations:read' }),
    ],
    ['not a JWT at all', () => Promise.resolve('not.a.jwt')],
  ];
  for (const [what, token] of refusals) {
    it(`refuses a token ${what} with 401 and a Bearer challenge`, async () => {
      const r = await as(await token());
      expect(r.status).to.equal(401);
      expect(r.headers.get('www-authenticate')).to.match(
        /^Bearer realm="crucible", error="invalid_token"/,
      );
      expect(r.body.code).to.equal('GW_ERR_UNAUTHORIZED');
    });
  }

  it('keeps token owners apart: another subject reads 404', async () => {
    nock(QUEUE)
      .post('/tasks')
      .reply(200, (_u, b: any) => ({ eval_id: b.eval_id, status: 'queued', position: 0 }));
    const rw = 'evaluations:read evaluations:write';
    const mine = await as(await sign({ sub: 'team-x', scope: rw }), 'POST', '/api/eval', {
      code: 'print(1)',
    });
    expect(mine.status).to.equal(202);
    nock(STORAGE).get(`/evaluations/${mine.body.eval_id}`).reply(404, { detail: 'Not Found' });
    const theirs = await as(
      await sign({ sub: 'team-y', scope: rw }),
      'GET',
      `/api/eval-status/${mine.body.eval_id}`,
    );
    expect(theirs.status).to.equal(404);
  });

  it('lets a token watch over WebSocket: its own evaluations only, never `all`', async () => {
    const wsUrl = `${gw.url.replace('http', 'ws')}/ws`;
    let refused = '';
    await connect(wsUrl).catch((e: Error) => (refused = e.message));
    expect(refused).to.equal('upgrade refused: 401'); // no credential
    const token = await sign({ sub: 'team-w', scope: 'evaluations:read' });
    const c = await connect(wsUrl, { authorization: `Bearer ${token}` });
    try {
      c.send({ type: 'subscribe', all: true });
      const denied = await c.next((m) => m.type === 'error');
      expect(denied).to.include({ code: 'GW_ERR_FORBIDDEN' });
      const id = 'eval_20240701_120000_0123456789ab';
      nock(STORAGE).get(`/evaluations/${id}`).reply(404, { detail: 'Not Found' });
      c.send({ type: 'subscribe', eval_ids: [id] });
      const missing = await c.next((m) => m.type === 'error' && m.eval_id === id);
      expect(missing.code).to.equal('GW_ERR_EVALUATION_NOT_FOUND');
    } finally {
      c.close();
    }
  });

  it('is not open to calls without any credential', async () => {
    const r = await gw.call('GET', '/api/celery-status');
    expect(r.status).to.equal(401);
  });
});
