import { expect } from 'chai';
import nock from 'nock';
import { newEvalId } from '../../core/ids.js';
import { QUEUE, STORAGE, isolate, startGateway, stored } from '../helpers/harness.js';
import { connect } from '../helpers/ws-client.js';
import type { Gateway } from '../helpers/harness.js';

const queueAccepts = (): nock.Scope =>
  nock(QUEUE)
    .post('/tasks')
    .reply(200, (_u, b: any) => ({ eval_id: b.eval_id, status: 'queued', position: 0 }));

/** Limits and scopes at their edges: each test names what a client would see break. */
describe('guards at their edges', () => {
  isolate();

  describe('Idempotency-Key', () => {
    let gw: Gateway;
    before(async () => {
      gw = await startGateway({ API_KEYS: 'alice,bob' });
    });
    after(() => gw.close());

    it('answers 409 to a repeat that arrives while the first is still running', async () => {
      let arrived!: () => void;
      const atQueue = new Promise<void>((r) => (arrived = r));
      nock(QUEUE)
        .post('/tasks', () => (arrived(), true))
        .delay(200)
        .reply(200, (_u, b: any) => ({ eval_id: b.eval_id, status: 'queued', position: 0 }));
      const headers = { 'idempotency-key': 'in-flight-1', 'x-api-key': 'alice' };
      const first = gw.call('POST', '/api/eval', { json: { code: 'print(1)' }, headers });
      await atQueue; // the first holds the key and waits for the queue
      const again = await gw.call('POST', '/api/eval', { json: { code: 'print(1)' }, headers });
      expect(again.status).to.equal(409);
      expect(again.body.code).to.equal('GW_ERR_IDEMPOTENCY_IN_PROGRESS');
      expect((await first).status).to.equal(202);
    });

    it('is scoped to its client: another key with the same Idempotency-Key gets its own evaluation', async () => {
      queueAccepts();
      queueAccepts();
      const body = { code: 'print("mine")' };
      const a = await gw.call('POST', '/api/eval', {
        json: body,
        headers: { 'idempotency-key': 'shared-1', 'x-api-key': 'alice' },
      });
      const b = await gw.call('POST', '/api/eval', {
        json: body,
        headers: { 'idempotency-key': 'shared-1', 'x-api-key': 'bob' },
      });
      expect([a.status, b.status]).to.deep.equal([202, 202]);
      expect(b.body.eval_id).to.not.equal(a.body.eval_id);
      expect(b.headers.get('idempotent-replayed')).to.equal(null);
    });
  });

  describe('the 2 MiB request body limit', () => {
    let gw: Gateway;
    before(async () => {
      gw = await startGateway();
    });
    after(() => gw.close());

    /** A JSON body of exactly `bytes` bytes: {"code":"xxx…"}. */
    const bodyOf = (bytes: number): string => `{"code":"${'x'.repeat(bytes - 11)}"}`;

    it('reads a body of exactly 2 MiB (its code is then too long: 422, not 413)', async () => {
      const body = bodyOf(2 * 1024 * 1024);
      expect(Buffer.byteLength(body)).to.equal(2 * 1024 * 1024);
      const r = await gw.call('POST', '/api/eval', {
        body,
        headers: { 'content-type': 'application/json' },
      });
      expect(r.status).to.equal(422);
      expect(r.body.errors[0].pointer).to.equal('/code');
    });

    it('refuses one byte more with 413', async () => {
      const r = await gw.call('POST', '/api/eval', {
        body: bodyOf(2 * 1024 * 1024 + 1),
        headers: { 'content-type': 'application/json' },
      });
      expect(r.status).to.equal(413);
    });
  });

  it('rate-limits each client on its own: one over its budget leaves the others served', async () => {
    const gw = await startGateway({ RATE_LIMIT_PER_MINUTE: '2', API_KEYS: 'alice,bob' });
    try {
      const as = (key: string) =>
        gw.call('GET', '/api/celery-status', { headers: { 'x-api-key': key } });
      const alice = [await as('alice'), await as('alice'), await as('alice')].map((r) => r.status);
      expect(alice).to.deep.equal([200, 200, 429]);
      expect((await as('bob')).status).to.equal(200);
    } finally {
      await gw.close();
    }
  });

  describe('CORS_ORIGINS as a list', () => {
    let gw: Gateway;
    before(async () => {
      gw = await startGateway({ CORS_ORIGINS: 'https://app.example,https://admin.example' });
    });
    after(() => gw.close());

    const from = (origin: string) =>
      fetch(`${gw.url}/health`, { headers: { origin } }).then((r) => ({
        allow: r.headers.get('access-control-allow-origin'),
        vary: r.headers.get('vary'),
      }));

    it('allows exactly a listed origin, and says the answer varies by origin', async () => {
      expect(await from('https://admin.example')).to.deep.equal({
        allow: 'https://admin.example',
        vary: 'Origin',
      });
    });

    it('allows no other origin', async () => {
      expect((await from('https://evil.example')).allow).to.equal(null);
      expect((await from('https://app.example.evil.example')).allow).to.equal(null);
    });
  });
});

describe('WS snapshot then stream', () => {
  isolate();
  let gw: Gateway;
  before(async () => {
    gw = await startGateway();
  });
  after(() => gw.close());

  it('holds an event that arrives while the snapshot is read, and sends it after the snapshot', async () => {
    const id = newEvalId();
    const read = nock(STORAGE)
      .get(`/evaluations/${id}`)
      .delay(150)
      .reply(200, stored(id, { status: 'running', started_at: '2024-07-01T12:00:01' }));
    // The moment the snapshot's read reaches storage, the evaluation finishes.
    read.on('request', () => {
      void gw.deps.events.publish('evaluation:completed', {
        eval_id: id,
        status: 'completed',
        output: 'done\n',
        exit_code: 0,
      });
    });
    const ws = await connect(`${gw.url.replace('http', 'ws')}/ws?eval_id=${id}`);
    try {
      await ws.next((m) => m.type === 'event' && m.eval_id === id);
      const order = ws.messages.filter((m) => m.eval_id === id || m.type === 'subscribed');
      expect(order.map((m) => `${m.type}:${m.status ?? ''}`)).to.deep.equal([
        'subscribed:',
        'snapshot:running',
        'event:completed',
      ]);
    } finally {
      ws.close();
    }
  });
});

describe('paths routed once', () => {
  isolate();
  let gw: Gateway;
  before(async () => {
    gw = await startGateway();
  });
  after(() => gw.close());

  for (const path of [
    '/api/eval-status/%ZZ',
    '/api/eval/%E0%A4%A/kill',
    '/api/eval/%ZZ/cancel',
    '/api/eval/%ZZ',
  ]) {
    it(`answers a path parameter that is not valid percent-encoding (${path}) with 400, not 500`, async () => {
      const method = path.endsWith('/kill') || path.endsWith('/cancel') ? 'POST' : 'GET';
      const r = await gw.call(method, path);
      expect(r.status).to.equal(400);
      expect(r.body.code).to.equal('GW_ERR_BAD_REQUEST');
      expect(r.body.errors[0]).to.include({ in: 'path', pointer: '/eval_id' });
    });
  }

  it('decodes a percent-encoded path parameter before checking it', async () => {
    nock(STORAGE)
      .get('/evaluations/eval_1')
      .reply(200, stored('eval_1', { status: 'completed', completed_at: '2024-07-01T12:00:02' }));
    const r = await gw.call('GET', '/api/eval-status/%65val_1');
    expect(r.status).to.equal(200);
    expect(r.body.eval_id).to.equal('eval_1');
  });
});
