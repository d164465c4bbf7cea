import { expect } from 'chai';
import Bull from 'bull';
import nock from 'nock';
import { QUEUE, STORAGE, startGateway } from '../helpers/harness.js';
import type { Gateway } from '../helpers/harness.js';
import { REDIS_URL, dropRedisPrefix, uniqueName } from '../helpers/services.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER = `00-${TRACE}-00f067aa0ba902b7-01`;

/** One submission followed by its W3C trace id: request → queue service, Bull job, events. */
describe('trace context (traceparent)', () => {
  const prefix = uniqueName('bull');
  let gw: Gateway;
  let jobs: Bull.Queue;
  before(async () => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    gw = await startGateway({
      REDIS_URL,
      CELERY_ENABLED: 'true',
      CELERY_PERCENTAGE: '1',
      BULL_PREFIX: prefix,
    });
    jobs = new Bull('evaluations', REDIS_URL, { prefix });
  });
  after(async () => {
    await gw.close();
    await jobs.close();
    nock.enableNetConnect();
    await dropRedisPrefix(prefix);
  });

  const submit = (headers: Record<string, string>) =>
    gw.call('POST', '/api/eval', { json: { code: 'print(1)' }, headers });
  const traceOf = (tp: unknown) => /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/.exec(String(tp));

  it("carries the caller's trace into the Bull job and the lifecycle events, under a span of its own", async () => {
    const r = await submit({ traceparent: CALLER });
    expect(r.status).to.equal(202);
    const job = await jobs.getJob(r.body.eval_id as string);
    const inJob = traceOf(job?.data.traceparent);
    expect(inJob?.[1]).to.equal(TRACE);
    expect(inJob?.[2]).to.not.equal('00f067aa0ba902b7'); // the gateway's span, not the caller's
    const queued = gw.events.find((e) => e.channel === 'evaluation:queued')?.payload;
    expect(traceOf(queued.metadata.traceparent)?.[1]).to.equal(TRACE);
  });

  it('passes the trace to the services behind the gateway, and starts one when none came', async () => {
    const legacy = await startGateway(); // no job queue: submits go to the legacy queue service
    const seen: string[] = [];
    nock(QUEUE)
      .post('/tasks')
      .times(2)
      .reply(function (_uri, body: any) {
        seen.push(this.req.headers.traceparent as string);
        return [200, { eval_id: body.eval_id, status: 'queued', position: 0 }];
      });
    try {
      for (const headers of [{ traceparent: CALLER }, {}] as Record<string, string>[])
        await legacy.call('POST', '/api/eval', { json: { code: 'print(1)' }, headers });
      expect(traceOf(seen[0])?.[1]).to.equal(TRACE);
      expect(traceOf(seen[1])?.[1])
        .to.match(/^[0-9a-f]{32}$/)
        .and.not.equal(TRACE); // a new trace
    } finally {
      await legacy.close();
    }
  });

  it('passes the trace on reads and cancels too, and sends none with TRACING=false', async () => {
    const id = 'eval_20240701_120000_abc123def456';
    const seen: (string | undefined)[] = [];
    nock(STORAGE)
      .get(`/evaluations/${id}`)
      .times(2)
      .reply(function () {
        seen.push(this.req.headers.traceparent);
        return [404, { detail: 'Not Found' }];
      });
    const off = await startGateway({ TRACING: 'false' });
    try {
      await gw.call('GET', `/api/eval-status/${id}`, { headers: { traceparent: CALLER } });
      await off.call('GET', `/api/eval-status/${id}`, { headers: { traceparent: CALLER } });
      expect(traceOf(seen[0])?.[1]).to.equal(TRACE);
      expect(seen[1]).to.equal(undefined);
    } finally {
      await off.close();
    }
  });
});
