import { expect } from 'chai';
import nock from 'nock';
import { INTERNAL_KEY, QUEUE, STORAGE, isolate, startGateway, stored } from '../helpers/harness.js';
import type { Gateway } from '../helpers/harness.js';

const ID = 'eval_20240701_120000_abc123def456';

describe('reading evaluations', () => {
  isolate();
  let gw: Gateway;
  before(async () => {
    gw = await startGateway();
  });
  after(() => gw.close());

  describe('GET /api/eval-status/{eval_id}', () => {
    it('answers the stored result in the brief shape, timestamps in UTC', async () => {
      nock(STORAGE, { reqheaders: { 'x-api-key': INTERNAL_KEY } })
        .get(`/evaluations/${ID}`)
        .reply(
          200,
          stored(ID, {
            status: 'completed',
            created_at: '2024-07-01T12:00:00',
            completed_at: '2024-07-01T12:00:05+00:00',
            output: 'Starting...\nDone!\n',
            error: '',
            exit_code: 0,
            runtime_ms: 2031,
          }),
        );
      const r = await gw.call('GET', `/api/eval-status/${ID}`);
      expect(r.status).to.equal(200);
      expect(r.body).to.include({
        eval_id: ID,
        status: 'completed',
        created_at: '2024-07-01T12:00:00.000Z',
        completed_at: '2024-07-01T12:00:05.000Z',
        output: 'Starting...\nDone!\n',
        error: '',
        success: true,
        exit_code: 0,
      });
      expect(r.body).not.to.have.property('code');
    });

    const outcomes: [string, Record<string, unknown>, boolean | null][] = [
      ['queued', { status: 'queued' }, null],
      ['running', { status: 'running' }, null],
      ['failed', { status: 'failed', exit_code: 1, error: 'Traceback' }, false],
      ['timed out', { status: 'failed', exit_code: 124 }, false],
      ['cancelled', { status: 'cancelled' }, false],
      ['completed with exit 0', { status: 'completed', exit_code: 0 }, true],
    ];
    for (const [name, fields, success] of outcomes) {
      it(`says success ${String(success)} for an evaluation ${name}`, async () => {
        nock(STORAGE).get(`/evaluations/${ID}`).reply(200, stored(ID, fields));
        const r = await gw.call('GET', `/api/eval-status/${ID}`);
        expect(r.body.success).to.equal(success);
      });
    }

    it('answers 404 with the problem for an unknown id', async () => {
      nock(STORAGE).get(`/evaluations/${ID}`).reply(404, { detail: 'not found' });
      const r = await gw.call('GET', `/api/eval-status/${ID}`);
      expect(r.status).to.equal(404);
      expect(r.body).to.include({
        code: 'GW_ERR_EVALUATION_NOT_FOUND',
        detail: `No evaluation has the id ${ID}`,
      });
    });

    it('answers 422 for an id that is not URL-safe', async () => {
      const r = await gw.call('GET', '/api/eval-status/bad%20id');
      expect(r.status).to.equal(422);
      expect(r.body.errors[0]).to.include({ in: 'path', pointer: '/eval_id' });
    });

    it('retries a read once when storage answers 503, then succeeds', async () => {
      nock(STORAGE).get(`/evaluations/${ID}`).reply(503, {});
      nock(STORAGE).get(`/evaluations/${ID}`).reply(200, stored(ID));
      const r = await gw.call('GET', `/api/eval-status/${ID}`);
      expect(r.status).to.equal(200);
    });

    it('answers 502 when storage keeps failing, and 502 for an off-contract record', async () => {
      nock(STORAGE).get(`/evaluations/${ID}`).times(2).reply(503, {});
      const failing = await gw.call('GET', `/api/eval-status/${ID}`);
      expect(failing.status).to.equal(502);
      expect(failing.body.detail).to.match(/HTTP 503/);
      nock(STORAGE).get(`/evaluations/${ID}`).once().reply(500, {});
      expect((await gw.call('GET', `/api/eval-status/${ID}`)).status).to.equal(502); // 500 is not retried
      nock(STORAGE).get(`/evaluations/${ID}`).reply(200, { id: ID, status: 'exploded' });
      const r = await gw.call('GET', `/api/eval-status/${ID}`);
      expect(r.status).to.equal(502);
      expect(r.body.detail).to.match(/outside its contract.*status/);
    });
  });

  describe('GET /api/eval/{eval_id}', () => {
    it('answers the full record with code and metadata', async () => {
      nock(STORAGE)
        .get(`/evaluations/${ID}`)
        .reply(200, stored(ID, { code: 'print(42)', metadata: { priority: true } }));
      const r = await gw.call('GET', `/api/eval/${ID}`);
      expect(r.status).to.equal(200);
      expect(r.body).to.deep.include({
        eval_id: ID,
        code: 'print(42)',
        metadata: { priority: true },
      });
    });
  });

  describe('GET /api/evaluations', () => {
    it('names the allowed values when a query parameter is not one of them', async () => {
      const r = await gw.call('GET', '/api/evaluations?status=bogus');
      expect(r.status).to.equal(422);
      expect(r.body.errors).to.deep.equal([
        {
          in: 'query',
          pointer: '/status',
          message:
            'must be one of: submitted, queued, provisioning, running, completed, failed, cancelled',
        },
      ]);
    });

    it('passes the filters to storage, newest first, and derives has_more', async () => {
      let query: any;
      nock(STORAGE)
        .get('/evaluations')
        .query((q) => ((query = q), true))
        .reply(200, {
          evaluations: [stored('a1'), stored('a2')],
          total: 5,
          limit: 2,
          offset: 2,
          has_more: false,
        });
      const r = await gw.call('GET', '/api/evaluations?limit=2&offset=2&status=queued');
      expect(query).to.deep.equal({
        limit: '2',
        offset: '2',
        status: 'queued',
        sort_by: 'created_at',
        sort_order: 'desc',
      });
      expect(r.status).to.equal(200);
      expect(r.body).to.include({ total: 5, limit: 2, offset: 2, has_more: true });
      expect(r.body.evaluations.map((e: any) => e.eval_id)).to.deep.equal(['a1', 'a2']);
      expect(r.body.evaluations[0]).not.to.have.property('code');
    });

    it('defaults to 20 from the start', async () => {
      nock(STORAGE)
        .get('/evaluations')
        .query({ limit: '20', offset: '0', sort_by: 'created_at', sort_order: 'desc' })
        .reply(200, { evaluations: [], total: 0, limit: 20, offset: 0, has_more: false });
      const r = await gw.call('GET', '/api/evaluations');
      expect(r.body).to.deep.equal({
        evaluations: [],
        total: 0,
        limit: 20,
        offset: 0,
        has_more: false,
      });
    });

    for (const q of ['limit=0', 'limit=101', 'offset=-1', 'status=lost', 'limit=ten']) {
      it(`answers 422 for ${q}`, async () => {
        const r = await gw.call('GET', `/api/evaluations?${q}`);
        expect(r.status).to.equal(422);
        expect(r.body.errors[0].in).to.equal('query');
      });
    }
  });

  describe('with ENABLE_CACHING', () => {
    let cached: Gateway;
    before(async () => {
      cached = await startGateway({ ENABLE_CACHING: 'true' });
    });
    after(() => cached.close());

    it('reads a finished evaluation from storage once, and an unfinished one every time', async () => {
      nock(STORAGE)
        .get('/evaluations/done1')
        .once()
        .reply(200, stored('done1', { status: 'completed', exit_code: 0 }));
      nock(STORAGE)
        .get('/evaluations/run1')
        .twice()
        .reply(200, stored('run1', { status: 'running' }));
      for (let i = 0; i < 2; i++) {
        expect((await cached.call('GET', '/api/eval-status/done1')).body.status).to.equal(
          'completed',
        );
        expect((await cached.call('GET', '/api/eval-status/run1')).body.status).to.equal('running');
      }
    });
  });
});

