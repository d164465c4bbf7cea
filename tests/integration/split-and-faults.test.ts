import { expect } from 'chai';
import nock from 'nock';
import Bull from 'bull';
import { createRedisEventBus } from '../../clients/event-bus.js';
import { silentLogger } from '../../lib/logger.js';
import { QUEUE, STORAGE, refusedUrl, startGateway, stored } from '../helpers/harness.js';
import type { Gateway } from '../helpers/harness.js';
import {
  DATABASE_URL,
  REDIS_URL,
  dropRedisPrefix,
  dropSchema,
  uniqueName,
  until,
} from '../helpers/services.js';

/** The event of `channel` for `evalId` the gateway's bus delivered, waiting for it to arrive. */
async function eventFor(gw: Gateway, evalId: string, channel: string): Promise<any> {
  const find = () => gw.events.find((e) => e.channel === channel && e.payload.eval_id === evalId);
  await until(() => find() !== undefined);
  return find()?.payload;
}

const legacyAccepts = (times = 1): nock.Scope =>
  nock(QUEUE)
    .post('/tasks')
    .times(times)
    .reply(200, (_u, b: any) => ({ eval_id: b.eval_id, status: 'queued', position: 0 }));

/** A gateway on the real Redis (events and Bull) and PostgreSQL, each under names of its own. */
async function realGateway(
  env: Record<string, string> = {},
): Promise<{ gw: Gateway; bull: Bull.Queue; cleanup: () => Promise<void> }> {
  const prefix = uniqueName('bull');
  const schema = uniqueName('gw');
  const gw = await startGateway({
    REDIS_URL,
    DATABASE_URL,
    DATABASE_SCHEMA: schema,
    CELERY_ENABLED: 'true',
    BULL_PREFIX: prefix,
    ...env,
  });
  const bull = new Bull('evaluations', REDIS_URL, { prefix });
  return {
    gw,
    bull,
    cleanup: async () => {
      await gw.close();
      await bull.close();
      await dropRedisPrefix(prefix);
      await dropSchema(schema);
    },
  };
}

