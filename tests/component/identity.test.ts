import { expect } from 'chai';
import nock from 'nock';
import { pino } from 'pino';
import { QUEUE, STORAGE, isolate, startGateway } from '../helpers/harness.js';
import type { Gateway } from '../helpers/harness.js';

const admin = { 'x-admin-key': 'root-secret' };

/** Managed keys, owners and scopes, as an operator and two teams use them. */
describe('API keys, owners and scopes', () => {
  isolate();
  let gw: Gateway;
  beforeEach(async () => {
    gw = await startGateway({ ADMIN_API_KEY: 'root-secret' });
  });
  afterEach(() => gw.close());

  const createKey = async (owner: string, scopes: string[]) => {
    const r = await gw.call('POST', '/api/admin/keys', { json: { owner, scopes }, headers: admin });
    expect(r.status).to.equal(201);
    return r.body as { id: string; secret: string; prefix: string };
  };
  const submitAs = async (secret: string) => {
    nock(QUEUE)
      .post('/tasks')
      .reply(200, (_u, b: any) => ({ eval_id: b.eval_id, status: 'queued', position: 0 }));
    return gw.call('POST', '/api/eval', {
      json: { code: 'print(1)' },
      headers: { 'x-api-key': secret },
    });
  };
  const statusAs = (secret: string, id: string) => {
    nock(STORAGE).get(`/evaluations/${id}`).reply(404, { detail: 'Not Found' });
    return gw.call('GET', `/api/eval-status/${id}`, { headers: { 'x-api-key': secret } });
  };

  it('shows a new key once; lists it by prefix, never its secret', async () => {
    const key = await createKey('team-a', ['evaluations:read', 'evaluations:write']);
    expect(key.secret).to.match(/^crk_[A-Za-z0-9]{8}_[A-Za-z0-9_-]{43}$/);
    expect(key.secret.startsWith(`${key.prefix}_`)).to.equal(true);
    const list = await gw.call('GET', '/api/admin/keys', { headers: admin });
    expect(list.body.keys).to.have.length(1);
    expect(list.body.keys[0]).to.include({ id: key.id, prefix: key.prefix, owner: 'team-a' });
    expect(list.text).to.not.include(key.secret.slice(13));
  });

  it('keeps each owner to its own evaluations: another owner gets 404, an admin sees all', async () => {
    const a = await createKey('team-a', ['evaluations:read', 'evaluations:write']);
    const b = await createKey('team-b', ['evaluations:read', 'evaluations:write']);
    const submitted = await submitAs(a.secret);
    expect(submitted.status).to.equal(202);
    const id = submitted.body.eval_id as string;
    expect((await statusAs(a.secret, id)).status).to.equal(200);
    const other = await statusAs(b.secret, id);
    expect(other.status).to.equal(404);
    expect(other.body.code).to.equal('GW_ERR_EVALUATION_NOT_FOUND');
    const ops = await createKey('ops', ['admin']); // admin: every scope, every owner
    expect((await statusAs(ops.secret, id)).status).to.equal(200);
    // Refused before anything is asked of storage or an executor.
    const kill = await gw.call('POST', `/api/eval/${id}/kill`, {
      headers: { 'x-api-key': b.secret },
    });
    expect(kill.status).to.equal(404);
  });

  it('refuses a key without the scope (403) and a missing or wrong key (401 with a challenge)', async () => {
    const reader = await createKey('team-a', ['evaluations:read']);
    const write = await gw.call('POST', '/api/eval', {
      json: { code: 'print(1)' },
      headers: { 'x-api-key': reader.secret },
    });
    expect(write.status).to.equal(403);
    expect(write.body.detail).to.equal('This operation needs the evaluations:write scope');
    const keys = await gw.call('GET', '/api/admin/keys', {
      headers: { 'x-api-key': reader.secret },
    });
    expect(keys.status).to.equal(403);
    // A key exists now: the gateway no longer runs open.
    const none = await gw.call('GET', '/api/evaluations');
    expect(none.status).to.equal(401);
    expect(none.headers.get('www-authenticate')).to.equal(
      'APIKey realm="crucible", header="X-API-Key"',
    );
    const wrong = await gw.call('GET', '/api/evaluations', {
      headers: { 'x-api-key': `${reader.prefix}_${'A'.repeat(43)}` },
    });
    expect(wrong.status).to.equal(401);
  });

  it('refuses a revoked key at once, and a rotated key by its old secret', async () => {
    const key = await createKey('team-a', ['evaluations:read', 'evaluations:write']);
    expect((await submitAs(key.secret)).status).to.equal(202);
    const rotated = await gw.call('POST', `/api/admin/keys/${key.id}/rotate`, { headers: admin });
    expect(rotated.status).to.equal(200);
    expect(rotated.body.secret).to.not.equal(key.secret);
    const old = await gw.call('GET', '/api/evaluations', { headers: { 'x-api-key': key.secret } });
    expect(old.status).to.equal(401);
    expect((await submitAs(rotated.body.secret)).status).to.equal(202);
    const revoked = await gw.call('DELETE', `/api/admin/keys/${key.id}`, { headers: admin });
    expect(revoked.status).to.equal(200);
    expect(revoked.body.revoked_at).to.be.a('string');
    const after = await gw.call('GET', '/api/evaluations', {
      headers: { 'x-api-key': rotated.body.secret },
    });
    expect(after.status).to.equal(401);
    const again = await gw.call('POST', `/api/admin/keys/${key.id}/rotate`, { headers: admin });
    expect(again.status).to.equal(409);
    const unknown = await gw.call('DELETE', '/api/admin/keys/key_0000000000000000', {
      headers: admin,
    });
    expect(unknown.status).to.equal(404);
    expect(unknown.body.code).to.equal('GW_ERR_KEY_NOT_FOUND');
  });

  it("lists a key's own owner's history only (storage filters by owner); an admin lists all", async () => {
    const a = await createKey('team-a', ['evaluations:read']);
    const ops = await createKey('ops', ['admin']);
    const page = { evaluations: [], total: 0, limit: 20, offset: 0, has_more: false };
    let asked: Record<string, string> = {};
    nock(STORAGE)
      .get('/evaluations')
      .query((q) => ((asked = q as Record<string, string>), true))
      .reply(200, page);
    expect(
      (await gw.call('GET', '/api/evaluations', { headers: { 'x-api-key': a.secret } })).status,
    ).to.equal(200);
    expect(asked.owner).to.equal('team-a');
    nock(STORAGE)
      .get('/evaluations')
      .query((q) => ((asked = q as Record<string, string>), true))
      .reply(200, page);
    expect(
      (await gw.call('GET', '/api/evaluations', { headers: { 'x-api-key': ops.secret } })).status,
    ).to.equal(200);
    expect(asked.owner).to.equal(undefined);
  });

  it('never writes a secret to its logs, even at trace level', async () => {
    const lines: string[] = [];
    const logged = await startGateway(
      { ADMIN_API_KEY: 'root-secret', API_KEYS: 'boot-secret-value' },
      pino({ level: 'trace' }, { write: (line: string) => void lines.push(line) }),
    );
    try {
      const made = await logged.call('POST', '/api/admin/keys', {
        json: { owner: 'team-a', scopes: ['evaluations:read'] },
        headers: admin,
      });
      const secret = made.body.secret as string;
      await logged.call('GET', '/api/celery-status', { headers: { 'x-api-key': secret } });
      await logged.call('GET', '/api/celery-status', { headers: { 'x-api-key': `${secret}x` } });
      await logged.call('GET', '/api/celery-status', {
        headers: { 'x-api-key': 'boot-secret-value' },
      });
      await logged.call('POST', `/api/admin/keys/${made.body.id}/rotate`, { headers: admin });
      expect(lines.length).to.be.greaterThan(0); // it did log
      for (const s of [secret.slice(13), 'root-secret', 'boot-secret-value'])
        expect(lines.filter((l) => l.includes(s))).to.deep.equal([]);
    } finally {
      await logged.close();
    }
  });

  it("holds a key to its own rate limit, whatever the gateway's", async () => {
    const made = await gw.call('POST', '/api/admin/keys', {
      json: { owner: 'team-r', scopes: ['evaluations:read'], rate_limit_per_minute: 2 },
      headers: admin,
    });
    expect(made.body).to.include({ rate_limit_per_minute: 2, max_concurrent: null });
    const as = () =>
      gw.call('GET', '/api/celery-status', { headers: { 'x-api-key': made.body.secret } });
    const first = await as();
    expect(first.headers.get('ratelimit-policy')).to.equal('"per-key";q=2;w=60');
    expect([first.status, (await as()).status, (await as()).status]).to.deep.equal([200, 200, 429]);
  });

  it('holds a key to its quota of unfinished evaluations (429 of its own type)', async () => {
    const made = await gw.call('POST', '/api/admin/keys', {
      json: { owner: 'team-q', scopes: ['evaluations:write'], max_concurrent: 2 },
      headers: admin,
    });
    const busy = (queued: number) =>
      nock(STORAGE)
        .get('/evaluations')
        .times(4)
        .query((q) => q.owner === 'team-q')
        .reply(200, (uri) => ({
          evaluations: [],
          total: uri.includes('status=queued') ? queued : 0,
          limit: 1,
          offset: 0,
          has_more: false,
        }));
    busy(2);
    const refused = await gw.call('POST', '/api/eval', {
      json: { code: 'print(1)' },
      headers: { 'x-api-key': made.body.secret },
    });
    expect(refused.status).to.equal(429);
    expect(refused.body.code).to.equal('GW_ERR_QUOTA_EXCEEDED');
    expect(refused.headers.get('retry-after')).to.equal('5');
    busy(1);
    expect((await submitAs(made.body.secret)).status).to.equal(202);
  });

  it('lets a key with the admin scope manage keys too', async () => {
    const ops = await createKey('ops', ['admin']);
    const made = await gw.call('POST', '/api/admin/keys', {
      json: { owner: 'team-c', scopes: ['evaluations:read'] },
      headers: { 'x-api-key': ops.secret },
    });
    expect(made.status).to.equal(201);
    expect(made.body.owner).to.equal('team-c');
  });
});
