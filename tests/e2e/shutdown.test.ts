import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { projectRoot } from '../../lib/paths.js';
import { freePort, start, waitUntilUp } from '../helpers/process.js';
import type { Started } from '../helpers/process.js';
import { sleep } from '../helpers/services.js';
import { connect } from '../helpers/ws-client.js';

/**
 * SIGTERM under load, as an orchestrator stops a gateway: clients on kept-alive connections keep
 * reading statuses and submitting while the signal arrives. What reached the gateway is answered,
 * connections are told to close, and the process exits well within its bound.
 */
describe('SIGTERM under load: a graceful stop', function () {
  // Clients on kept-alive connections and a WebSocket watcher.
  this.timeout(120_000);
  let gateway: Started;
  let base: string;

  before(async () => {
    const built = spawnSync('npm', ['run', '-s', 'build'], { cwd: projectRoot, encoding: 'utf8' });
    expect(built.status, built.stderr).to.equal(0);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    gateway = start(['node', 'dist/server/main.js'], {
      PORT: String(port),
      PLATFORM_QUEUE_PORT: '0',
      PLATFORM_STORAGE_PORT: '0',
      PLATFORM_EXECUTOR_PORT: '0',
      SHUTDOWN_TIMEOUT_MS: '5000',
      LOG_LEVEL: 'info',
    });
    await waitUntilUp(`${base}/health`, gateway);
  });

  after(() => gateway?.stop());

  it('answers every request that reached it, closes its connections, and exits in time', async () => {
    const first = await fetch(`${base}/api/eval`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: 'print(1)' }),
    });
    const { eval_id } = (await first.json()) as { eval_id: string };
    const statuses = new Map<number, number>();
    const failures = new Map<string, number>();
    let closeHeaders = 0;
    let stopping = false;
    const client = async (n: number): Promise<void> => {
      for (let i = 0; !stopping || i % 50 !== 0; i++) {
        try {
          const res =
            n % 4 === 0
              ? await fetch(`${base}/api/eval`, {
                  method: 'POST',
                  headers: { 'content-type': 'application/json' },
                  body: JSON.stringify({ code: `print(${i})` }),
                })
              : await fetch(`${base}/api/eval-status/${eval_id}`);
          await res.arrayBuffer();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.headers.get('connection') === 'close') closeHeaders++;
        } catch (err) {
          // A connection refused never reached the gateway: it had stopped listening.
          const code = String((err as { cause?: { code?: string } }).cause?.code ?? err);
          failures.set(code, (failures.get(code) ?? 0) + 1);
          if (code === 'ECONNREFUSED') return;
        }
      }
    };
    const watcher = await connect(`${base.replace('http', 'ws')}/ws`);
    const clients = Array.from({ length: 16 }, (_, n) => client(n));
    await sleep(1_000);
    const exited = new Promise<number | null>((r) => gateway.child.once('exit', (c) => r(c)));
    const signalled = Date.now();
    process.kill(gateway.child.pid!, 'SIGTERM');
    const code = await exited;
    const took = Date.now() - signalled;
    stopping = true;
    await Promise.all(clients);

    expect(code, gateway.output()).to.equal(0);
    expect(took).to.be.below(5_000); // its bound; under load it stops as soon as requests end
    const served = [...statuses.entries()];
    expect(
      served.filter(([s]) => s >= 500),
      JSON.stringify(served),
    ).to.deep.equal([]);
    // Only refusals after the listener closed; no request cut in the middle.
    expect([...failures.keys()].filter((k) => k !== 'ECONNREFUSED')).to.deep.equal([]);
    expect(closeHeaders).to.be.greaterThan(0); // kept-alive connections were told to close
    expect(await watcher.closed).to.deep.equal({ code: 1001, reason: 'gateway shutting down' });
    console.log(
      `      stopped ${took} ms after SIGTERM; answers ${JSON.stringify(Object.fromEntries(statuses))}, ` +
        `${closeHeaders} with Connection: close, refused afterwards ${failures.get('ECONNREFUSED') ?? 0}`,
    );
  });
});