describe('two queue backends behind one submit (real Redis and PostgreSQL)', () => {
  before(() => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
  });
  afterEach(() => nock.cleanAll());
  after(() => nock.enableNetConnect());

  it('splits 1,000 submissions 30/70 within 5 points, every Bull one a job, one queued event each', async function () {
    this.timeout(60_000);
    const { gw, bull, cleanup } = await realGateway({ CELERY_PERCENTAGE: '0.3' });
    const listener = createRedisEventBus(REDIS_URL, silentLogger());
    try {
      const queuedIds = new Map<string, number>();
      listener.subscribe((channel, payload: any) => {
        if (channel === 'evaluation:queued')
          queuedIds.set(payload.eval_id, (queuedIds.get(payload.eval_id) ?? 0) + 1);
      });
      await listener.subscribed();
      legacyAccepts(1000);
      const answers: any[] = [];
      for (let i = 0; i < 1000; i += 25) {
        const round = await Promise.all(
          Array.from({ length: 25 }, (_, j) =>
            gw.call('POST', '/api/eval', { json: { code: `print(${i + j})` } }),
          ),
        );
        answers.push(...round.map((r) => r.body));
      }
      expect(answers.every((a) => a.status === 'queued' && a.fallback === false)).to.equal(true);
      const bullIds = answers.filter((a) => a.backend === 'bull').map((a) => a.eval_id);
      const share = bullIds.length / 1000;
      expect(share).to.be.within(0.25, 0.35);
      const jobs = await bull.getJobs(['waiting', 'paused']);
      expect(jobs.map((j) => j.id).sort()).to.deep.equal([...bullIds].sort());
      // Only this test's own ids: other runs may publish on the same channels meanwhile.
      const mine = answers.map((a) => a.eval_id as string);
      await until(() => mine.every((id) => queuedIds.has(id)), 5000);
      expect(mine.filter((id) => queuedIds.get(id) !== 1)).to.deep.equal([]);
      const status = await gw.call('GET', '/api/queue-status');
      expect(status.body.traffic_split).to.deep.equal({
        celery_enabled: true,
        configured_percentage: 0.3,
        observed: { legacy: 1000 - bullIds.length, bull: bullIds.length, bull_share: share },
      });
      expect(status.body.bull).to.include({
        enabled: true,
        connected: true,
        waiting: bullIds.length,
        queue: 'evaluations',
      });
    } finally {
      await listener.close();
      await cleanup();
    }
  });

  it('keeps a client on one backend with TRAFFIC_SPLIT_STICKY_HEADER', async () => {
    const { gw, cleanup } = await realGateway({
      CELERY_PERCENTAGE: '0.5',
      TRAFFIC_SPLIT_STICKY_HEADER: 'X-Client-Id',
    });
    try {
      legacyAccepts(60);
      const backendsOf = async (client: string): Promise<Set<string>> => {
        const rs = await Promise.all(
          Array.from({ length: 6 }, () =>
            gw.call('POST', '/api/eval', {
              json: { code: 'x' },
              headers: { 'x-client-id': client },
            }),
          ),
        );
        return new Set(rs.map((r) => r.body.backend));
      };
      const seen = new Set<string>();
      for (const client of [
        'alice',
        'bob',
        'carol',
        'dave',
        'erin',
        'frank',
        'grace',
        'heidi',
        'ivan',
        'judy',
      ]) {
        const backends = await backendsOf(client);
        expect(backends.size, client).to.equal(1);
        seen.add([...backends][0]!);
      }
      expect(seen.size).to.equal(2); // different clients still land on both
      nock.cleanAll();
    } finally {
      await cleanup();
    }
  });

  it('answers an idempotent retry with the first answer and makes one job', async () => {
    const { gw, bull, cleanup } = await realGateway({ CELERY_PERCENTAGE: '1' });
    try {
      const headers = { 'idempotency-key': 'retry-1' };
      const body = { code: 'print("once")', timeout: 10 };
      const first = await gw.call('POST', '/api/eval', { json: body, headers });
      const again = await gw.call('POST', '/api/eval', {
        json: { timeout: 10, code: 'print("once")' },
        headers,
      });
      expect(first.status).to.equal(202);
      expect(again.status).to.equal(202);
      expect(again.body).to.deep.equal(first.body);
      expect(again.headers.get('idempotent-replayed')).to.equal('true');
      expect(first.headers.get('idempotent-replayed')).to.equal(null);
      expect((await bull.getJobs(['waiting'])).map((j) => j.id)).to.deep.equal([
        first.body.eval_id,
      ]);
      const other = await gw.call('POST', '/api/eval', {
        json: { code: 'print("twice")' },
        headers,
      });
      expect(other.status).to.equal(422);
      expect(other.body.code).to.equal('GW_ERR_IDEMPOTENCY_MISMATCH');
      const batch = await gw.call('POST', '/api/eval-batch', {
        json: { evaluations: [body] },
        headers: { 'idempotency-key': 'b-1' },
      });
      const batchAgain = await gw.call('POST', '/api/eval-batch', {
        json: { evaluations: [body] },
        headers: { 'idempotency-key': 'b-1' },
      });
      expect(batchAgain.body).to.deep.equal(batch.body);
      expect(await bull.getWaitingCount()).to.equal(2);
    } finally {
      await cleanup();
    }
  });

  it('forgets a key whose first attempt failed, so the retry runs', async () => {
    const { gw, cleanup } = await realGateway({
      CELERY_ENABLED: 'false',
      QUEUE_SERVICE_URL: await refusedUrl(),
    });
    try {
      const headers = { 'idempotency-key': 'k-fail' };
      expect(
        (await gw.call('POST', '/api/eval', { json: { code: 'x' }, headers })).status,
      ).to.equal(503);
      expect(
        (await gw.call('POST', '/api/eval', { json: { code: 'x' }, headers })).status,
      ).to.equal(503);
    } finally {
      await cleanup();
    }
  });

  it('answers the status of a just-submitted evaluation from its record until storage has it', async () => {
    const { gw, cleanup } = await realGateway({ CELERY_PERCENTAGE: '1' });
    try {
      const r = await gw.call('POST', '/api/eval', { json: { code: 'print(1)', priority: true } });
      nock(STORAGE).get(`/evaluations/${r.body.eval_id}`).reply(404, {});
      const s = await gw.call('GET', `/api/eval-status/${r.body.eval_id}`);
      expect(s.status).to.equal(200);
      expect(s.body).to.include({
        eval_id: r.body.eval_id,
        status: 'queued',
        success: null,
        language: 'python',
      });
      expect(Date.parse(s.body.created_at)).to.be.closeTo(Date.now(), 10_000);
      nock(STORAGE).get(`/evaluations/${r.body.eval_id}`).reply(404, {});
      const full = await gw.call('GET', `/api/eval/${r.body.eval_id}`);
      expect(full.body.metadata).to.deep.equal({ backend: 'bull', timeout: 30, priority: true });
    } finally {
      await cleanup();
    }
  });

  describe('cancel on the job queue', () => {
    it('removes a waiting job, records the evaluation cancelled, publishes the event', async () => {
      const { gw, bull, cleanup } = await realGateway({ CELERY_PERCENTAGE: '1' });
      try {
        const r = await gw.call('POST', '/api/eval', { json: { code: 'print(1)' } });
        const id = r.body.eval_id;
        nock(STORAGE).get(`/evaluations/${id}`).reply(404, {});
        const c = await gw.call('POST', `/api/eval/${id}/cancel`);
        expect(c.body).to.deep.equal({
          eval_id: id,
          status: 'cancelled',
          message: 'Task removed from the queue and cancelled',
          previous_status: 'queued',
        });
        expect(await bull.getJob(id)).to.equal(null);
        expect(await eventFor(gw, id, 'evaluation:cancelled')).to.deep.equal({
          eval_id: id,
          reason: 'cancelled on request',
          terminate: false,
        });
        nock(STORAGE).get(`/evaluations/${id}`).reply(404, {});
        expect((await gw.call('GET', `/api/eval-status/${id}`)).body.status).to.equal('cancelled');
        nock(STORAGE).get(`/evaluations/${id}`).reply(404, {});
        expect((await gw.call('POST', `/api/eval/${id}/cancel`)).status).to.equal(409);
      } finally {
        await cleanup();
      }
    });

    it('signals an active job through the event, killing it on its executor with terminate=true', async () => {
      const { gw, bull, cleanup } = await realGateway({ CELERY_PERCENTAGE: '1' });
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let started = false;
      void bull.process(async () => {
        started = true;
        await held;
      });
      try {
        const r = await gw.call('POST', '/api/eval', { json: { code: 'while True: pass' } });
        const id = r.body.eval_id;
        await until(() => started);
        nock(STORAGE).get(`/evaluations/${id}`).reply(404, {});
        const soft = await gw.call('POST', `/api/eval/${id}/cancel`);
        expect(soft.body.message).to.equal(
          'Cancellation requested; the worker stops the running task',
        );
        expect(await eventFor(gw, id, 'evaluation:cancelled')).to.include({ terminate: false });

        const r2 = await gw.call('POST', '/api/eval', { json: { code: 'while True: pass' } });
        const id2 = r2.body.eval_id;
        nock(STORAGE)
          .get(`/evaluations/${id2}`)
          .reply(200, stored(id2, { status: 'running' }));
        nock(STORAGE)
          .get(`/evaluations/${id2}/running`)
          .reply(200, { eval_id: id2, started_at: 'x', executor_id: 'exec-9' });
        const kill = nock('http://exec-9:8083')
          .post(`/kill/${id2}`)
          .reply(200, { eval_id: id2, success: true, message: 'killed' });
        nock(STORAGE)
          .put(`/evaluations/${id2}`)
          .reply(200, stored(id2, { status: 'cancelled' }));
        const hard = await gw.call('POST', `/api/eval/${id2}/cancel?terminate=true`);
        expect(hard.body.message).to.equal('Task forcefully terminated');
        expect(kill.isDone()).to.equal(true);
        expect(await eventFor(gw, id2, 'evaluation:cancelled')).to.include({ terminate: true });
      } finally {
        release();
        await cleanup();
      }
    });

    it('answers 409 for a job that already finished', async () => {
      const { gw, bull, cleanup } = await realGateway({ CELERY_PERCENTAGE: '1' });
      void bull.process(() => Promise.resolve());
      try {
        const r = await gw.call('POST', '/api/eval', { json: { code: 'print(1)' } });
        const id = r.body.eval_id;
        await until(async () => (await bull.getJob(id))?.finishedOn !== undefined);
        nock(STORAGE).get(`/evaluations/${id}`).reply(404, {});
        const c = await gw.call('POST', `/api/eval/${id}/cancel`);
        expect(c.status).to.equal(409);
        expect(c.body.code).to.equal('GW_ERR_EVALUATION_TERMINAL');
      } finally {
        await cleanup();
      }
    });
  });

  describe('faults', () => {
    it('legacy queue down: the job queue takes everything, and says it was a fallback', async () => {
      const { gw, bull, cleanup } = await realGateway({
        CELERY_PERCENTAGE: '0',
        QUEUE_SERVICE_URL: await refusedUrl(),
      });
      try {
        const rs = await Promise.all(
          Array.from({ length: 10 }, () => gw.call('POST', '/api/eval', { json: { code: 'x' } })),
        );
        expect(rs.map((r) => r.status)).to.deep.equal(Array(10).fill(202));
        expect(rs.every((r) => r.body.backend === 'bull' && r.body.fallback === true)).to.equal(
          true,
        );
        expect(rs[0]?.body.message).to.match(/legacy queue refused it; the job queue took it/);
        expect(await bull.getWaitingCount()).to.equal(10);
        await until(() => gw.events.filter((e) => e.channel === 'evaluation:queued').length === 10);
        const queued = gw.events.filter((e) => e.channel === 'evaluation:queued');
        expect(
          queued.every(
            (e) => e.payload.metadata.fallback === true && e.payload.metadata.backend === 'bull',
          ),
        ).to.equal(true);
        nock(STORAGE).get('/statistics').reply(200, { total_evaluations: 0, by_status: {} });
        const stats = await gw.call('GET', '/api/statistics');
        expect(stats.body.gateway).to.include({ fallbacks: 10, submit_failures: 0 });
      } finally {
        await cleanup();
      }
    });

    it('job-queue Redis down: the legacy queue takes everything; celery-status says disconnected', async () => {
      const { gw, cleanup } = await realGateway({
        CELERY_PERCENTAGE: '1',
        CELERY_BROKER_URL: (await refusedUrl()).replace('http:', 'redis:'),
      });
      try {
        legacyAccepts(5);
        const rs = await Promise.all(
          Array.from({ length: 5 }, () => gw.call('POST', '/api/eval', { json: { code: 'x' } })),
        );
        expect(
          rs.every(
            (r) => r.status === 202 && r.body.backend === 'legacy' && r.body.fallback === true,
          ),
        ).to.equal(true);
        const cs = await gw.call('GET', '/api/celery-status');
        expect(cs.body).to.include({ enabled: true, connected: false });
        expect(cs.body.error).to.match(/Job queue unavailable/);
        await gw.deps.health.checkNow();
        expect(gw.deps.health.snapshot().services.job_queue.status).to.equal('unhealthy');
      } finally {
        await cleanup();
      }
    });

    it('both down: 503, evaluation:failed, and nothing reported as queued', async () => {
      const { gw, cleanup } = await realGateway({
        CELERY_PERCENTAGE: '0.5',
        QUEUE_SERVICE_URL: await refusedUrl(),
        CELERY_BROKER_URL: (await refusedUrl()).replace('http:', 'redis:'),
      });
      try {
        const r = await gw.call('POST', '/api/eval', { json: { code: 'x' } });
        expect(r.status).to.equal(503);
        expect(r.body.detail).to.match(
          /^No queue backend took the evaluation: (legacy|bull): .*; (legacy|bull): /,
        );
        await until(() => gw.events.length === 2);
        expect(gw.events.map((e) => e.channel)).to.deep.equal([
          'evaluation:submitted',
          'evaluation:failed',
        ]);
        const b = await gw.call('POST', '/api/eval-batch', {
          json: { evaluations: [{ code: 'a' }, { code: 'b' }] },
        });
        expect(b.body).to.include({ total: 2, queued: 0, failed: 2 });
        await until(() => gw.events.length === 6);
        expect(gw.events.some((e) => e.channel === 'evaluation:queued')).to.equal(false);
        expect(gw.deps.stats.submitFailures).to.equal(3);
      } finally {
        await cleanup();
      }
    });
  });
});
