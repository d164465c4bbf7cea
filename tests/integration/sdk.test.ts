import { expect } from 'chai';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { rmSync } from 'node:fs';
import WebSocket from 'ws';
import { Crucible, CrucibleProblem } from '../../sdk/src/index.js';
import type { WebSocketLike } from '../../sdk/src/index.js';
import type { Gateway } from '../../server/compose.js';
import { startEmbedded } from '../helpers/embedded.js';

const run = promisify(execFile);

/** The SDK (sdk/) against a live embedded gateway, as an application would use it. */
describe('the SDK (sdk/): submit, wait, stream output, typed problems', function () {
  this.timeout(60_000);
  let gateway: Gateway;
  let base: string;
  before(async () => {
    ({ gateway, base } = await startEmbedded());
  });
  after(() => gateway?.close());

  it('runs code and answers the finished evaluation, waiting at the gateway (no WebSocket)', async () => {
    const crucible = new Crucible({ baseUrl: base });
    const done = await crucible.run({ code: 'import time\ntime.sleep(1)\nprint("sdk")' });
    expect(done).to.include({ status: 'completed', output: 'sdk\n', exit_code: 0 });
  });

  it('waits over the WebSocket when it has one', async () => {
    let opened = 0;
    class Counted extends WebSocket {
      constructor(url: string) {
        super(url);
        opened++;
      }
    }
    // Status reads that wait at the gateway: the fallback, which the WebSocket makes needless.
    let waitingReads = 0;
    const counting: typeof fetch = (input, init) => {
      const prefer =
        input instanceof Request
          ? input.headers.get('prefer')
          : new Headers(init?.headers).get('prefer');
      if (prefer) waitingReads++;
      return fetch(input, init);
    };
    const crucible = new Crucible({
      baseUrl: base,
      fetch: counting,
      WebSocket: Counted as unknown as new (url: string) => WebSocketLike,
    });
    const { eval_id } = await crucible.submit({
      code: 'import time\ntime.sleep(0.5)\nprint(2 + 2)',
    });
    const done = await crucible.wait(eval_id);
    expect(done).to.include({ eval_id, status: 'completed', output: '4\n' });
    expect(opened).to.equal(1);
    expect(waitingReads).to.equal(0);
  });

  it('streams the output as it is printed, then the end', async () => {
    const crucible = new Crucible({ baseUrl: base });
    const code = 'import time\nfor i in range(3):\n    print(i, flush=True)\n    time.sleep(0.4)';
    const { eval_id } = await crucible.submit({ code });
    const seen: string[] = [];
    let printed = '';
    for await (const e of crucible.events(eval_id)) {
      seen.push(e.event);
      if (e.event === 'output') printed += e.data.data;
      if (e.event === 'end') expect(e.data.output).to.equal('0\n1\n2\n');
    }
    expect(printed).to.equal('0\n1\n2\n');
    expect(seen[0]).to.equal('status');
    expect(seen.at(-1)).to.equal('end');
    expect(seen.indexOf('output')).to.be.lessThan(seen.indexOf('end'));
  });

  it('throws a typed problem for an answer that is not a success', async () => {
    const crucible = new Crucible({ baseUrl: base });
    const err = await crucible.submit({ code: ' ' }).then(
      () => expect.fail('a blank submission was accepted'),
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(CrucibleProblem);
    const p = err as CrucibleProblem;
    expect(p).to.include({ status: 422, code: 'GW_ERR_VALIDATION' });
    expect(p.errors[0]).to.include({ pointer: '/code', message: 'must not be blank' });
    const missing = await crucible.status('eval_nope').catch((e: CrucibleProblem) => e);
    expect(missing).to.include({ status: 404, code: 'GW_ERR_EVALUATION_NOT_FOUND' });
  });

  it('builds as a package that plain Node imports (no TypeScript at run time)', async () => {
    const out = 'sdk/.test-dist';
    rmSync(out, { recursive: true, force: true });
    const tsc = spawnSync(
      process.execPath,
      ['node_modules/typescript/bin/tsc', '-p', 'sdk/tsconfig.json', '--outDir', out],
      {
        encoding: 'utf8',
      },
    );
    expect(tsc.status, tsc.stdout + tsc.stderr).to.equal(0);
    try {
      const script = `import { Crucible } from './${out}/index.js';
        const r = await new Crucible({ baseUrl: process.argv[1] }).run({ code: 'print(6 * 7)' });
        console.log(r.status, JSON.stringify(r.output));`;
      // Not spawnSync: the gateway answering it runs in this process.
      const ran = await run(process.execPath, ['--input-type=module', '-e', script, base], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(ran.stderr).to.equal('');
      expect(ran.stdout.trim()).to.equal('completed "42\\n"');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
