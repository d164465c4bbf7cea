import { dirname, join } from 'node:path';
import { expect } from 'chai';
import nock from 'nock';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { specPath } from '../../lib/paths.js';
import { QUEUE, STORAGE, isolate, refusedUrl, startGateway } from '../helpers/harness.js';
import type { Gateway } from '../helpers/harness.js';
import { operationIds, spec } from '../helpers/contract.js';
import { createHandlers } from '../../handlers/index.js';
import { OPERATION_VALIDATORS } from '../../lib/http/openapi.js';
import { requestValidators } from '../../lib/validators.js';

/** A GET with the path exactly as given (fetch would resolve its dot segments first). */
function rawGet(
  base: string,
  path: string,
): Promise<{ status: number; type: string; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'] ?? '', body }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('platform status', () => {
  isolate();
  let gw: Gateway;
  before(async () => {
    gw = await startGateway({ EXECUTOR_URLS: 'executor-1=http://exec1.test:8083' });
  });
  after(() => gw.close());

  it('GET /health answers healthy without calling anything downstream', async () => {
    const r = await gw.call('GET', '/health');
    expect(r.status).to.equal(200);
    expect(r.body).to.include({
      status: 'healthy',
      service: 'api-gateway',
      version: spec.info.version,
    });
  });

  it('GET /healthz is alive; /readyz is 503 before the first check, with Retry-After', async () => {
    expect((await gw.call('GET', '/healthz')).body).to.deep.equal({ status: 'ok' });
    const r = await gw.call('GET', '/readyz');
    expect(r.status).to.equal(503);
    expect(r.headers.get('retry-after')).to.equal('5');
    expect(r.body.checks).to.include({ queue: 'unknown', storage: 'unknown', redis: 'disabled' });
  });

  it('GET /api/status reports starting before any check has run', async () => {
    const r = await gw.call('GET', '/api/status');
    expect(r.body.status).to.equal('starting');
    expect(r.body.in_grace_period).to.equal(true);
  });

  it('reports what the checks measured: healthy services with latency, a down executor', async () => {
    nock(QUEUE).get('/health').reply(200, { status: 'healthy' });
    nock(STORAGE).get('/health').delay(30).reply(200, { status: 'healthy' });
    nock('http://exec1.test:8083').get('/health').reply(503, { status: 'unhealthy' });
    await gw.deps.health.checkNow();
    const r = await gw.call('GET', '/api/status');
    expect(r.body.status).to.equal('degraded');
    expect(r.body.services.queue).to.include({
      status: 'healthy',
      consecutive_failures: 0,
      url: QUEUE,
    });
    expect(r.body.services.storage.latency_ms).to.be.at.least(25);
    expect(r.body.services.redis.status).to.equal('disabled');
    expect(r.body.executors['executor-1']).to.include({
      status: 'unhealthy',
      consecutive_failures: 1,
    });
    expect(r.body.executors['executor-1'].last_error).to.match(/HTTP 503/);
    const ready = await gw.call('GET', '/readyz');
    expect(ready.status).to.equal(200);
    expect(ready.body.status).to.equal('ready');
  });

  it('turns unhealthy and not ready when storage stops answering', async () => {
    nock(QUEUE).get('/health').reply(200, { status: 'healthy' });
    nock(STORAGE).get('/health').reply(500, {});
    nock('http://exec1.test:8083').get('/health').reply(200, { status: 'healthy' });
    await gw.deps.health.checkNow();
    const r = await gw.call('GET', '/api/status');
    expect(r.body.status).to.equal('unhealthy');
    expect(r.body.services.storage.status).to.equal('unhealthy');
    expect((await gw.call('GET', '/readyz')).status).to.equal(503);
  });

  it('turns not ready the moment a real call cannot reach storage, and ready once it answers', async () => {
    nock(QUEUE).get('/health').reply(200, { status: 'healthy' });
    nock(STORAGE).get('/health').reply(200, { status: 'healthy' });
    nock('http://exec1.test:8083').get('/health').reply(200, { status: 'healthy' });
    await gw.deps.health.checkNow();
    expect((await gw.call('GET', '/readyz')).status).to.equal(200);
    // No health round runs in this gateway: only the failed read can tell.
    const refused = () =>
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    nock(STORAGE)
      .get((uri) => uri.startsWith('/evaluations/'))
      .times(2) // the read and its one retry
      .replyWithError(refused());
    nock(STORAGE).get('/health').replyWithError(refused()); // the first recovery probe
    nock(STORAGE).get('/health').reply(200, { status: 'healthy' }); // the next one
    const read = await gw.call('GET', '/api/eval-status/eval_20240701_120000_abc123def456');
    expect(read.status).to.equal(503);
    const ready = await gw.call('GET', '/readyz');
    expect(ready.status).to.equal(503);
    expect(ready.body.checks.storage).to.equal('unhealthy');
    expect((await gw.call('GET', '/api/status')).body.status).to.equal('unhealthy');
    // Probed every second until it answers: ready again within about two.
    const t0 = Date.now();
    while ((await gw.call('GET', '/readyz')).status !== 200) {
      if (Date.now() - t0 > 5_000) throw new Error('still not ready after 5 s');
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  it('GET /api/queue-status reports the legacy counts, the job queue and the split', async () => {
    nock(QUEUE)
      .get('/status')
      .reply(200, { queued: 4, processing: 1, queue_length: 4, total_tasks: 9 });
    const r = await gw.call('GET', '/api/queue-status');
    expect(r.status).to.equal(200);
    expect(r.body.legacy).to.deep.equal({
      healthy: true,
      queued: 4,
      processing: 1,
      queue_length: 4,
      total_tasks: 9,
    });
    expect(r.body.bull).to.include({ enabled: false, connected: false });
    expect(r.body.traffic_split).to.deep.include({
      celery_enabled: false,
      configured_percentage: 0.5,
    });
  });

  it('GET /api/queue-status still answers when the queue service is down', async () => {
    const down = await startGateway({ QUEUE_SERVICE_URL: await refusedUrl() });
    try {
      const r = await down.call('GET', '/api/queue-status');
      expect(r.status).to.equal(200);
      expect(r.body.legacy).to.deep.equal({ healthy: false, error: 'Queue service unavailable' });
    } finally {
      await down.close();
    }
  });

  it('counts what the legacy queue took in the observed split', async () => {
    nock(QUEUE)
      .post('/tasks')
      .times(2)
      .reply(200, (_u, b: any) => ({ eval_id: b.eval_id, status: 'queued', position: 0 }));
    nock(QUEUE)
      .get('/status')
      .reply(200, { queued: 0, processing: 0, queue_length: 0, total_tasks: 0 });
    const before = gw.deps.stats.submissions.legacy;
    await gw.call('POST', '/api/eval', { json: { code: 'a' } });
    await gw.call('POST', '/api/eval', { json: { code: 'b' } });
    const r = await gw.call('GET', '/api/queue-status');
    expect(r.body.traffic_split.observed).to.deep.equal({
      legacy: before + 2,
      bull: 0,
      bull_share: 0,
    });
  });

  it('GET /api/celery-status says whether the job queue is enabled and connected', async () => {
    const r = await gw.call('GET', '/api/celery-status');
    expect(r.body).to.include({ enabled: false, connected: false });
  });

  it('GET /api/statistics joins storage statistics with the gateway counters', async () => {
    nock(STORAGE)
      .get('/statistics')
      .reply(200, {
        total_evaluations: 12,
        by_status: { completed: 10, failed: 2 },
        success_rate: 0.83,
      });
    const r = await gw.call('GET', '/api/statistics');
    expect(r.status).to.equal(200);
    expect(r.body.storage).to.include({ total_evaluations: 12, success_rate: 0.83 });
    expect(r.body.gateway.requests).to.be.greaterThan(0);
    expect(r.body.gateway.submissions.legacy).to.be.at.least(2);
  });

  it('GET /api/statistics answers 503 when storage is unreachable', async () => {
    const down = await startGateway({ STORAGE_SERVICE_URL: await refusedUrl() });
    try {
      const r = await down.call('GET', '/api/statistics');
      expect(r.status).to.equal(503);
      expect(r.body.detail).to.equal('Storage service unavailable');
    } finally {
      await down.close();
    }
  });
});

describe('the contract and its documentation', () => {
  isolate();
  let gw: Gateway;
  before(async () => {
    gw = await startGateway();
  });
  after(() => gw.close());

  it('has a handler for every operation in the spec, and none that is not in it', () => {
    const handlers = Object.keys(createHandlers(gw.deps)).sort();
    expect(handlers).to.deep.equal([...operationIds].sort());
  });

  it('checks every operation with validators precompiled into generated/ (none compiled at start)', () => {
    const listed = OPERATION_VALIDATORS.gateway;
    expect(Object.keys(listed).sort()).to.deep.equal([...operationIds].sort());
    for (const keys of Object.values(listed))
      for (const k of keys) expect(requestValidators[k], k).to.be.a('function');
  });

  it('GET / lists every operation of the spec', async () => {
    const r = await gw.call('GET', '/');
    expect(r.body.docs).to.deep.equal({
      swagger_ui: '/docs',
      redoc: '/redoc',
      openapi_yaml: '/api/openapi.yaml',
      events_yaml: '/api/events.yaml',
      openapi_json: '/api/openapi.json',
    });
    expect(r.body.endpoints.map((e: any) => e.operation_id).sort()).to.deep.equal(
      [...operationIds].sort(),
    );
    expect(r.body.endpoints).to.deep.include({
      method: 'POST',
      path: '/api/eval',
      operation_id: 'submitEvaluation',
      summary: 'Submit code for evaluation',
    });
  });

  it('GET /api/openapi.yaml is the spec file as written; /api/openapi.json the same document', async () => {
    const yaml = await gw.call('GET', '/api/openapi.yaml');
    expect(yaml.headers.get('content-type')).to.match(/^application\/yaml/);
    expect(yaml.text).to.equal(readFileSync(specPath, 'utf8'));
    const json = await gw.call('GET', '/api/openapi.json');
    expect(json.body.openapi).to.equal('3.0.3');
    expect(Object.keys(json.body.paths)).to.include('/api/eval');
  });

  it("GET /api/health answers as GET /health does (the original gateway's path)", async () => {
    const [old, now] = [await gw.call('GET', '/api/health'), await gw.call('GET', '/health')];
    expect(old.status).to.equal(200);
    expect(Object.keys(old.body).sort()).to.deep.equal(Object.keys(now.body).sort());
    expect(old.body).to.include({ status: 'healthy', service: 'api-gateway' });
  });

  it('GET /api/events.yaml is the event contract as written, linked from the docs', async () => {
    const yaml = await gw.call('GET', '/api/events.yaml');
    expect(yaml.headers.get('content-type')).to.match(/^application\/yaml/);
    expect(yaml.text).to.equal(readFileSync(join(dirname(specPath), 'events.yaml'), 'utf8'));
    // Swagger UI and ReDoc show the spec's externalDocs as a link.
    const json = await gw.call('GET', '/api/openapi.json');
    expect(json.body.externalDocs.url).to.equal('/api/events.yaml');
  });

  for (const [page, assets] of [
    [
      '/docs',
      [
        '/docs/assets/swagger-ui.css',
        '/docs/assets/swagger-ui-bundle.js',
        '/docs/assets/swagger-ui-standalone-preset.js',
      ],
    ],
    ['/redoc', ['/redoc/assets/redoc.standalone.js']],
  ] as const) {
    it(`${page} is an HTML page whose every script and style the gateway serves itself`, async () => {
      const r = await gw.call('GET', page);
      expect(r.headers.get('content-type')).to.match(/^text\/html/);
      const referenced = [...r.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
      expect(referenced).to.deep.equal(['/favicon.svg', ...assets]);
      expect(r.text).not.to.match(/https?:\/\//);
      for (const asset of assets) {
        const a = await fetch(gw.url + asset);
        expect(a.status, asset).to.equal(200);
        expect((await a.arrayBuffer()).byteLength, asset).to.be.greaterThan(10_000);
      }
    });
  }

  it('answers a missing docs asset with a 404 problem', async () => {
    const r = await gw.call('GET', '/docs/assets/nothing.js');
    expect(r.status).to.equal(404);
    expect(r.body.code).to.equal('GW_ERR_NOT_FOUND');
  });

  for (const path of [
    '/docs/assets/../../../../etc/passwd',
    '/docs/assets/..%2f..%2fpackage.json',
    '/redoc/assets/../../package.json',
    '/docs/assets/%ZZ',
  ]) {
    it(`answers ${path} with a 404 problem: nothing outside the assets, never a 500`, async () => {
      const r = await rawGet(gw.url, path);
      expect(r.status).to.equal(404);
      expect(r.type).to.equal('application/problem+json');
      expect(JSON.parse(r.body)).to.include({ code: 'GW_ERR_NOT_FOUND' });
    });
  }

  it('answers a write to a docs asset with a 405 problem and Allow', async () => {
    const r = await gw.call('DELETE', '/docs/assets/swagger-ui.css');
    expect(r.status).to.equal(405);
    expect(r.headers.get('allow')).to.equal('GET, HEAD');
    expect(r.body.code).to.equal('GW_ERR_METHOD_NOT_ALLOWED');
  });

  it('ignores query parameters an operation does not declare (probes, docs, cache busters)', async () => {
    for (const path of ['/health?probe=1', '/readyz?x=1', '/api/openapi.json?v=2', '/docs?_=1']) {
      const r = await gw.call('GET', path);
      expect(r.status, path).to.be.oneOf([200, 503]);
    }
  });

  it('answers an unknown path with a 404 problem, not HTML', async () => {
    const r = await gw.call('GET', '/wp-admin');
    expect(r.status).to.equal(404);
    expect(r.body).to.include({ code: 'GW_ERR_NOT_FOUND', instance: '/wp-admin' });
  });

  it('answers a wrong method with 405 and an Allow header', async () => {
    const r = await gw.call('DELETE', '/api/eval-status/abc');
    expect(r.status).to.equal(405);
    expect(r.headers.get('allow')).to.equal('GET');
    const post = await gw.call('GET', '/api/eval');
    expect(post.headers.get('allow')).to.equal('POST');
  });

  it('echoes X-Request-Id, or makes one, on every answer including problems', async () => {
    const mine = await gw.call('GET', '/nope', { headers: { 'x-request-id': 'req-123' } });
    expect(mine.headers.get('x-request-id')).to.equal('req-123');
    expect(mine.body.request_id).to.equal('req-123');
    const made = await gw.call('GET', '/health');
    expect(made.headers.get('x-request-id')).to.match(/^[0-9a-f-]{36}$/);
  });

  it('answers a CORS preflight for the API', async () => {
    const r = await fetch(`${gw.url}/api/eval`, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://app.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(r.status).to.equal(204);
    expect(r.headers.get('access-control-allow-origin')).to.equal('*');
    expect(r.headers.get('access-control-allow-methods')).to.match(/POST/);
  });
});

describe('access control', () => {
  isolate();

  it('with API_KEYS set, /api/* needs X-API-Key while /health stays open', async () => {
    const gw = await startGateway({ API_KEYS: 'k1,k2' });
    try {
      const none = await gw.call('GET', '/api/celery-status');
      expect(none.status).to.equal(401);
      expect(none.body.code).to.equal('GW_ERR_UNAUTHORIZED');
      expect(
        (await gw.call('GET', '/api/celery-status', { headers: { 'x-api-key': 'k3' } })).status,
      ).to.equal(401);
      expect(
        (await gw.call('GET', '/api/celery-status', { headers: { 'x-api-key': 'k2' } })).status,
      ).to.equal(200);
      expect((await gw.call('GET', '/health')).status).to.equal(200);
      // 401 comes before the body is even looked at.
      expect(
        (
          await gw.call('POST', '/api/eval', {
            body: '{',
            headers: { 'content-type': 'application/json' },
          })
        ).status,
      ).to.equal(401);
    } finally {
      await gw.close();
    }
  });

  it('a client key without the admin key gets 403 on the admin operation', async () => {
    const gw = await startGateway({ API_KEYS: 'k1', ADMIN_API_KEY: 'adm' });
    try {
      const r = await gw.call('PATCH', '/api/eval/x1/status', {
        json: { status: 'failed' },
        headers: { 'x-api-key': 'k1' },
      });
      expect(r.status).to.equal(403);
    } finally {
      await gw.close();
    }
  });

  it('with RATE_LIMIT_PER_MINUTE, answers 429 with Retry-After once a client is over it', async () => {
    const gw = await startGateway({ RATE_LIMIT_PER_MINUTE: '3' });
    try {
      const statuses: number[] = [];
      let last;
      for (let i = 0; i < 4; i++) {
        last = await gw.call('GET', '/api/celery-status');
        statuses.push(last.status);
      }
      expect(statuses).to.deep.equal([200, 200, 200, 429]);
      expect(Number(last?.headers.get('retry-after'))).to.be.within(1, 60);
      expect(last?.body.code).to.equal('GW_ERR_RATE_LIMITED');
      expect((await gw.call('GET', '/health')).status).to.equal(200); // not limited
    } finally {
      await gw.close();
    }
  });
});

describe('request bodies where the spec has none', () => {
  isolate();
  let gw: Gateway;
  before(async () => {
    gw = await startGateway();
  });
  after(() => gw.close());

  it('cancel ignores a stray body, whatever its type or size', async () => {
    const id = 'eval_20240701_120000_abc123def456';
    nock(STORAGE).get(`/evaluations/${id}`).reply(200, { id, status: 'running' });
    nock(STORAGE).put(`/evaluations/${id}`).reply(200, { id, status: 'cancelled' });
    const r = await gw.call('POST', `/api/eval/${id}/cancel`, {
      body: 'x'.repeat(3 * 1024 * 1024),
      headers: { 'content-type': 'text/plain' },
    });
    expect(r.status).to.equal(200);
  });

  it('does not echo a request id that is not a plain token', async () => {
    const r = await gw.call('GET', '/health', { headers: { 'x-request-id': 'a b<script>' } });
    expect(r.headers.get('x-request-id')).to.match(/^[0-9a-f-]{36}$/);
  });
});
