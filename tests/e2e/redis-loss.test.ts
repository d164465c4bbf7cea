import { expect } from 'chai';
import { OwnRedis } from '../helpers/own-redis.js';
import { freePort, start, waitUntilUp } from '../helpers/process.js';
import type { Started } from '../helpers/process.js';
import { DATABASE_URL, dropSchema, sleep, uniqueName, until } from '../helpers/services.js';

const SUBMISSIONS = 500;
const TERMINAL = ['completed', 'failed', 'cancelled'];

/**
 * A 202 is a promise. The gateway (embedded platform, PostgreSQL record) splits submissions
 * 50/50 between the legacy queue and Bull on a Redis of the test's own, which is killed in the
 * middle of 500 submissions and started again empty — as a Redis without persistence restarts.
 * Every evaluation answered 202 must still end.
 */
describe('Redis lost in the middle of submissions: nothing accepted is lost', function () {
  this.timeout(240_000);
  let redis: OwnRedis;
  let gateway: Started;
  let base: string;
  const schemas = [uniqueName('gw'), uniqueName('platform')];

  before(async () => {
    redis = await OwnRedis.start();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    gateway = start(['npm', 'start'], {
      PORT: String(port),
      PLATFORM_QUEUE_PORT: '0',
      PLATFORM_STORAGE_PORT: '0',
      PLATFORM_EXECUTOR_PORT: '0',
      REDIS_URL: redis.url,
      DATABASE_URL,
      DATABASE_SCHEMA: schemas[0],
      PLATFORM_SCHEMA: schemas[1],
      CELERY_ENABLED: 'true',
      CELERY_PERCENTAGE: '0.5',
      // One evaluation at a time per backend, so that Bull holds a backlog when Redis dies.
      WORKER_CONCURRENCY: '1',
      RECONCILE_GRACE_MS: '2000',
      RECONCILE_INTERVAL_MS: '500',
      LOG_LEVEL: 'error',
    });
    await waitUntilUp(`${base}/health`, gateway);
  });

  after(async () => {
    await gateway?.stop();
    await redis?.kill();
    for (const s of schemas) await dropSchema(s);
  });

  it('ends every evaluation answered 202, queueing again what Redis lost', async () => {
    const accepted: string[] = [];
    const backends = { legacy: 0, bull: 0, fallback: 0 };
    let refused = 0;
    const submit = async (i: number): Promise<void> => {
      const res = await fetch(`${base}/api/eval`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ code: `print(${i})` }),
      });
      const body = (await res.json()) as {
        eval_id: string;
        backend: 'legacy' | 'bull';
        fallback: boolean;
      };
      if (res.status !== 202) {
        refused++;
        return;
      }
      accepted.push(body.eval_id);
      backends[body.backend]++;
      if (body.fallback) backends.fallback++;
    };
    const pending: Promise<void>[] = [];
    for (let i = 0; i < SUBMISSIONS; i++) {
      if (i === SUBMISSIONS / 4) await redis.kill();
      if (i === SUBMISSIONS / 2) await redis.restart(); // empty: every Bull job is gone
      pending.push(submit(i));
      await sleep(10);
    }
    await Promise.all(pending);
    expect(refused).to.equal(0);
    expect(backends.bull).to.be.greaterThan(0);
    expect(backends.fallback).to.be.greaterThan(0); // Bull refused while Redis was down

    const statuses = new Map<string, string>();
    await until(async () => {
      for (const id of accepted) {
        if (TERMINAL.includes(statuses.get(id) ?? '')) continue;
        const r = await fetch(`${base}/api/eval-status/${id}`);
        statuses.set(id, ((await r.json()) as { status: string }).status);
      }
      return accepted.every((id) => TERMINAL.includes(statuses.get(id)!));
    }, 180_000);
    const ended = [...statuses.values()];
    expect(ended.filter((s) => s !== 'completed')).to.deep.equal([]);
    const stats = (await (await fetch(`${base}/api/statistics`)).json()) as {
      gateway: { reconciler: { requeued: number; gave_up: number }; events_dropped: number };
    };
    // Redis came back empty with Bull's backlog gone: only the reconciler can have ended those.
    expect(stats.gateway.reconciler.requeued).to.be.greaterThan(0);
    expect(stats.gateway.reconciler.gave_up).to.equal(0);
    console.log(
      `      ${accepted.length} accepted (${backends.legacy} legacy, ${backends.bull} bull, ${backends.fallback} fell back), ` +
        `${stats.gateway.reconciler.requeued} queued again, ${stats.gateway.events_dropped} events dropped`,
    );
  });
});