describe('changing evaluations', () => {
  isolate();
  let gw: Gateway;
  before(async () => {
    gw = await startGateway({
      ADMIN_API_KEY: 'admin-secret',
      EXECUTOR_URLS: 'exec-a=http://exec-a.test:9000',
    });
  });
  after(() => gw.close());
  beforeEach(() => {
    gw.events.length = 0;
  });

  describe('POST /api/eval/{eval_id}/cancel', () => {
    it('removes a queued evaluation from the queue, records it cancelled and publishes the event', async () => {
      nock(STORAGE)
        .get(`/evaluations/${ID}`)
        .reply(200, stored(ID, { status: 'queued' }));
      nock(QUEUE).delete(`/tasks/${ID}`).reply(200, { eval_id: ID, status: 'removed' });
      let patch: any;
      nock(STORAGE)
        .put(`/evaluations/${ID}`, (b) => ((patch = b), true))
        .reply(200, stored(ID, { status: 'cancelled' }));
      const r = await gw.call('POST', `/api/eval/${ID}/cancel`);
      expect(r.status).to.equal(200);
      expect(r.body).to.deep.equal({
        eval_id: ID,
        status: 'cancelled',
        message: 'Task removed from the queue and cancelled',
        previous_status: 'queued',
      });
      expect(patch).to.include({ status: 'cancelled' });
      expect(gw.events).to.deep.equal([
        {
          channel: 'evaluation:cancelled',
          payload: { eval_id: ID, reason: 'cancelled on request', terminate: false },
        },
      ]);
    });

    it('with terminate=true kills a running evaluation on its executor first', async () => {
      nock(STORAGE)
        .get(`/evaluations/${ID}`)
        .reply(200, stored(ID, { status: 'running' }));
      nock(STORAGE)
        .get(`/evaluations/${ID}/running`)
        .reply(200, { eval_id: ID, started_at: '2024-07-01T12:00:01', executor_id: 'exec-a' });
      const kill = nock('http://exec-a.test:9000')
        .post(`/kill/${ID}`)
        .reply(200, { eval_id: ID, success: true, message: 'killed' });
      nock(STORAGE)
        .put(`/evaluations/${ID}`)
        .reply(200, stored(ID, { status: 'cancelled' }));
      const r = await gw.call('POST', `/api/eval/${ID}/cancel?terminate=true`);
      expect(r.status).to.equal(200);
      expect(r.body).to.include({
        status: 'cancelled',
        message: 'Task forcefully terminated',
        previous_status: 'running',
      });
      expect(kill.isDone()).to.equal(true);
    });

    it('answers 409 for a finished evaluation and changes nothing', async () => {
      nock(STORAGE)
        .get(`/evaluations/${ID}`)
        .reply(200, stored(ID, { status: 'completed' }));
      const r = await gw.call('POST', `/api/eval/${ID}/cancel`);
      expect(r.status).to.equal(409);
      expect(r.body.code).to.equal('GW_ERR_EVALUATION_TERMINAL');
      expect(gw.events).to.have.length(0);
    });

    it('answers 404 for an unknown evaluation', async () => {
      nock(STORAGE).get(`/evaluations/${ID}`).reply(404, {});
      expect((await gw.call('POST', `/api/eval/${ID}/cancel`)).status).to.equal(404);
    });

    it('answers 409 when storage refuses because the evaluation finished meanwhile', async () => {
      nock(STORAGE)
        .get(`/evaluations/${ID}`)
        .reply(200, stored(ID, { status: 'running' }));
      nock(STORAGE).put(`/evaluations/${ID}`).reply(409, { detail: 'terminal' });
      const r = await gw.call('POST', `/api/eval/${ID}/cancel`);
      expect(r.status).to.equal(409);
      expect(gw.events).to.have.length(0);
    });
  });

  describe('POST /api/eval/{eval_id}/kill', () => {
    it('finds the executor through storage, kills there and records the evaluation cancelled', async () => {
      nock(STORAGE)
        .get(`/evaluations/${ID}/running`)
        .reply(200, { eval_id: ID, started_at: '2024-07-01T12:00:01', executor_id: 'executor-7' });
      // executor-7 is not in EXECUTOR_URLS, so the URL template names it.
      const kill = nock('http://executor-7:8083', { reqheaders: { 'x-api-key': INTERNAL_KEY } })
        .post(`/kill/${ID}`)
        .reply(200, { eval_id: ID, success: true, message: 'Container killed' });
      nock(STORAGE)
        .put(`/evaluations/${ID}`)
        .reply(200, stored(ID, { status: 'cancelled' }));
      const r = await gw.call('POST', `/api/eval/${ID}/kill`);
      expect(r.status).to.equal(200);
      expect(r.body).to.deep.equal({
        eval_id: ID,
        success: true,
        message: 'Container killed',
        executor_id: 'executor-7',
      });
      expect(kill.isDone()).to.equal(true);
      expect(gw.events.map((e) => e.channel)).to.deep.equal(['evaluation:cancelled']);
    });

    it('uses the executor URL that EXECUTOR_URLS names', async () => {
      nock(STORAGE)
        .get(`/evaluations/${ID}/running`)
        .reply(200, { eval_id: ID, started_at: 'x', executor_id: 'exec-a' });
      nock('http://exec-a.test:9000')
        .post(`/kill/${ID}`)
        .reply(200, { eval_id: ID, success: true, message: 'ok' });
      nock(STORAGE)
        .put(`/evaluations/${ID}`)
        .reply(200, stored(ID, { status: 'cancelled' }));
      expect((await gw.call('POST', `/api/eval/${ID}/kill`)).status).to.equal(200);
    });

    it('answers 409 for an evaluation that is not running and 404 for an unknown one', async () => {
      nock(STORAGE).get(`/evaluations/${ID}/running`).reply(404, {});
      nock(STORAGE)
        .get(`/evaluations/${ID}`)
        .reply(200, stored(ID, { status: 'queued' }));
      const notRunning = await gw.call('POST', `/api/eval/${ID}/kill`);
      expect(notRunning.status).to.equal(409);
      expect(notRunning.body).to.include({ code: 'GW_ERR_NOT_RUNNING' });
      expect(notRunning.body.detail).to.match(/queued/);
      nock(STORAGE).get(`/evaluations/${ID}/running`).reply(404, {});
      nock(STORAGE).get(`/evaluations/${ID}`).reply(404, {});
      expect((await gw.call('POST', `/api/eval/${ID}/kill`)).status).to.equal(404);
    });

    it('answers 409 when the executor runs nothing by that id', async () => {
      nock(STORAGE)
        .get(`/evaluations/${ID}/running`)
        .reply(200, { eval_id: ID, started_at: 'x', executor_id: 'exec-a' });
      nock('http://exec-a.test:9000').post(`/kill/${ID}`).reply(404, { detail: 'unknown' });
      const r = await gw.call('POST', `/api/eval/${ID}/kill`);
      expect(r.status).to.equal(409);
      expect(gw.events).to.have.length(0);
    });

    it('answers 502 when storage names an executor id that cannot be a host name', async () => {
      nock(STORAGE)
        .get(`/evaluations/${ID}/running`)
        .reply(200, { eval_id: ID, started_at: 'x', executor_id: 'evil/../host' });
      const r = await gw.call('POST', `/api/eval/${ID}/kill`);
      expect(r.status).to.equal(502);
    });
  });

  describe('PATCH /api/eval/{eval_id}/status', () => {
    const admin = { 'x-admin-key': 'admin-secret' };

    it('answers 401 without the admin key and with a wrong one', async () => {
      expect(
        (await gw.call('PATCH', `/api/eval/${ID}/status`, { json: { status: 'failed' } })).status,
      ).to.equal(401);
      const wrong = await gw.call('PATCH', `/api/eval/${ID}/status`, {
        json: { status: 'failed' },
        headers: { 'x-admin-key': 'nope' },
      });
      expect(wrong.status).to.equal(401);
      expect(wrong.body.code).to.equal('GW_ERR_UNAUTHORIZED');
    });

    it('checks the credential before the body', async () => {
      const r = await gw.call('PATCH', `/api/eval/${ID}/status`, { json: { status: 'exploded' } });
      expect(r.status).to.equal(401);
    });

    it('fails a running evaluation, keeps the reason, publishes evaluation:failed', async () => {
      nock(STORAGE)
        .get(`/evaluations/${ID}`)
        .reply(200, stored(ID, { status: 'running' }));
      let patch: any;
      nock(STORAGE)
        .put(`/evaluations/${ID}`, (b) => ((patch = b), true))
        .reply(200, stored(ID, { status: 'failed', error: 'host lost' }));
      const r = await gw.call('PATCH', `/api/eval/${ID}/status`, {
        json: { status: 'failed', reason: 'host lost' },
        headers: admin,
      });
      expect(r.status).to.equal(200);
      expect(r.body).to.include({ status: 'failed', error: 'host lost', success: false });
      expect(patch).to.deep.include({ status: 'failed', error: 'host lost' });
      expect(patch.metadata).to.include({ status_set_by: 'admin', status_reason: 'host lost' });
      expect(gw.events).to.deep.equal([
        {
          channel: 'evaluation:failed',
          payload: { eval_id: ID, error: 'host lost', failed_at: 'admin' },
        },
      ]);
    });

    it('completes a provisioning evaluation and publishes evaluation:completed', async () => {
      nock(STORAGE)
        .get(`/evaluations/${ID}`)
        .reply(200, stored(ID, { status: 'provisioning' }));
      nock(STORAGE)
        .put(`/evaluations/${ID}`)
        .reply(
          200,
          stored(ID, { status: 'completed', output: 'ok', completed_at: '2024-07-01T12:00:09Z' }),
        );
      const r = await gw.call('PATCH', `/api/eval/${ID}/status`, {
        json: { status: 'completed' },
        headers: admin,
      });
      expect(r.status).to.equal(200);
      expect(gw.events[0]).to.deep.include({ channel: 'evaluation:completed' });
      expect(gw.events[0]?.payload).to.include({ eval_id: ID, status: 'completed', output: 'ok' });
    });

    it('answers 409 for a move the state machine forbids, and for a finished evaluation', async () => {
      nock(STORAGE)
        .get(`/evaluations/${ID}`)
        .reply(200, stored(ID, { status: 'queued' }));
      const r = await gw.call('PATCH', `/api/eval/${ID}/status`, {
        json: { status: 'completed' },
        headers: admin,
      });
      expect(r.status).to.equal(409);
      expect(r.body).to.include({
        code: 'GW_ERR_INVALID_TRANSITION',
        detail: `Evaluation ${ID} cannot move from queued to completed`,
      });
      nock(STORAGE)
        .get(`/evaluations/${ID}`)
        .reply(200, stored(ID, { status: 'cancelled' }));
      const t = await gw.call('PATCH', `/api/eval/${ID}/status`, {
        json: { status: 'failed' },
        headers: admin,
      });
      expect(t.body.code).to.equal('GW_ERR_EVALUATION_TERMINAL');
      expect(gw.events).to.have.length(0);
    });

    it('answers 422 for a status an operator may not set', async () => {
      const r = await gw.call('PATCH', `/api/eval/${ID}/status`, {
        json: { status: 'running' },
        headers: admin,
      });
      expect(r.status).to.equal(422);
      expect(r.body.errors[0]).to.include({ pointer: '/status' });
    });

    it('answers 401 to an X-Admin-Key on a gateway with no admin key configured', async () => {
      const plain = await startGateway();
      try {
        const r = await plain.call('PATCH', `/api/eval/${ID}/status`, {
          json: { status: 'failed' },
          headers: admin,
        });
        expect(r.status).to.equal(401);
        expect(r.body.detail).to.equal('The X-Admin-Key is not valid');
        expect(r.headers.get('www-authenticate')).to.match(/^APIKey /);
      } finally {
        await plain.close();
      }
    });
  });
});
