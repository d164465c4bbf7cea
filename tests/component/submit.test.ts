import { expect } from 'chai';
import nock from 'nock';
import { EVAL_ID_PATTERN } from '../../core/ids.js';
import {
  INTERNAL_KEY,
  QUEUE,
  isolate,
  refusedUrl,
  resettingUrl,
  startGateway,
} from '../helpers/harness.js';
import type { Gateway } from '../helpers/harness.js';

const BRIEF_EXAMPLE = {
  code: 'import time\nprint("Starting...")\ntime.sleep(2)\nprint("Done!")',
  language: 'python',
  timeout: 30,
  priority: false,
};

describe('POST /api/eval', () => {
  isolate();
  let gw: Gateway;
  before(async () => {
    gw = await startGateway();
  });
  after(() => gw.close());
  beforeEach(() => {
    gw.events.length = 0;
  });

  it('queues the brief example on the legacy queue and answers 202 with the id', async () => {
    let sent: any;
    nock(QUEUE, { reqheaders: { 'x-api-key': INTERNAL_KEY } })
      .post('/tasks', (b) => ((sent = b), true))
      .reply(200, (_uri, b: any) => ({ eval_id: b.eval_id, status: 'queued', position: 3 }));
    const r = await gw.call('POST', '/api/eval', { json: BRIEF_EXAMPLE });
    expect(r.status).to.equal(202);
    expect(r.body.eval_id).to.match(EVAL_ID_PATTERN);
    expect(r.body).to.include({ status: 'queued', queue_position: 3, backend: 'legacy' });
    expect(sent).to.deep.equal({
      eval_id: r.body.eval_id,
      code: BRIEF_EXAMPLE.code,
      language: 'python',
      engine: 'docker',
      timeout: 30,
      priority: 1,
      owner: 'anonymous', // an open gateway: whoever calls without a key
      traceparent: sent.traceparent, // the request's trace, for the worker to continue
    });
    expect(sent.traceparent).to.match(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it('publishes evaluation:queued with the code and its metadata', async () => {
    nock(QUEUE)
      .post('/tasks')
      .reply(200, (_u, b: any) => ({ eval_id: b.eval_id, status: 'queued', position: 0 }));
    const r = await gw.call('POST', '/api/eval', {
      json: { code: 'print(1)', priority: true, timeout: 5 },
    });
    expect(gw.events.map((x) => x.channel)).to.deep.equal([
      'evaluation:submitted',
      'evaluation:queued',
    ]);
    expect(gw.events[0]?.payload).to.deep.include({ eval_id: r.body.eval_id, language: 'python' });
    const e = gw.events[1];
    expect(e?.payload).to.deep.include({
      eval_id: r.body.eval_id,
      code: 'print(1)',
      language: 'python',
    });
    expect(e?.payload.metadata).to.include({
      timeout: 5,
      priority: true,
      backend: 'legacy',
      fallback: false,
    });
    expect(Date.parse(e?.payload.metadata.submitted_at)).to.be.closeTo(Date.now(), 10_000);
  });

  it('maps priority true to the queue service high priority and fills the defaults', async () => {
    let sent: any;
    nock(QUEUE)
      .post('/tasks', (b) => ((sent = b), true))
      .reply(200, (_u, b: any) => ({ eval_id: b.eval_id, status: 'queued' }));
    const r = await gw.call('POST', '/api/eval', { json: { code: 'print(2)', priority: true } });
    expect(sent).to.include({ priority: 2, timeout: 30, language: 'python' });
    expect(r.body.queue_position).to.equal(null);
  });

  const NUL_OR_SURROGATE =
    'must not contain a NUL character (U+0000) or an unpaired UTF-16 surrogate';
  it('accepts code with characters outside the BMP (a surrogate pair)', async () => {
    let sent: any;
    nock(QUEUE)
      .post('/tasks', (b) => ((sent = b), true))
      .reply(200, (_u, b: any) => ({ eval_id: b.eval_id, status: 'queued' }));
    const r = await gw.call('POST', '/api/eval', { json: { code: 'print("😀 é")' } });
    expect(r.status).to.equal(202);
    expect(sent.code).to.equal('print("😀 é")');
  });

  const invalid: [string, unknown, string, string][] = [
    ['blank code', { code: '   \n\t' }, '/code', 'must not be blank'],
    ['empty code', { code: '' }, '/code', 'must NOT have fewer than 1 characters'],
    ['missing code', { language: 'python' }, '/code', 'is required'],
    ['timeout 0', { code: 'x', timeout: 0 }, '/timeout', 'must be >= 1'],
    ['timeout 301', { code: 'x', timeout: 301 }, '/timeout', 'must be <= 300'],
    ['timeout as text', { code: 'x', timeout: 'soon' }, '/timeout', 'must be integer'],
    ['priority as a number', { code: 'x', priority: 3 }, '/priority', 'must be boolean'],
    ['unknown field', { code: 'x', image: 'python:3' }, '/image', 'is not allowed'],
    ['code with a NUL character', { code: 'print(1)\u0000' }, '/code', NUL_OR_SURROGATE],
    ['code with a lone high surrogate', { code: 'print("\uD800")' }, '/code', NUL_OR_SURROGATE],
    ['code with a lone low surrogate', { code: '\uDC00print(1)' }, '/code', NUL_OR_SURROGATE],
    [
      'language not allowed',
      { code: 'x', language: 'cobol' },
      '/language',
      'must be one of: python',
    ],
  ];
  for (const [name, body, pointer, message] of invalid) {
    it(`answers 422 for ${name}, naming ${pointer}`, async () => {
      const r = await gw.call('POST', '/api/eval', { json: body });
      expect(r.status).to.equal(422);
      expect(r.headers.get('content-type')).to.match(/^application\/problem\+json/);
      expect(r.body.code).to.equal(
        pointer === '/language' ? 'GW_ERR_LANGUAGE_NOT_ALLOWED' : 'GW_ERR_VALIDATION',
      );
      expect(r.body.errors).to.deep.include({ in: 'body', pointer, message });
      expect(gw.events).to.have.length(0);
    });
  }

  it('answers 422 for code over 1 MiB of UTF-8 even when under 1 Mi characters', async () => {
    const code = 'é'.repeat(600_000); // 600k characters, 1.2 MB of UTF-8
    const r = await gw.call('POST', '/api/eval', { json: { code } });
    expect(r.status).to.equal(422);
    expect(r.body.errors).to.deep.include({
      in: 'body',
      pointer: '/code',
      message: 'must be at most 1048576 bytes of UTF-8',
    });
  });

  it('accepts code of exactly 1 MiB', async () => {
    nock(QUEUE)
      .post('/tasks')
      .reply(200, (_u, b: any) => ({ eval_id: b.eval_id, status: 'queued', position: 0 }));
    const r = await gw.call('POST', '/api/eval', { json: { code: 'x'.repeat(1024 * 1024) } });
    expect(r.status).to.equal(202);
  });

  it("reports every violation at once: the schema's and the deployment's rules", async () => {
    const r = await gw.call('POST', '/api/eval', {
      json: { code: 'x', language: 'ruby', timeout: 0, foo: 1 },
    });
    expect(r.status).to.equal(422);
    expect(r.body.code).to.equal('GW_ERR_VALIDATION');
    expect(r.body.errors.map((e: any) => e.pointer).sort()).to.deep.equal([
      '/foo',
      '/language',
      '/timeout',
    ]);
    expect(gw.events).to.have.length(0);
  });

  it("accepts the original gateway's engine: docker (and ignores it), refuses any other", async () => {
    nock(QUEUE)
      .post('/tasks')
      .reply(200, (_u, b: any) => ({ eval_id: b.eval_id, status: 'queued', position: 0 }));
    const ok = await gw.call('POST', '/api/eval', { json: { code: 'x', engine: 'docker' } });
    expect(ok.status).to.equal(202);
    const other = await gw.call('POST', '/api/eval', { json: { code: 'x', engine: 'podman' } });
    expect(other.status).to.equal(422);
    expect(other.body.errors).to.deep.equal([
      { in: 'body', pointer: '/engine', message: 'must be one of: docker' },
    ]);
  });

  it('says GW_ERR_LANGUAGE_NOT_ALLOWED when the language is the only fault', async () => {
    const r = await gw.call('POST', '/api/eval', { json: { code: 'x', language: 'ruby' } });
    expect(r.status).to.equal(422);
    expect(r.body).to.include({ code: 'GW_ERR_LANGUAGE_NOT_ALLOWED' });
    expect(r.body.errors).to.deep.equal([
      { in: 'body', pointer: '/language', message: 'must be one of: python' },
    ]);
  });

  it('answers 422 when no body is sent', async () => {
    const r = await gw.call('POST', '/api/eval');
    expect(r.status).to.equal(422);
    expect(r.body.errors).to.deep.equal([
      { in: 'body', pointer: '', message: 'a JSON body is required' },
    ]);
  });

  it('answers 400 for malformed JSON', async () => {
    const r = await gw.call('POST', '/api/eval', {
      body: '{"code": "x",',
      headers: { 'content-type': 'application/json' },
    });
    expect(r.status).to.equal(400);
    expect(r.body.code).to.equal('GW_ERR_MALFORMED_JSON');
    expect(r.body.detail).to.match(/not valid JSON/);
  });

  it('answers 400 for a body that is not UTF-8, rather than replacing its bytes', async () => {
    const body = Buffer.concat([
      Buffer.from('{"code": "print(\''),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('\')"}'),
    ]);
    const r = await gw.call('POST', '/api/eval', {
      body,
      headers: { 'content-type': 'application/json' },
    });
    expect(r.status).to.equal(400);
    expect(r.body.code).to.equal('GW_ERR_MALFORMED_JSON');
    expect(r.body.detail).to.equal('The request body is not valid UTF-8 (byte 18)');
  });

  it('answers 415 for a body that is not JSON', async () => {
    const r = await gw.call('POST', '/api/eval', {
      body: 'code=print(1)',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(r.status).to.equal(415);
    expect(r.body.code).to.equal('GW_ERR_UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers 413 for a body over 2 MiB, announced or streamed', async () => {
    const big = JSON.stringify({ code: 'x'.repeat(2 * 1024 * 1024 + 10) });
    const announced = await gw.call('POST', '/api/eval', {
      body: big,
      headers: { 'content-type': 'application/json' },
    });
    expect(announced.status).to.equal(413);
    expect(announced.body.code).to.equal('GW_ERR_PAYLOAD_TOO_LARGE');
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(big));
        c.close();
      },
    });
    const res = await fetch(`${gw.url}/api/eval`, {
      method: 'POST',
      body: stream,
      headers: { 'content-type': 'application/json' },
      duplex: 'half',
    });
    expect(res.status).to.equal(413);
    expect(((await res.json()) as { code: string }).code).to.equal('GW_ERR_PAYLOAD_TOO_LARGE');
  });

  describe('when the queue service fails', () => {
    const cases: [string, () => void, number, string, RegExp][] = [
      [
        'answers 500',
        () => nock(QUEUE).post('/tasks').reply(500, { detail: 'redis down' }),
        502,
        'GW_ERR_BAD_GATEWAY',
        /HTTP 500: redis down/,
      ],
      [
        'answers off-contract',
        () => nock(QUEUE).post('/tasks').reply(200, { queued: true }),
        502,
        'GW_ERR_BAD_GATEWAY',
        /outside its contract/,
      ],
      [
        'answers with HTML',
        () => nock(QUEUE).post('/tasks').reply(200, '<html>oops</html>'),
        502,
        'GW_ERR_BAD_GATEWAY',
        /not JSON/,
      ],
      [
        'is too slow',
        () => nock(QUEUE).post('/tasks').delay(1000).reply(200, {}),
        504,
        'GW_ERR_DOWNSTREAM_TIMEOUT',
        /did not answer in time/,
      ],
    ];
    for (const [name, arrange, status, code, detail] of cases) {
      it(`answers ${status} when it ${name}, and publishes evaluation:failed`, async () => {
        arrange();
        const r = await gw.call('POST', '/api/eval', { json: { code: 'print(1)' } });
        expect(r.status).to.equal(status);
        expect(r.body).to.include({ code });
        expect(r.body.detail).to.match(detail);
        expect(r.text).not.to.match(/at .*\.ts:\d+/); // no stack trace
        expect(gw.events.map((e) => e.channel)).to.deep.equal([
          'evaluation:submitted',
          'evaluation:failed',
        ]);
        expect(gw.events[1]?.payload).to.include({ failed_at: 'submit' });
      });
    }

    it('answers 503 when nothing listens at its address, and publishes evaluation:failed', async () => {
      const down = await startGateway({ QUEUE_SERVICE_URL: await refusedUrl() });
      try {
        const r = await down.call('POST', '/api/eval', { json: { code: 'print(1)' } });
        expect(r.status).to.equal(503);
        expect(r.body).to.include({
          code: 'GW_ERR_DOWNSTREAM_UNAVAILABLE',
          detail: 'Queue service unavailable',
        });
        expect(down.events.map((e) => e.channel)).to.deep.equal([
          'evaluation:submitted',
          'evaluation:failed',
        ]);
      } finally {
        await down.close();
      }
    });

    it('answers 503 when the connection is reset', async () => {
      const peer = await resettingUrl();
      const down = await startGateway({ QUEUE_SERVICE_URL: peer.url });
      try {
        const r = await down.call('POST', '/api/eval', { json: { code: 'print(1)' } });
        expect(r.status).to.equal(503);
        expect(r.body.code).to.equal('GW_ERR_DOWNSTREAM_UNAVAILABLE');
      } finally {
        await down.close();
        await peer.close();
      }
    });

    it('does not retry the submit (POST is not idempotent)', async () => {
      // A retry would find the second answer waiting, and turn the 502 into a 202.
      const scope = nock(QUEUE)
        .post('/tasks')
        .reply(503, {})
        .post('/tasks')
        .reply(200, (_u, b: any) => ({ eval_id: b.eval_id, status: 'queued' }));
      const r = await gw.call('POST', '/api/eval', { json: { code: 'print(1)' } });
      expect(r.status).to.equal(502);
      expect(scope.pendingMocks()).to.have.length(1);
      nock.cleanAll(); // the unused second answer is the point, not a missed call
    });
  });
});

describe('POST /api/eval-batch', () => {
  isolate();
  let gw: Gateway;
  before(async () => {
    gw = await startGateway();
  });
  after(() => gw.close());
  beforeEach(() => {
    gw.events.length = 0;
  });

  it('queues every item and reports each with totals', async () => {
    nock(QUEUE)
      .post('/tasks')
      .times(3)
      .reply(200, (_u, b: any) => ({ eval_id: b.eval_id, status: 'queued', position: 0 }));
    const r = await gw.call('POST', '/api/eval-batch', {
      json: {
        evaluations: [
          { code: 'print(1)' },
          { code: 'print(2)', timeout: 10 },
          { code: 'print(3)' },
        ],
      },
    });
    expect(r.status).to.equal(202);
    expect(r.body).to.include({ total: 3, queued: 3, failed: 0 });
    expect(r.body.evaluations.map((e: any) => e.index)).to.deep.equal([0, 1, 2]);
    const ids = r.body.evaluations.map((e: any) => e.eval_id);
    expect(new Set(ids).size).to.equal(3);
    const queued = gw.events.filter((e) => e.channel === 'evaluation:queued');
    expect(queued.map((e) => e.payload.eval_id).sort()).to.deep.equal([...ids].sort());
    expect(queued.every((e) => e.payload.metadata.batch === true)).to.equal(true);
  });

  it('rejects the whole batch when one item is invalid, queueing nothing', async () => {
    const r = await gw.call('POST', '/api/eval-batch', {
      json: { evaluations: [{ code: 'print(1)' }, { code: ' ' }, { code: 'x', language: 'ruby' }] },
    });
    expect(r.status).to.equal(422);
    expect(r.body.errors).to.deep.include({
      in: 'body',
      pointer: '/evaluations/1/code',
      message: 'must not be blank',
    });
    // The language of item 2 is reported with it, not after it is fixed.
    expect(r.body.errors.map((e: any) => e.pointer)).to.include('/evaluations/2/language');
    expect(gw.events).to.have.length(0);
  });

  it('names the item whose language is not allowed', async () => {
    const r = await gw.call('POST', '/api/eval-batch', {
      json: { evaluations: [{ code: 'x' }, { code: 'y', language: 'ruby' }] },
    });
    expect(r.status).to.equal(422);
    expect(r.body.errors).to.deep.equal([
      { in: 'body', pointer: '/evaluations/1/language', message: 'must be one of: python' },
    ]);
  });

  it('rejects more than 100 items and an empty list', async () => {
    const many = await gw.call('POST', '/api/eval-batch', {
      json: { evaluations: Array.from({ length: 101 }, () => ({ code: 'x' })) },
    });
    expect(many.status).to.equal(422);
    expect(many.body.errors[0]).to.include({ pointer: '/evaluations' });
    const none = await gw.call('POST', '/api/eval-batch', { json: { evaluations: [] } });
    expect(none.status).to.equal(422);
  });

  it('reports items the queue refused as failed, under the id of their failed event', async () => {
    nock(QUEUE)
      .post('/tasks')
      .reply(200, (_u, b: any) => ({ eval_id: b.eval_id, status: 'queued', position: 0 }));
    nock(QUEUE).post('/tasks').reply(503, { detail: 'queue full' });
    const r = await gw.call('POST', '/api/eval-batch', {
      json: { evaluations: [{ code: 'a' }, { code: 'b' }] },
    });
    expect(r.status).to.equal(202);
    expect(r.body).to.include({ total: 2, queued: 1, failed: 1 });
    const failed = r.body.evaluations.find((e: any) => e.status === 'failed');
    expect(failed).to.include({ code: 'GW_ERR_BAD_GATEWAY' });
    expect(failed.error).to.match(/queue full/);
    const event = gw.events.find((e) => e.channel === 'evaluation:failed');
    expect(event?.payload.eval_id).to.equal(failed.eval_id);
  });

  it('keeps at most 8 submissions in flight and still queues all 100', async () => {
    let inFlight = 0;
    let peak = 0;
    nock(QUEUE)
      .post('/tasks')
      .times(100)
      .reply(200, async (_u, b: any) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setTimeout(r, 2));
        inFlight--;
        return { eval_id: b.eval_id, status: 'queued', position: 0 };
      });
    const r = await gw.call('POST', '/api/eval-batch', {
      json: { evaluations: Array.from({ length: 100 }, (_, i) => ({ code: `print(${i})` })) },
    });
    expect(r.body).to.include({ total: 100, queued: 100 });
    expect(peak).to.be.within(2, 8);
  });
});
