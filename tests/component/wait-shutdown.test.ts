import { expect } from 'chai';
import nock from 'nock';
import { QUEUE, STORAGE, isolate, startGateway } from '../helpers/harness.js';

/** A request waiting for an evaluation (Prefer: wait=N) does not hold a graceful stop. */
describe('Prefer: wait at shutdown', () => {
  isolate();

  it('answers a waiting submit with its 202 when the gateway stops', async () => {
    const gw = await startGateway();
    nock(QUEUE)
      .post('/tasks')
      .reply(200, (_u, b: any) => ({ eval_id: b.eval_id, status: 'queued', position: 0 }));
    nock(STORAGE)
      .get(/\/evaluations\/eval_/)
      .reply(404, { detail: 'Not Found' }); // not in storage yet: the gateway's record says queued
    const answer = gw.call('POST', '/api/eval', {
      json: { code: 'print(1)' },
      headers: { prefer: 'wait=60' },
    });
    await new Promise((r) => setTimeout(r, 300)); // the submit is in, waiting
    // Without the wake-up the request would still wait when the 2 s bound cuts it.
    await Promise.all([gw.app.close(2_000), answer]);
    const r = await answer;
    expect(r.status).to.equal(202);
    expect(r.headers.get('preference-applied')).to.equal('wait=60');
    await gw.close().catch(() => undefined);
  });
});
