import { expect } from 'chai';
import { createInProcessEventBus } from '../../clients/event-bus.js';
import { createMemoryLedger } from '../../clients/ledger.js';
import type { JobPayload, JobQueue } from '../../core/ports/job-queue.js';
import type { QueueService, TaskRequest } from '../../core/ports/queue-service.js';
import type { StorageService, StoredEvaluation } from '../../core/ports/storage-service.js';
import { Reconciler } from '../../core/reconciler.js';
import { Submitter } from '../../core/submitter.js';
import { TrafficSplit } from '../../core/traffic-split.js';
import { loadConfig } from '../../lib/config.js';
import { silentLogger } from '../../lib/logger.js';
import { GatewayStats } from '../../lib/stats.js';

const GRACE = 60_000;

/**
 * The reconciler over in-memory ports: a legacy queue and a job queue that can lose what they
 * hold (as a Redis restart or a queue crash does), a storage that knows what workers wrote.
 */
function setup(maxRequeues = 2) {
  let t = Date.now();
  const tasks = new Map<string, TaskRequest>();
  const jobs = new Map<string, JobPayload>();
  const stored = new Map<string, Partial<StoredEvaluation>>();
  const queue = {
    submit: (task: TaskRequest) => (
      tasks.set(task.eval_id, task),
      Promise.resolve({ eval_id: task.eval_id, status: 'queued' })
    ),
    holds: (id: string) => Promise.resolve(tasks.has(id)),
  } as unknown as QueueService;
  const jobQueue = {
    add: (p: JobPayload) => (jobs.set(p.eval_id, p), Promise.resolve()),
    holds: (id: string) => Promise.resolve(jobs.has(id)),
  } as unknown as JobQueue;
  const storage = {
    find: (id: string) => Promise.resolve(stored.get(id) ?? null),
    update: (id: string, patch: Partial<StoredEvaluation>) => {
      stored.set(id, { ...stored.get(id), ...patch });
      return Promise.resolve(stored.get(id));
    },
  } as unknown as StorageService;
  const events = createInProcessEventBus();
  const seen: { channel: string; payload: any }[] = [];
  events.subscribe((channel, payload) => seen.push({ channel, payload }));
  const ledger = createMemoryLedger(24, () => t);
  const logger = silentLogger();
  const submitter = new Submitter({
    config: loadConfig({}),
    queue,
    jobQueue,
    events,
    ledger,
    split: new TrafficSplit({ enabled: true, percentage: 1 }),
    stats: new GatewayStats(),
    logger,
  });
  const started: { id: string; fallback: unknown }[] = [];
  const webhooks = {
    ended: (id: string, fallback?: unknown) => (started.push({ id, fallback }), Promise.resolve()),
  };
  const reconciler = new Reconciler(
    { ledger, storage, queue, jobQueue, submitter, events, logger, webhooks },
    { graceMs: GRACE, intervalMs: 1_000, batch: 10, maxRequeues, now: () => t },
  );
  const later = (ms = GRACE) => (t += ms);
  const at = (): string => new Date(t).toISOString();
  return { submitter, reconciler, ledger, tasks, jobs, stored, seen, later, at, started };
}

