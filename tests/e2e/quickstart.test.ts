import { expect } from 'chai';
import { contractViolations } from '../helpers/contract.js';
import { freePort, start, waitUntilUp } from '../helpers/process.js';
import type { Started } from '../helpers/process.js';
import { until } from '../helpers/services.js';

const STARTING_DONE = 'import time\nprint("Starting...")\ntime.sleep(2)\nprint("Done!")';

/**
 * README's quick start, as a newcomer runs it: `npm start` with nothing configured starts the
 * gateway with the embedded platform; everything below talks HTTP to it only.
 */
describe('quick start: npm start in embedded mode (separate process, HTTP only)', function () {
  this.timeout(120_000);
  let gateway: Started;
  let base: string;

  async function call(
    method: string,
    path: string,
    json?: unknown,
  ): Promise<{ status: number; body: any }> {
    const res = await fetch(base + path, {
      method,
      headers: json === undefined ? {} : { 'content-type': 'application/json' },
      body: json === undefined ? undefined : JSON.stringify(json),
    });
    const body = await res.json();
    expect(
      contractViolations(method, path, res.status, res.headers.get('content-type') ?? '', body),
    ).to.deep.equal([]);
    return { status: res.status, body };
  }

  async function finished(id: string, ms = 15_000): Promise<any> {
    let last: any;
    await until(async () => {
      last = (await call('GET', `/api/eval-status/${id}`)).body;
      return ['completed', 'failed', 'cancelled'].includes(last.status);
    }, ms);
    return last;
  }

  async function runningNow(id: string): Promise<void> {
    await until(
      async () => (await call('GET', `/api/eval-status/${id}`)).body.status === 'running',
      10_000,
    );
  }

  before(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    gateway = start(['npm', 'start'], {
      PORT: String(port),
      PLATFORM_QUEUE_PORT: '0',
      PLATFORM_STORAGE_PORT: '0',
      PLATFORM_EXECUTOR_PORT: '0',
    });
    await waitUntilUp(`${base}/health`, gateway);
  });
  after(() => gateway?.stop());

  it("runs the brief's example to completion with exactly its output", async () => {
    const r = await call('POST', '/api/eval', {
      code: STARTING_DONE,
      language: 'python',
      timeout: 30,
      priority: false,
    });
    expect(r.status).to.equal(202);
    const s = await finished(r.body.eval_id);
    expect(s).to.include({
      status: 'completed',
      output: 'Starting...\nDone!\n',
      success: true,
      exit_code: 0,
    });
    expect(s.runtime_ms).to.be.within(1900, 10_000);
  });

  it('answers failed with the traceback for a program that raises', async () => {
    const r = await call('POST', '/api/eval', {
      code: 'def f():\n    raise ValueError("boom")\nf()',
    });
    const s = await finished(r.body.eval_id);
    expect(s).to.include({ status: 'failed', success: false, exit_code: 1 });
    expect(s.error).to.match(/Traceback \(most recent call last\):[\s\S]*ValueError: boom/);
  });

  it('stops an infinite loop at its 2 s timeout: failed, exit code 124', async () => {
    const r = await call('POST', '/api/eval', { code: 'while True:\n    pass', timeout: 2 });
    const s = await finished(r.body.eval_id);
    expect(s).to.include({ status: 'failed', exit_code: 124, success: false });
    expect(s.runtime_ms).to.be.within(1900, 6000);
    expect(s.error).to.match(/Timed out after 2 s/);
  });

  it('cancels a running evaluation with terminate=true: recorded cancelled, nothing left to kill', async () => {
    const r = await call('POST', '/api/eval', {
      code: 'import time\nwhile True:\n    time.sleep(0.1)',
      timeout: 60,
    });
    await runningNow(r.body.eval_id);
    const c = await call('POST', `/api/eval/${r.body.eval_id}/cancel?terminate=true`);
    expect(c.body).to.include({
      status: 'cancelled',
      message: 'Task forcefully terminated',
      previous_status: 'running',
    });
    expect((await finished(r.body.eval_id, 3000)).status).to.equal('cancelled');
    const again = await call('POST', `/api/eval/${r.body.eval_id}/kill`);
    expect(again.status).to.equal(409); // nothing runs any more
  });

  it('kills a running evaluation on its executor', async () => {
    const r = await call('POST', '/api/eval', {
      code: 'import time\nwhile True:\n    time.sleep(0.1)',
      timeout: 60,
    });
    await runningNow(r.body.eval_id);
    const k = await call('POST', `/api/eval/${r.body.eval_id}/kill`);
    expect(k.status).to.equal(200);
    expect(k.body).to.include({ success: true });
    expect((await finished(r.body.eval_id, 3000)).status).to.equal('cancelled');
    expect((await call('POST', `/api/eval/${r.body.eval_id}/kill`)).status).to.equal(409);
  });

  it('lists an evaluation still waiting for a worker as queued, and cancels it from the queue', async () => {
    const sleeper = { code: 'import time\nwhile True:\n    time.sleep(0.1)', timeout: 60 };
    const busy = [
      (await call('POST', '/api/eval', sleeper)).body.eval_id,
      (await call('POST', '/api/eval', sleeper)).body.eval_id,
    ];
    for (const id of busy) await runningNow(id); // both worker slots taken
    const waiting = (await call('POST', '/api/eval', { code: 'print("later")' })).body.eval_id;
    await until(async () => {
      const list = await call('GET', '/api/evaluations?status=queued');
      return list.body.evaluations.some((e: any) => e.eval_id === waiting);
    }, 5000);
    const c = await call('POST', `/api/eval/${waiting}/cancel`);
    expect(c.body).to.include({
      message: 'Task removed from the queue and cancelled',
      previous_status: 'queued',
    });
    for (const id of busy) await call('POST', `/api/eval/${id}/cancel?terminate=true`);
  });

  it('shows its evaluations in the history and counts them in the statistics', async () => {
    // Deltas around its own submissions: whatever ran before leaves them unchanged.
    const before = (await call('GET', '/api/statistics')).body;
    const ok = (await call('POST', '/api/eval', { code: 'print("counted")' })).body.eval_id;
    const bad = (await call('POST', '/api/eval', { code: 'raise SystemExit(3)' })).body.eval_id;
    expect((await finished(ok)).status).to.equal('completed');
    expect((await finished(bad)).status).to.equal('failed');
    const list = await call('GET', '/api/evaluations?limit=100');
    const listed = list.body.evaluations.map((e: any) => e.eval_id);
    expect(listed).to.include.members([ok, bad]);
    const after = (await call('GET', '/api/statistics')).body;
    const count = (s: any, k: string): number => s.storage.by_status[k] ?? 0;
    expect(after.storage.total_evaluations - before.storage.total_evaluations).to.equal(2);
    expect(count(after, 'completed') - count(before, 'completed')).to.equal(1);
    expect(count(after, 'failed') - count(before, 'failed')).to.equal(1);
    expect(after.gateway.submissions.legacy - before.gateway.submissions.legacy).to.equal(2);
  });

  it('reports every service of the embedded platform healthy', async () => {
    await until(async () => (await call('GET', '/api/status')).body.status === 'healthy', 10_000);
    expect((await call('GET', '/readyz')).status).to.equal(200);
  });
});
