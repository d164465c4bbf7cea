import { expect } from 'chai';
import type { Gateway } from '../../server/compose.js';
import { contractViolations } from '../helpers/contract.js';
import { until } from '../helpers/services.js';
import { startEmbedded } from '../helpers/embedded.js';

/** `Prefer: wait=N` and `Location` against the embedded platform: real runs, real timing. */
describe('waiting for the result (Prefer: wait=N, RFC 7240)', function () {
  this.timeout(60_000);
  let gateway: Gateway;
  let base: string;
  before(async () => {
    ({ gateway, base } = await startEmbedded());
  });
  after(() => gateway?.close());

  const call = async (
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: unknown,
  ) => {
    const r = await fetch(base + path, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await r.json()) as any;
    const type = r.headers.get('content-type') ?? '';
    expect(contractViolations(method, path, r.status, type, json)).to.deep.equal([]);
    return { status: r.status, headers: r.headers, body: json };
  };

  it('answers a submit with the finished result when it ends in time', async () => {
    const r = await call('POST', '/api/eval', { prefer: 'wait=20' }, { code: 'print("hi")' });
    expect(r.status).to.equal(200);
    expect(r.body).to.include({ status: 'completed', output: 'hi\n', exit_code: 0 });
    expect(r.headers.get('preference-applied')).to.equal('wait=20');
    expect(r.headers.get('location')).to.equal(`/api/eval-status/${r.body.eval_id}`);
  });

  it("points a batch's 202 at its status resource, which lists every item in order", async () => {
    const evaluations = [{ code: 'print(1)' }, { code: 'import time\ntime.sleep(1)\nprint(2)' }];
    const r = await call('POST', '/api/eval-batch', {}, { evaluations });
    expect(r.status).to.equal(202);
    const location = r.headers.get('location')!;
    expect(location).to.equal(`/api/eval-batch/${r.body.batch_id}`);
    const first = await call('GET', location, {});
    expect(first.body).to.include({ batch_id: r.body.batch_id, total: 2 });
    expect(first.body.evaluations.map((e: any) => e.eval_id)).to.deep.equal(
      r.body.evaluations.map((e: any) => e.eval_id),
    );
    let now: any;
    await until(async () => (now = (await call('GET', location, {})).body).ended === 2, 15_000);
    expect(now.evaluations.map((e: any) => e.output)).to.deep.equal(['1\n', '2\n']);
    expect(
      (await call('GET', '/api/eval-batch/batch_000000000000000000000000', {})).status,
    ).to.equal(404);
  });

  it('answers 202 once the wait is over, and a status read waits for the end', async () => {
    const slow = 'import time\ntime.sleep(2)\nprint("late")';
    const r = await call('POST', '/api/eval', { prefer: 'wait=1' }, { code: slow });
    expect(r.status).to.equal(202);
    expect(r.headers.get('preference-applied')).to.equal('wait=1');
    const location = r.headers.get('location')!;
    const read = await call('GET', location, { prefer: 'wait=30' });
    expect(read.status).to.equal(200);
    expect(read.body).to.include({ status: 'completed', output: 'late\n' });
    expect(read.headers.get('preference-applied')).to.equal('wait=30');
  });

  it('shows the output so far while it runs, and keeps it when the run is cancelled', async () => {
    const code = 'import time\nprint("first", flush=True)\ntime.sleep(30)\nprint("never")';
    const r = await call('POST', '/api/eval', {}, { code, timeout: 60 });
    const location = r.headers.get('location')!;
    let seen: any;
    await until(async () => {
      seen = (await call('GET', location, {})).body;
      return seen.status === 'running' && seen.output === 'first\n';
    }, 15_000);
    const cancel = await call('POST', `/api/eval/${r.body.eval_id}/cancel?terminate=true`, {});
    expect(cancel.status).to.equal(200);
    let after: any;
    await until(async () => {
      after = (await call('GET', location, {})).body;
      return after.output === 'first\n';
    }, 15_000);
    expect(after).to.include({ status: 'cancelled', output: 'first\n' });
  });

  it('keeps what a run printed just before it was killed (before any progress write)', async () => {
    const code = 'import time\nprint("quick", flush=True)\ntime.sleep(30)';
    const r = await call('POST', '/api/eval', {}, { code, timeout: 60 });
    const location = r.headers.get('location')!;
    await until(async () => (await call('GET', location, {})).body.status === 'running', 15_000);
    await new Promise((done) => setTimeout(done, 400)); // printed; the first progress write is at 1 s
    const kill = await call('POST', `/api/eval/${r.body.eval_id}/cancel?terminate=true`, {});
    expect(kill.status).to.equal(200);
    let after: any;
    await until(async () => {
      after = (await call('GET', location, {})).body;
      return after.output === 'quick\n';
    }, 15_000);
    expect(after.status).to.equal('cancelled');
  });

  it('reports what the kernel measured: a program that sleeps 1 s vs one that spins 1 s', async () => {
    const [sleeps, spins] = await Promise.all(
      [
        'import time\ntime.sleep(1)',
        'import time\nwhile time.process_time() < 1: pass', // a second of its own CPU
      ].map((code) => call('POST', '/api/eval', { prefer: 'wait=30' }, { code })),
    );
    for (const r of [sleeps!, spins!]) {
      expect(r.status).to.equal(200);
      expect(r.body.resources.wall_time_ms).to.be.at.least(1000);
      expect(r.body.resources.exit_signal).to.equal(null);
    }
    const counted =
      gateway.deps.config.worker.sandbox !== 'none' && sleeps!.body.resources.cpu_time_ms !== null;
    if (counted) {
      expect(sleeps!.body.resources.cpu_time_ms).to.be.below(500);
      expect(spins!.body.resources.cpu_time_ms).to.be.at.least(1000);
      expect(spins!.body.resources.max_memory_kb).to.be.above(1000); // an interpreter's worth
    }
    expect(counted, 'this machine counts CPU time per run (control groups)').to.equal(true);
  });

  it('runs the program with its arguments and its input', async () => {
    const code = 'import sys\nprint(" ".join(sys.argv[1:]), sys.stdin.read().strip())';
    const r = await call(
      'POST',
      '/api/eval',
      { prefer: 'wait=20' },
      { code, args: ['hello', 'to you'], stdin: 'and more\n' },
    );
    expect(r.body).to.include({ status: 'completed', output: 'hello to you and more\n' });
  });

  it('lists its languages with the runtime version its executor reports', async () => {
    const r = await call('GET', '/api/languages', {});
    expect(r.status).to.equal(200);
    const python = r.body.languages.find((l: { name: string }) => l.name === 'python');
    expect(python.executors).to.equal(1); // the embedded platform's
    expect(python.versions[0]).to.match(/^3\.\d+\.\d+$/);
    expect(r.body.limits).to.include({ timeout_max_s: 300, memory_mb: 512 });
  });

  it('carries Location on every 202, and waits for nothing without Prefer', async () => {
    const r = await call('POST', '/api/eval', {}, { code: 'print(1)' });
    expect(r.status).to.equal(202);
    expect(r.headers.get('location')).to.equal(`/api/eval-status/${r.body.eval_id}`);
    expect(r.headers.get('preference-applied')).to.equal(null);
  });
});