describe('Reconciler (core, in-memory ports)', () => {
  it('queues again, under the same id, an evaluation its backend lost', async () => {
    const { submitter, reconciler, ledger, jobs, seen, later } = setup();
    const { eval_id } = await submitter.submit({ code: 'print(1)', timeout: 9 });
    jobs.clear(); // Redis restarted without persistence
    await reconciler.run();
    expect(reconciler.figures.requeued).to.equal(0); // not before the grace period
    later();
    await reconciler.run();
    expect(jobs.get(eval_id)).to.deep.include({ eval_id, code: 'print(1)', timeout: 9 });
    expect(reconciler.figures).to.include({ leader: true, requeued: 1, checked: 1 });
    const queued = seen.filter((e) => e.channel === 'evaluation:queued');
    expect(queued.map((e) => e.payload.metadata.requeued)).to.deep.equal([undefined, true]);
    expect(await ledger.find(eval_id)).to.include({ status: 'queued', requeues: 1 });
  });

  it('leaves alone what a backend still holds, and follows storage where work began', async () => {
    const { submitter, reconciler, ledger, jobs, tasks, stored, later, at } = setup();
    const waiting = await submitter.submit({ code: 'a' });
    const started = await submitter.submit({ code: 'b' });
    const done = await submitter.submit({ code: 'c' });
    jobs.delete(started.eval_id); // a worker took it and wrote storage
    stored.set(started.eval_id, { id: started.eval_id, status: 'running', started_at: at() });
    jobs.delete(done.eval_id);
    stored.set(done.eval_id, { id: done.eval_id, status: 'completed', started_at: at() });
    later();
    await reconciler.run();
    expect(reconciler.figures).to.include({ requeued: 0, checked: 3 });
    expect(tasks.size).to.equal(0);
    expect((await ledger.find(started.eval_id))?.status).to.equal('running');
    expect((await ledger.find(done.eval_id))?.status).to.equal('completed');
    expect((await ledger.find(waiting.eval_id))?.status).to.equal('queued');
    await reconciler.run(); // looked at: not again before another grace period
    expect(reconciler.figures.checked).to.equal(3);
  });

  it('queues again what storage says runs long past its timeout with no backend holding it', async () => {
    const { submitter, reconciler, ledger, jobs, stored, later, at } = setup();
    const { eval_id } = await submitter.submit({ code: 'x', timeout: 90 });
    jobs.clear(); // taken by a worker...
    stored.set(eval_id, { id: eval_id, status: 'running', started_at: at() });
    later(); // ...which may still be running it: its 90 s are not up
    await reconciler.run();
    expect(reconciler.figures.requeued).to.equal(0);
    expect((await ledger.find(eval_id))?.status).to.equal('running');
    later(2 * GRACE); // past 90 s + the grace period since it started, and no end recorded
    await reconciler.run();
    expect(reconciler.figures.requeued).to.equal(1);
    expect(stored.get(eval_id)?.status).to.equal('queued'); // running → queued: a retry
    expect(jobs.get(eval_id)).to.deep.include({ eval_id, code: 'x' });
  });

  it('marks failed, and says so, what no backend keeps after the last re-queue', async () => {
    const { submitter, reconciler, ledger, jobs, stored, seen, later } = setup(1);
    const { eval_id } = await submitter.submit({ code: 'x' });
    const taken = await submitter.submit({ code: 'y' });
    // A worker took this one and wrote storage, then the backend lost it with the worker.
    stored.set(taken.eval_id, { id: taken.eval_id, status: 'queued' });
    jobs.clear();
    later();
    await reconciler.run();
    jobs.clear();
    later();
    await reconciler.run();
    expect(reconciler.figures).to.include({ requeued: 2, gave_up: 2 });
    expect((await ledger.find(eval_id))?.status).to.equal('failed');
    expect(stored.get(taken.eval_id)).to.include({ status: 'failed' }); // reads see it too
    expect(stored.get(eval_id)).to.equal(undefined);
    const failed = seen.find((e) => e.channel === 'evaluation:failed');
    expect(failed?.payload).to.include({ eval_id, failed_at: 'reconcile' });
  });

  it('starts the webhook of an evaluation found ended (its end went unheard)', async () => {
    const { submitter, reconciler, stored, later, started } = setup();
    const url = 'https://hooks.example.com/x';
    const a = await submitter.submit({ code: 'print(1)', callback_url: url }, { owner: 'team-a' });
    const b = await submitter.submit({ code: 'print(2)' });
    stored.set(a.eval_id, { id: a.eval_id, status: 'completed' });
    stored.set(b.eval_id, { id: b.eval_id, status: 'completed' });
    later();
    await reconciler.run();
    // Only the one with a callback, with what the record says in case Redis lost it.
    expect(started).to.deep.equal([{ id: a.eval_id, fallback: { url, owner: 'team-a' } }]);
  });

  it('does nothing while another gateway leads', async () => {
    const { submitter, reconciler, ledger, jobs, later } = setup();
    await submitter.submit({ code: 'x' });
    jobs.clear();
    ledger.lead = () => Promise.resolve(false);
    later();
    await reconciler.run();
    expect(reconciler.figures).to.include({ leader: false, runs: 0, checked: 0 });
    expect(jobs.size).to.equal(0);
  });
});
