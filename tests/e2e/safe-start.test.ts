import { expect } from 'chai';
import { contractViolations } from '../helpers/contract.js';
import { freePort, start, waitUntilUp } from '../helpers/process.js';
import type { Started } from '../helpers/process.js';

const exited = (p: Started): Promise<number | null> =>
  new Promise((r) =>
    p.child.exitCode !== null ? r(p.child.exitCode) : p.child.once('exit', (c) => r(c)),
  );

/** What the gateway refuses at start, and what it says when it runs without a sandbox. */
describe('starting safely: no unsandboxed execution beyond loopback, no shared internal key', function () {
  this.timeout(120_000);

  it('refuses embedded mode without a sandbox on a non-loopback HOST, saying why', async () => {
    const p = start(['npm', 'start'], {
      HOST: '0.0.0.0',
      PORT: String(await freePort()),
      EXECUTOR_SANDBOX: 'none',
      PLATFORM_QUEUE_PORT: '0',
      PLATFORM_STORAGE_PORT: '0',
      PLATFORM_EXECUTOR_PORT: '0',
    });
    expect(await exited(p)).to.equal(1);
    expect(p.output()).to.include(
      'refusing to run submitted code without a sandbox on a non-loopback address (HOST=0.0.0.0)',
    );
    expect(p.output()).to.not.match(/\n\s+at /); // no stack trace
  });

  it('refuses to serve the reference services beyond loopback with the development key', async () => {
    const p = start(['npm', 'run', 'platform'], {
      HOST: '0.0.0.0',
      PLATFORM_QUEUE_PORT: '0',
      PLATFORM_STORAGE_PORT: '0',
      PLATFORM_EXECUTOR_PORT: '0',
    });
    expect(await exited(p)).to.equal(1);
    expect(p.output()).to.include('with the development INTERNAL_API_KEY');
  });

  describe('embedded on loopback without a sandbox', () => {
    let gateway: Started;
    let base: string;
    let storagePort: number;
    before(async () => {
      const port = await freePort();
      storagePort = await freePort();
      base = `http://127.0.0.1:${port}`;
      gateway = start(['npm', 'start'], {
        PORT: String(port),
        EXECUTOR_SANDBOX: 'none',
        PLATFORM_QUEUE_PORT: '0',
        PLATFORM_STORAGE_PORT: String(storagePort),
        PLATFORM_EXECUTOR_PORT: '0',
      });
      await waitUntilUp(`${base}/health`, gateway);
    });
    after(() => gateway?.stop());

    it('runs, warning loudly at start and in /api/status', async () => {
      expect(gateway.output()).to.include('WITHOUT A SANDBOX');
      const res = await fetch(`${base}/api/status`);
      const body: any = await res.json();
      expect(
        contractViolations(
          'GET',
          '/api/status',
          res.status,
          res.headers.get('content-type') ?? '',
          body,
        ),
      ).to.deep.equal([]);
      expect(body.warnings).to.have.length(1);
      expect(body.warnings[0]).to.match(/WITHOUT A SANDBOX.*EXECUTOR_SANDBOX=none/);
    });

    it('keeps its services closed to the development key (a random key is made at start)', async () => {
      const res = await fetch(`http://127.0.0.1:${storagePort}/evaluations/running`, {
        headers: { 'x-api-key': 'dev-internal-api-key' },
      });
      expect(res.status).to.equal(401);
      // The gateway itself reaches them: its status reads storage through that key.
      await fetch(`${base}/api/eval`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ code: 'print(1)' }),
      });
      const list: any = await (await fetch(`${base}/api/evaluations`)).json();
      expect(list.total).to.be.at.least(1);
    });
  });
});
