import { expect } from 'chai';
import { createInProcessEventBus } from '../../clients/event-bus.js';
import { createMemoryLedger } from '../../clients/ledger.js';
import type { JobPayload, JobQueue } from '../../core/ports/job-queue.js';
import type { QueueService, TaskRequest } from '../../core/ports/queue-service.js';
import { Submitter } from '../../core/submitter.js';
import { TrafficSplit } from '../../core/traffic-split.js';
import { loadConfig } from '../../lib/config.js';
import { GatewayError } from '../../lib/errors.js';
import { silentLogger } from '../../lib/logger.js';
import { GatewayStats } from '../../lib/stats.js';

const down = (what: string) => new GatewayError('GW_ERR_DOWNSTREAM_UNAVAILABLE', `${what} down`);

/** The submit path over in-memory ports: a queue and a job queue that record or refuse. */
function setup(opts: { share: number; legacy?: 'ok' | 'refuse'; bull?: 'ok' | 'refuse' | 'none' }) {
  const tasks: TaskRequest[] = [];
  const jobs: JobPayload[] = [];
  const queue = {
    submit: (t: TaskRequest) =>
      opts.legacy === 'refuse'
        ? Promise.reject(down('queue'))
        : (tasks.push(t), Promise.resolve({ eval_id: t.eval_id, status: 'queued', position: 4 })),
  } as unknown as QueueService;
  const jobQueue =
    opts.bull === 'none'
      ? undefined
      : ({
          add: (p: JobPayload) =>
            opts.bull === 'refuse'
              ? Promise.reject(down('redis'))
              : (jobs.push(p), Promise.resolve()),
        } as unknown as JobQueue);
  const events = createInProcessEventBus();
  const seen: { channel: string; payload: any }[] = [];
  events.subscribe((channel, payload) => seen.push({ channel, payload }));
  const ledger = createMemoryLedger(24);
  const stats = new GatewayStats();
  const config = loadConfig({ EVAL_MEMORY_MB: '300', EVAL_OUTPUT_BYTES: '4000' });
  const submitter = new Submitter({
    config,
    queue,
    jobQueue,
    events,
    ledger,
    split: new TrafficSplit({ enabled: jobQueue !== undefined, percentage: opts.share }),
    stats,
    logger: silentLogger(),
  });
  return { submitter, tasks, jobs, seen, ledger, stats };
}

