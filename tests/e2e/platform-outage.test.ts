import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { projectRoot } from '../../lib/paths.js';
import { freePort, start, waitUntilUp } from '../helpers/process.js';
import type { Started } from '../helpers/process.js';
import {
  DATABASE_URL,
  REDIS_URL,
  dropRedisPrefix,
  dropSchema,
  sleep,
  uniqueName,
  until,
} from '../helpers/services.js';

const TERMINAL = ['completed', 'failed', 'cancelled'];

/**
 * The reference platform (legacy queue, storage, a worker) as a process of its own behind the
 * gateway, SIGKILLed for 10 s and started again: what the gateway says while it is gone
 * and once it is back, and that every evaluation answered 202 still ends — those the legacy
 * queue lost from its memory included.
 */
describe('the platform killed and started again behind the gateway', function () {
  this.timeout(180_000);
  const prefix = uniqueName('bull');
  const schemas = [uniqueName('gw'), uniqueName('platform')];
  const key = 'outage-test-key';
  let platform: Started;
  let platformEnv: Record<string, string>;
  let gateway: Started;
  let base: string;
  let storageUrl: string;

  const startPlatform = async (): Promise<void> => {
    platform = start(['node', 'dist/platform/main.js'], platformEnv);
    await waitUntilUp(`${storageUrl}/health`, platform);
  };

  before(async () => {
    const built = spawnSync('npm', ['run', '-s', 'build'], { cwd: projectRoot, encoding: 'utf8' });
    expect(built.status, built.stderr).to.equal(0);
    const [port, queuePort, storagePort, executorPort] = await Promise.all(
      [1, 2, 3, 4].map(() => freePort()),
    );
    base = `http://127.0.0.1:${port}`;
    storageUrl = `http://127.0.0.1:${storagePort}`;
    const shared = {
      REDIS_URL,
      DATABASE_URL,
      CELERY_ENABLED: 'true',
      BULL_PREFIX: prefix,
      INTERNAL_API_KEY: key,
      LOG_LEVEL: 'error',
    };
    platformEnv = {
      ...shared,
      HOST: '127.0.0.1',
      PLATFORM_QUEUE_PORT: String(queuePort),
      PLATFORM_STORAGE_PORT: String(storagePort),
      PLATFORM_EXECUTOR_PORT: String(executorPort),
      PLATFORM_SCHEMA: schemas[1]!,
      WORKER_LOCK_MS: '2000',
    };
    await startPlatform();
    gateway = start(['node', 'dist/server/main.js'], {
      ...shared,
      PORT: String(port),
      QUEUE_SERVICE_URL: `http://127.0.0.1:${queuePort}`,
      STORAGE_SERVICE_URL: storageUrl,
      CELERY_PERCENTAGE: '0.5',
      DATABASE_SCHEMA: schemas[0]!,
      RECONCILE_GRACE_MS: '2000',
      RECONCILE_INTERVAL_MS: '500',
      DOWNSTREAM_TIMEOUT_MS: '1000',
      // No background round after the first: only real calls and recovery probes can tell.
      HEALTH_INTERVAL_MS: '600000',
      HEALTH_GRACE_MS: '0',
    });
    await waitUntilUp(`${base}/health`, gateway);
    await until(async () => (await fetch(`${base}/readyz`)).status === 200, 10_000);
  });

  after(async () => {
    await gateway?.stop();
    await platform?.stop();
    await dropRedisPrefix(prefix);
    for (const s of schemas) await dropSchema(s);
  });

  const submit = async (i: number): Promise<{ status: number; eval_id: string }> => {
    const res = await fetch(`${base}/api/eval`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: `import time\ntime.sleep(0.2)\nprint(${i})` }),
    });
    const { eval_id } = (await res.json()) as { eval_id: string };
    return { status: res.status, eval_id };
  };
  const readiness = async (): Promise<number> => (await fetch(`${base}/readyz`)).status;

  it('accepts submits while it is down, answers reads 503 with Retry-After, recovers by itself, loses nothing', async () => {
    const before = await Promise.all(Array.from({ length: 20 }, (_, i) => submit(i)));
    expect(before.map((r) => r.status)).to.deep.equal(before.map(() => 202));

    await platform.crash();
    const down = Date.now();
    // The next real call finds storage gone; readiness says so at once, not at the next round.
    const read = await fetch(`${base}/api/eval-status/${before[0]!.eval_id}`);
    expect(read.status).to.equal(503);
    expect(read.headers.get('retry-after')).to.match(/^\d+$/);
    await until(async () => (await readiness()) === 503, 2_000);
    const detected = Date.now() - down;

    const during = await Promise.all(Array.from({ length: 20 }, (_, i) => submit(100 + i)));
    expect(during.map((r) => r.status)).to.deep.equal(during.map(() => 202)); // Bull took them
    await sleep(Math.max(0, 10_000 - (Date.now() - down))); // down for 10 s

    await startPlatform();
    const up = Date.now();
    await until(async () => (await readiness()) === 200, 2_000);
    const recovered = Date.now() - up;

    const ids = [...before, ...during].map((r) => r.eval_id);
    const statuses = new Map<string, string>();
    await until(async () => {
      for (const id of ids) {
        if (TERMINAL.includes(statuses.get(id) ?? '')) continue;
        const r = await fetch(`${base}/api/eval-status/${id}`);
        if (r.ok) statuses.set(id, ((await r.json()) as { status: string }).status);
      }
      return ids.every((id) => TERMINAL.includes(statuses.get(id) ?? ''));
    }, 120_000);
    expect([...statuses.values()].filter((s) => s !== 'completed')).to.deep.equal([]);
    const stats = (await (await fetch(`${base}/api/statistics`)).json()) as {
      gateway: { reconciler: { requeued: number } };
    };
    console.log(
      `      down ${Date.now() - down} ms in all; not ready ${detected} ms after the kill, ready ${recovered} ms after the restart; ` +
        `${ids.length} accepted, all completed, ${stats.gateway.reconciler.requeued} queued again`,
    );
  });
});
