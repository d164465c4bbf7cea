import { expect } from 'chai';
import { freePort, start, waitUntilUp } from '../helpers/process.js';
import type { Started } from '../helpers/process.js';
import {
  DATABASE_URL,
  REDIS_URL,
  dropRedisPrefix,
  dropSchema,
  uniqueName,
  until,
} from '../helpers/services.js';

/**
 * The platform scaled out: the gateway (embedded services) on the real Redis and PostgreSQL,
 * half the traffic on the job queue, and two more workers as separate processes, as
 * `npm run worker` starts them on other machines.
 */
describe('scale-out: Redis, PostgreSQL, 50/50 split and two worker processes', function () {
  this.timeout(180_000);
  const procs: Started[] = [];
  const workers = new Map<string, Started>();
  const prefix = uniqueName('bull');
  const schemas = [uniqueName('gw'), uniqueName('platform')];
  let base: string;

  before(async () => {
    const [port, queuePort, storagePort, embeddedExecutorPort] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    base = `http://127.0.0.1:${port}`;
    const shared = {
      REDIS_URL,
      DATABASE_URL,
      CELERY_ENABLED: 'true',
      BULL_PREFIX: prefix,
      DATABASE_SCHEMA: schemas[0],
      PLATFORM_SCHEMA: schemas[1],
      LOG_LEVEL: 'warning',
      // Short enough that the crash test sees abandoned work return within seconds.
      WORKER_LOCK_MS: '2000',
      QUEUE_LEASE_GRACE_MS: '1000',
      // Workers joining an embedded platform need its key; without one it makes a random key.
      INTERNAL_API_KEY: 'scale-out-test-key',
    };
    const gateway = start(['npm', 'start'], {
      ...shared,
      PORT: String(port),
      CELERY_PERCENTAGE: '0.5',
      PLATFORM_QUEUE_PORT: String(queuePort),
      PLATFORM_STORAGE_PORT: String(storagePort),
      PLATFORM_EXECUTOR_PORT: String(embeddedExecutorPort),
      EXECUTOR_ID: 'embedded',
      WORKER_CONCURRENCY: '1',
    });
    procs.push(gateway);
    await waitUntilUp(`${base}/health`, gateway); // also built dist/ for the workers
    for (const name of ['worker-a', 'worker-b']) {
      const executorPort = await freePort();
      const worker = start(['node', 'dist/platform/worker-main.js'], {
        ...shared,
        QUEUE_SERVICE_URL: `http://127.0.0.1:${queuePort}`,
        STORAGE_SERVICE_URL: `http://127.0.0.1:${storagePort}`,
        EXECUTOR_ID: name,
        HOST: '127.0.0.1',
        PLATFORM_EXECUTOR_PORT: String(executorPort),
        WORKER_CONCURRENCY: '2',
      });
      procs.push(worker);
      workers.set(name, worker);
      await waitUntilUp(`http://127.0.0.1:${executorPort}/health`, worker);
    }
  });

  after(async () => {
    for (const p of procs.reverse()) await p.stop();
    await dropRedisPrefix(prefix);
    for (const s of schemas) await dropSchema(s);
  });

  it('completes all 50 evaluations, both backends and both worker processes taking some', async () => {
    const evaluations = Array.from({ length: 50 }, (_, i) => ({
      code: `import time\ntime.sleep(0.2)\nprint(${i})`,
    }));
    const res = await fetch(`${base}/api/eval-batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ evaluations }),
    });
    const batch = (await res.json()) as {
      queued: number;
      evaluations: { eval_id: string; backend: string }[];
    };
    expect(batch.queued).to.equal(50);
    const backends = batch.evaluations.map((e) => e.backend);
    expect(backends).to.include('bull').and.to.include('legacy');

    const finals = new Map<string, any>();
    await until(async () => {
      for (const e of batch.evaluations) {
        if (finals.has(e.eval_id)) continue;
        const s = (await (await fetch(`${base}/api/eval-status/${e.eval_id}`)).json()) as any;
        if (['completed', 'failed', 'cancelled'].includes(s.status)) finals.set(e.eval_id, s);
      }
      return finals.size === 50;
    }, 90_000);

    batch.evaluations.forEach((e, i) => {
      expect(finals.get(e.eval_id), e.eval_id).to.include({
        status: 'completed',
        output: `${i}\n`,
        success: true,
      });
    });
    const ranOn = new Set([...finals.values()].map((s) => s.executor_id));
    expect(ranOn).to.include('worker-a').and.to.include('worker-b');

    const stats = (await (await fetch(`${base}/api/statistics`)).json()) as any;
    expect(stats.storage.by_status.completed).to.equal(50);
    expect(stats.storage.storage_info.backend).to.equal('postgresql');
  });

  it('loses nothing when a worker dies mid-evaluation: another worker finishes its work', async () => {
    const code = 'import time\ntime.sleep(3)\nprint("survived")';
    const res = await fetch(`${base}/api/eval-batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        evaluations: Array.from({ length: 8 }, () => ({ code, timeout: 10 })),
      }),
    });
    const ids = ((await res.json()) as { evaluations: { eval_id: string }[] }).evaluations.map(
      (e) => e.eval_id,
    );
    const status = async (id: string): Promise<any> =>
      (await fetch(`${base}/api/eval-status/${id}`)).json();
    let orphaned: string[] = [];
    await until(async () => {
      const all = await Promise.all(ids.map(status));
      orphaned = all
        .filter((s) => s.executor_id === 'worker-a' && s.status === 'running')
        .map((s) => s.eval_id);
      return orphaned.length > 0;
    }, 30_000);
    await workers.get('worker-a')!.crash();

    const finals = new Map<string, any>();
    await until(async () => {
      for (const id of ids) {
        if (finals.has(id)) continue;
        const s = await status(id);
        if (['completed', 'failed', 'cancelled'].includes(s.status)) finals.set(id, s);
      }
      return finals.size === ids.length;
    }, 90_000);
    for (const id of ids)
      expect(finals.get(id), id).to.include({ status: 'completed', output: 'survived\n' });
    for (const id of orphaned) expect(finals.get(id).executor_id, id).not.to.equal('worker-a');
  });
});
