import { expect } from 'chai';
import Bull from 'bull';
import { createJobQueue } from '../../clients/job-queue.js';
import type { JobPayload, JobQueue } from '../../clients/job-queue.js';
import { silentLogger } from '../../lib/logger.js';
import { newEvalId } from '../../core/ids.js';
import { refusedUrl } from '../helpers/harness.js';
import { REDIS_URL, dropRedisPrefix, uniqueName, until } from '../helpers/services.js';

const payload = (over: Partial<JobPayload> = {}): JobPayload => ({
  eval_id: newEvalId(),
  code: 'print(1)',
  language: 'python',
  timeout: 30,
  priority: false,
  limits: { memory_mb: 512, output_bytes: 1048576 },
  submitted_at: new Date().toISOString(),
  ...over,
});

describe('the Bull job queue (real Redis)', () => {
  const prefix = uniqueName('bull');
  const opts = {
    redisUrl: REDIS_URL,
    name: 'evaluations',
    prefix,
    attempts: 3,
    backoffMs: 1000,
    keepCompleted: 10,
    keepFailed: 20,
    timeoutMs: 2000,
  };
  let jq: JobQueue;
  /** The same queue as a worker sees it. */
  let worker: Bull.Queue;
  before(() => {
    jq = createJobQueue(opts, silentLogger());
    worker = new Bull('evaluations', REDIS_URL, { prefix });
  });
  after(async () => {
    await jq.close();
    await worker.close();
    await dropRedisPrefix(prefix);
  });

  it('adds one job per evaluation, id = eval_id, with the payload and its options', async () => {
    const p = payload({ priority: true });
    await jq.add(p);
    const job = await worker.getJob(p.eval_id);
    expect(job?.id).to.equal(p.eval_id);
    expect(job?.data).to.deep.equal(p);
    expect(job?.opts).to.deep.include({
      priority: 1,
      attempts: 3,
      removeOnComplete: 10,
      removeOnFail: 20,
    });
    expect(job?.opts.backoff).to.deep.equal({ type: 'exponential', delay: 1000 });
    expect(await job?.getState()).to.equal('waiting');
  });

  it('gives normal evaluations a lower priority than priority ones', async () => {
    const p = payload();
    await jq.add(p);
    expect((await worker.getJob(p.eval_id))?.opts.priority).to.equal(5);
  });

  it('never makes a second job for the same evaluation', async () => {
    const p = payload();
    await jq.add(p);
    await jq.add({ ...p, code: 'print(2)' });
    const jobs = await worker.getJobs(['waiting', 'paused', 'delayed']);
    const mine = jobs.filter((j) => j.id === p.eval_id);
    expect(mine).to.have.length(1);
    expect(mine[0]?.data.code).to.equal('print(1)');
  });

  it('refuses a payload outside spec/events.yaml', async () => {
    let error: unknown;
    try {
      await jq.add({ ...payload(), limits: undefined } as unknown as JobPayload);
    } catch (err) {
      error = err;
    }
    expect(String(error)).to.match(/job payload breaks spec\/events.yaml/);
  });

  it('cancels a waiting job by removing it, and says unknown for a job it never had', async () => {
    const p = payload();
    await jq.add(p);
    expect(await jq.cancel(p.eval_id)).to.equal('removed');
    expect(await worker.getJob(p.eval_id)).to.equal(null);
    expect(await jq.cancel('eval_20240101_000000_000000000000')).to.equal('unknown');
  });

  it('reports an active job as active and a finished one as finished; counts workers and jobs', async () => {
    await worker.empty();
    const p = payload();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let started = false;
    void worker.process(async () => {
      started = true;
      await held;
      return { ok: true };
    });
    await jq.add(p);
    await until(() => started);
    expect(await jq.cancel(p.eval_id)).to.equal('active');
    const counts = await jq.counts();
    expect(counts.active).to.equal(1);
    expect(counts.workers).to.be.at.least(1);
    release();
    await until(async () => (await worker.getJob(p.eval_id))?.finishedOn !== undefined);
    expect(await jq.cancel(p.eval_id)).to.equal('finished');
    expect((await jq.counts()).completed).to.be.at.least(1);
  });

  it('fails at once with 503, and reports disconnected, when Redis is down', async () => {
    const url = (await refusedUrl()).replace('http:', 'redis:');
    const down = createJobQueue({ ...opts, redisUrl: url }, silentLogger());
    try {
      const started = Date.now();
      let error: any;
      try {
        await down.add(payload());
      } catch (err) {
        error = err;
      }
      expect(error?.code).to.equal('GW_ERR_DOWNSTREAM_UNAVAILABLE');
      expect(Date.now() - started).to.be.below(1500);
      expect(down.connected).to.equal(false);
      let countsError: any;
      await down.counts().catch((err: unknown) => (countsError = err));
      expect(countsError?.code).to.equal('GW_ERR_DOWNSTREAM_UNAVAILABLE');
    } finally {
      await down.close();
    }
  });
});