describe('Submitter (core, in-memory ports)', () => {
  it('hands the legacy queue the task with the defaults filled and priority mapped', async () => {
    const { submitter, tasks, stats } = setup({ share: 0, bull: 'none' });
    const a = await submitter.submit({ code: 'x', priority: true });
    expect(a).to.include({ backend: 'legacy', queue_position: 4, fallback: false });
    expect(tasks[0]).to.deep.include({ code: 'x', language: 'python', timeout: 30, priority: 2 });
    const b = await submitter.submit({ code: 'y' });
    expect(tasks[1]?.priority).to.equal(1);
    expect(b.eval_id).to.not.equal(a.eval_id);
    expect(stats.submissions).to.deep.equal({ legacy: 2, bull: 0 });
    expect(stats.fallbacks).to.equal(0);
  });

  it('hands the job queue the job with its limits, and marks a batch item', async () => {
    const { submitter, jobs, ledger } = setup({ share: 1 });
    const a = await submitter.submit({ code: 'x', timeout: 5 }, { batch: true, client: 'key:1' });
    expect(a).to.include({ backend: 'bull', queue_position: null, fallback: false });
    expect(jobs[0]).to.deep.include({
      eval_id: a.eval_id,
      timeout: 5,
      priority: false,
      batch: true,
      limits: { memory_mb: 300, output_bytes: 4000 },
    });
    const rec = await ledger.find(a.eval_id);
    expect(rec).to.include({
      backend: 'bull',
      status: 'queued',
      batch: true,
      priority: false,
      client: 'key:1',
    });
    await submitter.submit({ code: 'y' });
    expect(jobs[1]).to.not.have.property('batch');
  });

  it('falls back to the other backend, says so, and counts it', async () => {
    const { submitter, tasks, seen, stats } = setup({ share: 1, bull: 'refuse' });
    const a = await submitter.submit({ code: 'x' });
    expect(a).to.include({ backend: 'legacy', fallback: true });
    expect(tasks).to.have.length(1);
    expect(stats.fallbacks).to.equal(1);
    const queued = seen.find((e) => e.channel === 'evaluation:queued')?.payload;
    expect(queued.metadata).to.include({ backend: 'legacy', fallback: true });
  });

  it('with both refusing: 503 naming each, evaluation:failed, counted, recorded failed', async () => {
    const { submitter, seen, stats, ledger } = setup({
      share: 0,
      legacy: 'refuse',
      bull: 'refuse',
    });
    let err: unknown;
    await submitter.submit({ code: 'x' }, { evalId: 'eval_x' }).catch((e: unknown) => (err = e));
    expect(err).to.be.instanceOf(GatewayError);
    expect((err as GatewayError).message).to.equal(
      'No queue backend took the evaluation: legacy: queue down; bull: redis down',
    );
    expect(stats.submitFailures).to.equal(1);
    expect(seen.map((e) => e.channel)).to.deep.equal(['evaluation:submitted', 'evaluation:failed']);
    expect(seen[1]?.payload).to.include({ eval_id: 'eval_x', failed_at: 'submit' });
    // Failed, so that the reconciler never queues behind the client's back what it was refused.
    expect((await ledger.find('eval_x'))?.status).to.equal('failed');
  });

  it('records before any backend sees it; a record that cannot be written refuses the submit', async () => {
    const { submitter, tasks, seen, ledger, stats } = setup({ share: 0, bull: 'none' });
    const order: string[] = [];
    const write = ledger.record.bind(ledger);
    ledger.record = (rec) => (order.push(`record ${rec.status}`), write(rec));
    const a = await submitter.submit({ code: 'x' });
    expect(order).to.deep.equal(['record queued']); // one write when the first choice takes it
    expect(tasks).to.have.length(1);
    expect(await ledger.find(a.eval_id)).to.deep.include({ status: 'queued', code: 'x' });

    ledger.record = () => Promise.reject(new Error('connection refused'));
    let err: unknown;
    await submitter.submit({ code: 'y' }).catch((e: unknown) => (err = e));
    expect((err as GatewayError).status).to.equal(503);
    expect((err as GatewayError).message).to.equal(
      'The gateway could not record the evaluation, so it queued nothing',
    );
    expect(tasks).to.have.length(1); // nothing queued
    expect(seen.filter((e) => e.payload.eval_id !== a.eval_id)).to.deep.equal([]);
    expect(stats.submitFailures).to.equal(1);
  });

  it('answers 202 when only the second record write of a fallback fails: the id still answers', async () => {
    const { submitter, ledger, stats } = setup({ share: 1, bull: 'refuse' });
    const write = ledger.record.bind(ledger);
    const backends: string[] = [];
    ledger.record = (rec) => {
      backends.push(rec.backend);
      return backends.length > 1 ? Promise.reject(new Error('timeout')) : write(rec);
    };
    const a = await submitter.submit({ code: 'x' });
    expect(a).to.include({ backend: 'legacy', fallback: true });
    expect(backends).to.deep.equal(['bull', 'legacy']); // the split's choice, then the taker
    expect(stats.recordUpdatesFailed).to.equal(1);
    expect((await ledger.find(a.eval_id))?.status).to.equal('queued');
  });

  it('requeues an evaluation with its test cases (the record keeps them)', async () => {
    const { submitter, tasks, ledger } = setup({ share: 1, bull: 'refuse' });
    const cases = [{ stdin: '1\n', expected_output: '1\n' }, {}];
    const b = await submitter.submit({ code: 'x', test_cases: cases });
    await submitter.requeue((await ledger.find(b.eval_id))!);
    expect(tasks.map((t) => t.eval_id)).to.deep.equal([b.eval_id, b.eval_id]);
    expect(tasks[1]).to.deep.include({ test_cases: cases });
  });

  it('requeues a recorded evaluation under its own id and says so on evaluation:queued', async () => {
    const { submitter, jobs, tasks, seen, ledger } = setup({ share: 1, bull: 'refuse' });
    const a = await submitter.submit({ code: 'x', timeout: 7, stdin: 'input\n', args: ['-v'] });
    expect(a).to.include({ backend: 'legacy', fallback: true });
    const rec = (await ledger.find(a.eval_id))!;
    const again = await submitter.requeue(rec);
    expect(again.eval_id).to.equal(a.eval_id);
    expect(tasks.map((t) => t.eval_id)).to.deep.equal([a.eval_id, a.eval_id]);
    expect(tasks[1]).to.deep.include({ stdin: 'input\n', args: ['-v'] }); // the record kept them

    expect(jobs).to.deep.equal([]);
    const queued = seen.filter((e) => e.channel === 'evaluation:queued');
    expect(queued).to.have.length(2);
    expect(queued[1]?.payload.metadata).to.include({
      requeued: true,
      timeout: 7,
      backend: 'legacy',
    });
    expect((await ledger.find(a.eval_id))?.status).to.equal('queued');
  });

  it('with one backend only, answers its own failure as it is', async () => {
    const { submitter } = setup({ share: 0, legacy: 'refuse', bull: 'none' });
    let err: unknown;
    await submitter.submit({ code: 'x' }).catch((e: unknown) => (err = e));
    expect((err as GatewayError).message).to.equal('queue down');
  });

  it('checks code size in UTF-8 bytes and the language allow-list, naming each place', () => {
    const { submitter } = setup({ share: 0, bull: 'none' });
    const big = 'é'.repeat(600_000); // 1.2 MB of UTF-8 in 600k characters
    expect(submitter.check({ code: big, language: 'ruby' }, '/evaluations/2')).to.deep.equal([
      {
        in: 'body',
        pointer: '/evaluations/2/code',
        message: 'must be at most 1048576 bytes of UTF-8',
      },
      { in: 'body', pointer: '/evaluations/2/language', message: 'must be one of: python' },
    ]);
    expect(submitter.check({ code: 'x'.repeat(1024 * 1024) })).to.deep.equal([]);
  });
});
